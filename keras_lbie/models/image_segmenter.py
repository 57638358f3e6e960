import keras
import numpy as np
import tensorflow as tf

from keras_lbie.models.image_segmenter_backbone import check_labels
from keras_lbie.models.task import Task
from keras_lbie.utils.validation import check_image
from keras_lbie.utils.validation import check_image_batch


class ImageSegmenter(Task):
    """What the segmenter tasks share: RGB image and raw text → logits.

    A base class for `LBIESegmenter` and `ReferItSegmenter`: the task's
    inputs are a float32 RGB `"image"` of the backbone's `image_size`
    (uint8 or float in [0, 255]) and a string `"text"` `(batch,)`,
    tokenized in the graph; its output is the `ImageSegmenterBackbone`'s
    `"logits"` on them. The targets of `fit` and `evaluate` are class ids
    in `[0, num_classes)` `(batch, H, W)` (or CoSaL's packed
    `(batch, H, W, 2)` [label, shape_map]); others raise an error naming
    the label and the range, in numpy inputs and in `tf.data` pipelines.

    Example:
    >>> segmenter = LBIESegmenter.from_preset("cosal_paper")
    >>> segmenter({"image": images, "text": texts})  # logits
    """

    @classmethod
    def task_graph(cls, backbone, tokenizer):
        size = backbone.image_size
        image = keras.Input((size, size, 3), dtype="float32", name="image")
        text = keras.Input((), dtype="string", name="text")
        token_ids = tokenizer(text)
        logits = backbone({"image": image, "token_ids": token_ids})["logits"]
        return {"image": image, "text": text}, logits

    def check_image_input(self, image):
        check_image(image, self.backbone.image_size)

    def standardize_image(self, image):
        check_image(image, self.backbone.image_size)
        return image

    def image_batch(self, images):
        """One image or a batch, gray or RGB, as a float32 RGB batch.

        See `check_image_batch`: gray images become RGB (g, g, g).
        """
        images = check_image_batch(images, self.backbone.image_size)
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        return images.astype(np.float32)

    @property
    def num_classes(self):
        """The number of classes of the logits."""
        return self.backbone.num_classes

    def check_targets(self, y):
        check_labels(y, self.num_classes)
        return y

    def target_assertions(self, y):
        labels = y
        if y.shape.rank == 4 and y.shape[-1] == 2:
            labels = y[..., 0]
        check = tf.debugging.Assert(
            tf.logical_and(
                tf.reduce_all(labels >= 0),
                tf.reduce_all(labels < tf.cast(self.num_classes, labels.dtype)),
            ),
            [
                f"`y` holds a label outside [0, {self.num_classes}) (the "
                "model's `num_classes`); its smallest and largest labels:",
                tf.reduce_min(labels),
                tf.reduce_max(labels),
            ],
        )
        with tf.control_dependencies([check]):
            return tf.identity(y)
