import keras

from keras_lbie.utils.validation import check_text_tensor


class Tokenizer(keras.layers.Layer):
    """What the in-graph tokenizers share: raw strings in, int32 ids out.

    A base class: subclasses set `text_unit` (what one string holds, e.g.
    "paragraph", for the errors) and define `call`, which checks its input
    with `check_text(text)` first, and `compute_output_shape`.
    """

    text_unit = "text"

    def check_text(self, text):
        """Raises unless `text` is a `(batch,)` string tensor."""
        check_text_tensor(text.shape, text.dtype, self.text_unit)

    def compute_output_spec(self, text):
        # The layer's dtype is a float policy; its ids are int32.
        self.check_text(text)
        return keras.KerasTensor(
            self.compute_output_shape(text.shape), dtype="int32"
        )
