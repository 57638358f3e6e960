import keras
import numpy as np

from keras_lbie.datasets import cosal
from keras_lbie.models.image_segmenter import ImageSegmenter
from keras_lbie.models.lbie_segmenter.lbie_segmenter_backbone import (
    LBIESegmenterBackbone,
)
from keras_lbie.models.lbie_segmenter.lbie_segmenter_presets import PRESETS
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_positive_int

# Class id → RGB for `edit`: 0 is the white background, k the CoSaL colour
# `cosal.PALETTE_RGB[k - 1]`.
CLASS_COLORS = np.array(
    (cosal.BACKGROUND_RGB, *cosal.PALETTE_RGB), dtype=np.uint8
)


@keras.saving.register_keras_serializable(package="keras_lbie")
class LBIESegmenter(ImageSegmenter):
    """Language-based image segmentation from raw images and raw text.

    Chen et al., "Language-Based Image Editing with Recurrent Attentive
    Models", CVPR 2018. A functional model in the keras-hub task style: a
    `SentenceTokenizer` turns the raw description into token ids inside the
    graph, and an `LBIESegmenterBackbone` maps the image and the ids to
    per-pixel class logits. A saved or exported segmenter therefore takes
    raw strings.

    Build it from a preset (`LBIESegmenter.available_presets()`):

        segmenter = LBIESegmenter.from_preset("cosal_paper")

    or from its parts, `LBIESegmenter(backbone, tokenizer)`.

    Training: string ops cannot be XLA-compiled, and strings cannot be
    split over the replicas of a `tf.distribute` strategy, so train
    `segmenter.backbone` on a tokenized `tf.data` pipeline
    (`segmenter.tokenize_dataset(dataset)`); the segmenter shares its
    weights. Under several replicas `segmenter.fit(dataset)` of raw text
    does so itself, with the segmenter's `compile` arguments. `compile`
    the backbone without a loss to train the objective of its
    `termination_mode` (see `LBIESegmenterBackbone`).

    Text handling (see `SentenceTokenizer`): sentences end at '.', '!' or
    '?'; words outside the vocabulary get the out-of-vocabulary id 1 (one
    learned embedding for all of them); text beyond `max_sentences`
    sentences or `max_words` words per sentence is **truncated**; an empty
    description (or one without a word) is all padding: the attention is
    zero everywhere and the prediction comes from the image alone.

    Args:
        backbone: an `LBIESegmenterBackbone`.
        tokenizer: a `SentenceTokenizer` with the backbone's
            `vocabulary_size`, `max_sentences` and `max_words`.
        **kwargs: standard model arguments (`name`, ...).

    Inputs:
        A dict with `"image"` `(batch, image_size, image_size, 3)` RGB
        pixel values in [0, 255] whatever the dtype (uint8, float, or
        integers in that range; rescaled by 1/255 in the graph), and
        `"text"`, one description per image: a list of str or bytes, a
        numpy array of them, a string tensor `(batch,)`, or a str for a
        batch of one. Images of another size or channel count, and NaN or
        inf pixels, raise an error: nothing is resized. A float image whose
        maximum is at most 1 draws a `PixelRangeWarning`: as [0, 255]
        values it is almost black (multiply it by 255).

    Outputs:
        The class logits `(batch, image_size, image_size, num_classes)`
        (from each region's most probable stopping step at inference).

    Example:
    >>> segmenter = LBIESegmenter.from_preset("cosal_paper")
    >>> data = cosal.generate(2)
    >>> segmenter({"image": data["image"], "text": data["text"]}).shape
    TensorShape([2, 48, 48, 7])
    >>> colours = segmenter.edit(data["image"], list(data["text"]))
    >>> colours.shape, colours.dtype
    ((2, 48, 48, 3), dtype('uint8'))
    """

    backbone_class = LBIESegmenterBackbone
    tokenizer_class = SentenceTokenizer
    tokenizer_arguments = ("max_sentences", "max_words")
    presets = PRESETS
    preset_name_prefix = "lbie_segmenter"
    # Overrides that leave the weights' shapes and meaning unchanged.
    weight_preserving_overrides = frozenset(
        ("termination_mode", "temperature", "seed", "early_exit")
    )

    @classmethod
    def from_preset(cls, preset, load_weights=True, **overrides):
        """Builds a segmenter from a named configuration.

        Args:
            preset: str, a name from `LBIESegmenter.available_presets()`.
            load_weights: bool, load the preset's weights if it has any
                (from the package folder `keras_lbie/models/weights/`,
                never the network). Presets without weights give a randomly
                initialised model either way.
            **overrides: `LBIESegmenterBackbone` arguments replacing the
                preset's, e.g. `max_steps=1, use_attention=False` (the
                paper's baseline) or `termination_mode="expected"`.
                `max_sentences` and `max_words` also set the tokenizer's.
                `vocabulary_size` comes from the tokenizer and cannot be
                overridden. When weights are loaded only
                `termination_mode`, `temperature` and `seed` may be
                overridden (the others change the architecture the weights
                were trained for; Keras would load a subset silently).

        Returns:
            An `LBIESegmenter` with a CoSaL `SentenceTokenizer`.

        Raises:
            ValueError: unknown preset or override name, or an
                architecture override while loading weights.
            FileNotFoundError: the preset's weights file is missing.
        """
        return cls.build_from_preset(
            preset, load_weights=load_weights, **overrides
        )

    def edit(self, images, texts, return_details=False, batch_size=32):
        """Colours images by their descriptions (eager, numpy).

        Args:
            images: pixel values in [0, 255] whatever the dtype (see the
                class docstring), a batch `(batch, S, S, 3)` or one image
                `(S, S, 3)` (then the outputs have a batch of one), S the
                model's `image_size`; gray images `(batch, S, S, 1)`,
                `(batch, S, S)`, `(S, S, 1)` or `(S, S)` are read as RGB
                (g, g, g). Images are never resized: another size is an
                error. An empty batch gives empty outputs.
            texts: one description per image: a list of str or bytes, a
                numpy array of them, or a str for one image. See the class
                docstring for empty text, unknown words and truncation.
            return_details: bool, also return the model's internals.
            batch_size: positive int, examples per forward pass.

        Returns:
            uint8 `(batch, image_size, image_size, 3)`: each pixel coloured
            by its predicted class (class 0 white, class k
            `cosal.PALETTE_RGB[k - 1]`). With `return_details=True` a pair
            `(colours, details)`, `details` a dict with `"labels"` int
            `(batch, H, W)` (the predicted classes), `"attention"`
            `(batch, T, M, N, max_sentences)` (each region's attention over
            the sentences per step, zero on padding), `"stop_step"` int32
            `(batch, M, N)` (0-based stopping step per region) and
            `"sentences"`, per example the list of the tokenizer's
            sentences (lower-case, punctuation dropped, unknown words as
            "[UNK]", after truncation): `attention[..., j]` belongs to
            `sentences[j]`.
        """
        if self.backbone.num_classes > len(CLASS_COLORS):
            raise ValueError(
                f"`edit` colours at most {len(CLASS_COLORS)} classes (the "
                f"CoSaL palette); this model has {self.backbone.num_classes}."
                " Call the model for logits instead."
            )
        check_bool(return_details, "return_details")
        check_positive_int(batch_size, "batch_size")
        images = self.image_batch(images)
        token_ids, outputs = self.predict_with_texts(
            {"image": images}, texts, batch_size
        )
        labels = np.argmax(outputs["logits"], axis=-1)
        colours = CLASS_COLORS[labels]
        if not return_details:
            return colours
        sentences = self.tokenizer.detokenize(token_ids)
        return colours, {
            "labels": labels.astype(np.int32),
            "attention": outputs["attention"],
            "stop_step": outputs["stop_step"],
            "sentences": [[s for s in row if s] for row in sentences],
        }
