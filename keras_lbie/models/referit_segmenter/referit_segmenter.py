import copy
import os

import keras
import numpy as np

from keras_lbie.models.image_segmenter import ImageSegmenter
from keras_lbie.models.referit_segmenter.referit_image_encoders import (
    conv_image_encoder,
)
from keras_lbie.models.referit_segmenter.referit_segmenter_backbone import (
    ReferItSegmenterBackbone,
)
from keras_lbie.models.referit_segmenter.referit_segmenter_presets import (
    PRESETS,
)
from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary
from keras_lbie.utils.validation import check_positive_int


@keras.saving.register_keras_serializable(package="keras_lbie")
class ReferItSegmenter(ImageSegmenter):
    """Referring-expression segmentation from raw images and raw text.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018, Section 4.2 (ReferIt). A functional model in the
    keras-hub task style: a `ReferItTokenizer` turns each expression into
    word ids inside the graph (text_objseg's rules: 20 words, left-padded,
    longer expressions **truncated**, unknown words `<unk>`), and a
    `ReferItSegmenterBackbone` maps the image and the ids to per-pixel
    logits of background (0) and the referred object (1). Saved and
    exported models therefore take raw strings.

    Build it from a preset (`ReferItSegmenter.available_presets()`) and the data
    set's vocabulary:

        segmenter = ReferItSegmenter.from_preset(
            "referit_paper", vocabulary="referit/vocabulary_referit.txt")

    or from its parts, `ReferItSegmenter(backbone, tokenizer)`.

    Training: as for `LBIESegmenter`, train `segmenter.backbone` on a
    tokenized `tf.data` pipeline (`segmenter.tokenize_dataset(dataset)`,
    e.g. of `keras_lbie.datasets.referit.as_dataset`), so the step can be
    XLA-compiled and distributed; the segmenter shares its weights.

    Args:
        backbone: a `ReferItSegmenterBackbone`.
        tokenizer: a `ReferItTokenizer` with the backbone's
            `vocabulary_size` and `sequence_length`.
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image"` `(batch, image_size, image_size, 3)` RGB
        pixel values in [0, 255] whatever the dtype, already resized and
        padded to the model's size (`referit.as_dataset` does it; nothing
        is resized here: another size is an error), and `"text"`, one
        expression per image (a list of str, a string tensor `(batch,)`,
        ...; see `LBIESegmenter`).

    Outputs:
        The logits `(batch, image_size, image_size, 2)`; the object mask is
        `logits[..., 1] > logits[..., 0]`.

    Example:
    >>> segmenter = ReferItSegmenter.from_preset(
    ...     "referit_small", vocabulary=["<pad>", "<unk>", "the", "circle"])
    >>> images = np.zeros((2, 128, 128, 3), "uint8")
    >>> segmenter({"image": images, "text": ["the circle", "circle"]}).shape
    TensorShape([2, 128, 128, 2])
    >>> segmenter.segment(images, ["the circle", "circle"]).shape
    (2, 128, 128)
    """

    backbone_class = ReferItSegmenterBackbone
    tokenizer_class = ReferItTokenizer
    tokenizer_arguments = ("sequence_length",)
    presets = PRESETS
    preset_name_prefix = "referit_segmenter"

    @classmethod
    def from_preset(cls, preset, vocabulary, **overrides):
        """Builds a randomly initialised segmenter from a named configuration.

        Args:
            preset: str, a name from `ReferItSegmenter.available_presets()`.
            vocabulary: the data set's words: a list of str (index = id,
                starting `<pad>`, holding `<unk>`) or the path of a
                vocabulary file (`load_vocabulary`), e.g. the
                `vocabulary_referit.txt` of the ReferIt release or of a
                `referit.write_referit_format` folder.
            **overrides: `ReferItSegmenterBackbone` arguments replacing the
                preset's, e.g. `encoder_weights="imagenet"` or `max_steps=1`;
                `sequence_length` also sets the tokenizer's. For presets
                with a small convolutional encoder also `encoder_filters`
                and `pool_every` (`conv_image_encoder`). `vocabulary_size`
                comes from the vocabulary.

        Returns:
            A `ReferItSegmenter`.

        Raises:
            ValueError: unknown preset or override name, bad vocabulary.
            TypeError, FileNotFoundError: bad vocabulary argument or file.
        """
        return cls.build_from_preset(preset, vocabulary=vocabulary, **overrides)

    @classmethod
    def overridable(cls, entry):
        # A small convolutional encoder's arguments, besides the backbone's.
        return set(entry["config"]) | set(entry["encoder"] or ())

    @classmethod
    def preset_vocabulary(cls, entry, vocabulary):
        if isinstance(vocabulary, (str, os.PathLike)):
            return load_vocabulary(vocabulary)
        return vocabulary

    @classmethod
    def preset_backbone(cls, entry, config, tokenizer):
        image_encoder = None
        if entry["encoder"] is not None:
            encoder_args = copy.deepcopy(entry["encoder"])
            for key in encoder_args:
                encoder_args[key] = config.pop(key, encoder_args[key])
            image_encoder = conv_image_encoder(
                config["image_size"], **encoder_args
            )
        return cls.backbone_class(
            vocabulary_size=tokenizer.vocabulary_size,
            image_encoder=image_encoder,
            name="backbone",
            **config,
        )

    def segment(self, images, texts, batch_size=8):
        """The object masks of images and expressions (eager, numpy).

        Args:
            images: RGB pixel values in [0, 255] whatever the dtype,
                `(batch, image_size, image_size, 3)` or one image
                `(image_size, image_size, 3)` (gray images are read as RGB,
                see `LBIESegmenter.edit`), already resized and padded
                (nothing is resized). An empty batch gives an empty mask.
            texts: one expression per image: a list of str or bytes, a
                numpy array of them, or a str for one image.
            batch_size: positive int, examples per forward pass.

        Returns:
            A bool array `(batch, image_size, image_size)`, True on the
            referred object (the object logit above the background's). Map
            it to the original image with `referit.unpad_and_resize`.
        """
        check_positive_int(batch_size, "batch_size")
        images = self.image_batch(images)
        _, outputs = self.predict_with_texts(
            {"image": images}, texts, batch_size
        )
        return np.argmax(outputs["logits"], axis=-1) == 1
