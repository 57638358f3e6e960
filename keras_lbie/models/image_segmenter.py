import keras
import numpy as np

from keras_lbie.models.task import Task
from keras_lbie.utils.validation import check_image


class ImageSegmenter(Task):
    """What the segmenter tasks share: RGB image and raw text → logits.

    A base class for `LBIESegmenter` and `ReferItSegmenter`: the task's
    inputs are a float32 RGB `"image"` of the backbone's `image_size`
    (uint8 or float in [0, 255]) and a string `"text"` `(batch,)`,
    tokenized in the graph; its output is the `ImageSegmenterBackbone`'s
    `"logits"` on them.

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

    def image_batch(self, images):
        """RGB `images`, or one image, as a float32 batch of `image_size`."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        check_image(images, self.backbone.image_size, name="images")
        return images.astype(np.float32)
