import collections

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.tokenizers.tokenizer import Tokenizer
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_vocabulary_ids
from keras_lbie.utils.validation import check_word_list

PADDING_ID = 0
OOV_ID = 1
# Shown by `detokenize` for out-of-vocabulary ids; it can never be a
# vocabulary word since brackets separate words.
OOV_TOKEN = "[UNK]"

# Every '.', '!' or '?' ends a sentence.
_SENTENCE_END = r"[.!?]"
# A word is a maximal run of Unicode letters, combining marks and digits;
# every other character separates words.
_WORD = r"[\p{L}\p{M}\p{N}]+"
_NOT_WORD = r"[^\p{L}\p{M}\p{N}]+"


@keras.saving.register_keras_serializable(package="keras_lbie")
class SentenceTokenizer(Tokenizer):
    """Maps raw paragraphs to word ids per sentence, inside the graph.

    Turns multi-sentence text such as CoSaL's "The circle is red. The shape
    below the diamond is light green." (Chen et al., "Language-Based Image
    Editing with Recurrent Attentive Models", CVPR 2018, Section 4.1) into
    the `(batch, sentences, words)` ids that `HierarchicalTextEncoder`
    reads, with core TensorFlow string ops and a static hash table only (no
    tensorflow-text op), so exported SavedModels take raw strings and run in
    a stock TensorFlow Serving build.

    Tokenization rules, in order:

    1. Lower-case, Unicode-aware (`tf.strings.lower(encoding="utf-8")`):
       "Ünïcode" → "ünïcode". There is no Unicode normalisation or case
       folding: "ß" stays "ß", and a precomposed "ü" and "u" followed by a
       combining diaeresis are different words. Invalid UTF-8 bytes become
       U+FFFD, which separates words.
    2. Every '.', '!' and '?' ends a sentence, including inside numbers and
       abbreviations ("3.5" is two sentences). Text after the last one is a
       sentence too, so a final '.' is optional.
    3. A word is a maximal run of Unicode letters, combining marks and
       digits; every other character (whitespace, ',', ';', ':', quotes,
       hyphens, apostrophes, brackets, symbols) separates words and is
       dropped: "light-green" → "light", "green"; "don't" → "don", "t".
    4. Sentences without a word (from "..", "?!", a trailing '.', or only
       punctuation) are dropped, so the next sentence moves up.
    5. Word `vocabulary[k]` gets id `k + 2`; any other word gets the
       out-of-vocabulary id 1.
    6. Only the first `max_sentences` sentences and the first `max_words`
       words of each sentence are kept: **longer text is truncated**. Shorter
       text is padded with id 0 at the end of each sentence and with
       all-padding sentences at the end; an empty string (or one without a
       word) is an all-padding row.

    String ops cannot be XLA-compiled: a model holding this layer cannot be
    trained with `jit_compile=True`. Keras 3.15's `fit` and `evaluate` under
    a multi-replica `tf.distribute` strategy also fail on any string input
    (they average the first batch across replicas to build the model). In
    both cases tokenize in the `tf.data` pipeline instead (the layer works
    in `dataset.map` on batches of strings) and feed the ids to the model;
    keep the layer in the exported serving model.

    Args:
        vocabulary: list of distinct words (str), each a word as rules 1 and
            3 produce it: lower-case letters, marks and digits only. Use
            `keras_lbie.datasets.cosal.vocabulary()` for CoSaL.
        max_sentences: positive int, the number of sentences kept.
        max_words: positive int, the number of words kept per sentence. The
            default, 11, fits CoSaL's longest sentences ("The shape right of
            the half thin ellipse is light green.").
        **kwargs: standard layer arguments (`name`, ...).

    Call arguments:
        text: string tensor `(batch,)` of UTF-8 paragraphs; a list of str or
            a numpy array of str also works in eager mode. Apply it to
            batches: a scalar string is rejected.

    Returns:
        An int32 tensor `(batch, max_sentences, max_words)`: 0 for padding,
        1 for out-of-vocabulary words, `k + 2` for `vocabulary[k]`.

    Example:
    >>> tokenizer = SentenceTokenizer(
    ...     ["blue", "circle", "is", "the"], max_sentences=2, max_words=4
    ... )
    >>> tokenizer(["The circle is blue. The square is red!"]).numpy()
    array([[[5, 3, 4, 2],
            [5, 1, 4, 1]]], dtype=int32)
    >>> tokenizer.detokenize([[[5, 3, 4, 2], [5, 1, 0, 0]]])
    array([['the circle is blue', 'the [UNK]']], dtype=object)
    """

    text_unit = "paragraph"

    def __init__(self, vocabulary, max_sentences=9, max_words=11, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = _check_vocabulary(vocabulary)
        check_positive_int(max_sentences, "max_sentences")
        check_positive_int(max_words, "max_words")
        self.max_sentences = max_sentences
        self.max_words = max_words
        # Strings are not tensors Keras converts, and `text` may be a list.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        # The table is rebuilt from the vocabulary (not saved as a weight);
        # `init_scope` creates it eagerly even when the layer is made inside
        # a `tf.function`, so every traced graph captures the same table.
        with tf.init_scope():
            self.lookup_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(self.vocabulary, tf.string),
                    tf.range(2, len(self.vocabulary) + 2, dtype=tf.int32),
                ),
                default_value=OOV_ID,
            )
        # No shape-dependent state: the layer is ready for export uncalled.
        self.built = True

    @property
    def vocabulary_size(self):
        """Number of ids (words, padding and OOV): the encoder's input size.

        Pass it as `HierarchicalTextEncoder(vocabulary_size=...)`.
        """
        return len(self.vocabulary) + 2

    def call(self, text):
        if not tf.is_tensor(text):
            text = tf.convert_to_tensor(text)
        self.check_text(text)
        if text.shape.rank is None:
            text = tf.ensure_shape(text, [None])
        text = tf.strings.lower(text, encoding="utf-8")
        text = tf.strings.regex_replace(text, _SENTENCE_END, ".")
        sentences = tf.strings.split(text, sep=".")
        words = tf.strings.split(
            tf.strings.regex_replace(sentences, _NOT_WORD, " ")
        )
        words = tf.ragged.boolean_mask(words, words.row_lengths(axis=-1) > 0)
        ids = tf.ragged.map_flat_values(self.lookup_table.lookup, words)
        return ids.to_tensor(
            default_value=PADDING_ID,
            shape=[None, self.max_sentences, self.max_words],
        )

    def detokenize(self, ids):
        """Maps ids back to sentences (eager, numpy), e.g. for plots.

        Args:
            ids: int array-like `(..., sentences, words)` of ids from this
                tokenizer.

        Returns:
            A numpy object array `(..., sentences)` of str: each sentence's
            words joined by single spaces, without its final '.'. Padding ids
            are skipped (an all-padding sentence gives ""), id 1 gives
            "[UNK]". Sentences are lower-case and their punctuation is gone.
        """
        ids = check_vocabulary_ids(ids, self.vocabulary_size, "words")
        words = np.array(["", OOV_TOKEN, *self.vocabulary], dtype=object)
        rows = words[ids.reshape(-1, ids.shape[-1])]
        sentences = np.empty(len(rows), dtype=object)
        sentences[:] = [" ".join(word for word in row if word) for row in rows]
        return sentences.reshape(ids.shape[:-1])

    def compute_output_shape(self, text_shape):
        return (text_shape[0], self.max_sentences, self.max_words)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "max_sentences": self.max_sentences,
                "max_words": self.max_words,
            }
        )
        return config


def _check_vocabulary(vocabulary):
    """Returns `vocabulary` as a list of str, or raises naming what is wrong."""
    vocabulary = check_word_list(vocabulary)
    if not vocabulary:
        raise ValueError("`vocabulary` must not be empty.")
    # Checked with the call's own ops, so an accepted entry is exactly a
    # word the tokenizer can produce.
    with tf.init_scope():
        words = tf.constant(vocabulary, tf.string)
        is_word = tf.strings.regex_full_match(words, _WORD) & tf.equal(
            tf.strings.lower(words, encoding="utf-8"), words
        )
        is_word = is_word.numpy()
    bad = [word for word, ok in zip(vocabulary, is_word, strict=True) if not ok]
    if bad:
        raise ValueError(
            "`vocabulary` entries must be single lower-case words of "
            "letters, marks and digits (no whitespace, punctuation or empty "
            f"string). Received: {bad[:5]!r}"
        )
    counts = collections.Counter(vocabulary)
    duplicates = sorted(word for word, count in counts.items() if count > 1)
    if duplicates:
        raise ValueError(
            f"`vocabulary` entries must be unique. Repeated: {duplicates[:5]!r}"
        )
    return vocabulary
