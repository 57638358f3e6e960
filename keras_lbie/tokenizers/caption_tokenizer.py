import collections

import keras
import tensorflow as tf

from keras_lbie.tokenizers.sentence_tokenizer import _NOT_WORD
from keras_lbie.tokenizers.sentence_tokenizer import _SENTENCE_END
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from keras_lbie.utils.validation import check_positive_int


def build_vocabulary(texts, max_size=None, min_count=1):
    """The most frequent words of `texts`, as `CaptionTokenizer` splits them.

    Words are found with the tokenizer's own rules (lower-cased, maximal
    runs of Unicode letters, marks and digits; see `SentenceTokenizer`), so
    every returned word is one the tokenizer can produce.

    Args:
        texts: iterable of str, e.g. the training captions. Build the
            vocabulary from the training split only, so test captions meet
            the out-of-vocabulary id as new words would.
        max_size: None or positive int, keep at most this many words.
        min_count: positive int, drop words seen fewer times.

    Returns:
        A list of distinct words (str), most frequent first; ties in
        alphabetical order, so the result does not depend on the order of
        `texts`.

    Raises:
        TypeError: `texts` is a str or holds a non-str entry.
        ValueError: bad `max_size` / `min_count`, or no word is left.

    Example:
    >>> build_vocabulary(["The petals are red.", "Red petals, a yellow centre"])
    ['petals', 'red', 'a', 'are', 'centre', 'the', 'yellow']
    """
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__iter__"):
        raise TypeError(
            "`texts` must be an iterable of str. Received: "
            f"{type(texts).__name__}"
        )
    texts = list(texts)
    not_str = [text for text in texts if not isinstance(text, str)]
    if not_str:
        raise TypeError(
            f"`texts` entries must be str. Received: {not_str[:3]!r}"
        )
    if max_size is not None:
        check_positive_int(max_size, "max_size")
    check_positive_int(min_count, "min_count")
    counts = collections.Counter()
    if texts:
        lowered = tf.strings.lower(tf.constant(texts, tf.string), "utf-8")
        words = tf.strings.split(
            tf.strings.regex_replace(lowered, _NOT_WORD, " ")
        )
        counts.update(
            word.decode("utf-8") for word in words.flat_values.numpy()
        )
    words = sorted(
        (word for word, count in counts.items() if count >= min_count),
        key=lambda word: (-counts[word], word),
    )
    if not words:
        raise ValueError(
            f"`texts` hold no word seen at least `min_count` ({min_count}) "
            "times."
        )
    return words[:max_size]


@keras.saving.register_keras_serializable(package="keras_lbie")
class CaptionTokenizer(SentenceTokenizer):
    """Maps raw captions to one sequence of word ids, inside the graph.

    The word-level tokenizer of the colorization model (Chen et al.,
    "Language-Based Image Editing with Recurrent Attentive Models", CVPR
    2018, Section 4.3), which encodes a flower's caption with one BiLSTM
    over its words and attends over the words. A `SentenceTokenizer` with
    one sentence, where '.', '!' and '?' separate words instead of ending
    sentences, so a caption of several sentences ("The petals are purple.
    The centre is yellow.") keeps all its words in order. Every other rule
    is `SentenceTokenizer`'s: lower-casing, words as maximal runs of
    letters, marks and digits, out-of-vocabulary id 1, padding id 0 at the
    end, core TensorFlow ops only (no XLA: tokenize in the `tf.data`
    pipeline for `jit_compile=True` or multi-replica training).

    Only the first `max_words` words are kept: **longer captions are
    truncated**. An empty caption (or one without a word) is all padding.

    Args:
        vocabulary: list of distinct lower-case words (str), e.g. from
            `build_vocabulary(training_captions)`; word `vocabulary[k]` gets
            id `k + 2`.
        max_words: positive int, the number of ids per caption.
        **kwargs: standard layer arguments (`name`, ...).

    Call arguments:
        text: string tensor `(batch,)` of UTF-8 captions (a list of str or a
            numpy array of str also works in eager mode).

    Returns:
        An int32 tensor `(batch, max_words)`.

    Example:
    >>> tokenizer = CaptionTokenizer(["petals", "purple", "the"], max_words=5)
    >>> tokenizer(["The petals are purple. The centre!"]).numpy()
    array([[4, 2, 1, 3, 4]], dtype=int32)
    >>> tokenizer.detokenize([[4, 2, 1, 3, 0]])
    array(['the petals [UNK] purple'], dtype=object)
    """

    text_unit = "caption"

    def __init__(self, vocabulary, max_words=32, **kwargs):
        super().__init__(
            vocabulary, max_sentences=1, max_words=max_words, **kwargs
        )

    def call(self, text):
        if not tf.is_tensor(text):
            text = tf.convert_to_tensor(text)
        # Checked before the regex, whose error on numbers would not name
        # the argument.
        self.check_text(text)
        text = tf.strings.regex_replace(text, _SENTENCE_END, " ")
        return super().call(text)[:, 0]

    def compute_output_shape(self, text_shape):
        return (text_shape[0], self.max_words)

    def get_config(self):
        config = super().get_config()
        # Always one sentence: not an argument of this class.
        del config["max_sentences"]
        return config
