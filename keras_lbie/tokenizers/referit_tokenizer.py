"""In-graph tokenization of ReferIt referring expressions (text_objseg rules).

Public API:

- `ReferItTokenizer(vocabulary, sequence_length=20, strip_separators=False)`:
  a Keras layer mapping a `(batch,)` string tensor to `(batch,
  sequence_length)` int32 word ids, left-padded.
- `load_vocabulary(path)`: reads a ReferIt vocabulary file (one word a line,
  the line number is the id).
- Constants: `PAD_TOKEN`, `GO_TOKEN`, `EOS_TOKEN`, `UNK_TOKEN`,
  `SPECIAL_TOKENS`, `DEFAULT_SEQUENCE_LENGTH`.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.tokenizers.tokenizer import Tokenizer
from keras_lbie.utils.validation import check_bool
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_vocabulary_ids
from keras_lbie.utils.validation import check_word_list

PAD_TOKEN = "<pad>"
GO_TOKEN = "<go>"
EOS_TOKEN = "<eos>"
UNK_TOKEN = "<unk>"
# The first lines of the standard vocabulary file, in this order.
SPECIAL_TOKENS = (PAD_TOKEN, GO_TOKEN, EOS_TOKEN, UNK_TOKEN)
# text_objseg and the paper (Section 4.2) use T = 20 time steps.
DEFAULT_SEQUENCE_LENGTH = 20

# One character of Python 3's `\w` on `str`: Unicode letters, numbers and
# '_'. On every code point assigned in Python 3.11's Unicode 14 this class
# and `re.fullmatch(r"\w", c)` agree (checked over all of them when the
# layer was written); RE2's own `\w` is ASCII-only and would split "café".
_WORD_CHAR = r"[\pL\pN_]"
# One character for which Python's `str.isspace()` is true (same check).
_SPACE_CHAR = r"[\t-\r\x{1c}-\x{1f}\x{85}\pZ]"
_EDGE_SPACE = rf"^{_SPACE_CHAR}+|{_SPACE_CHAR}+$"


def load_vocabulary(path):
    """Reads a ReferIt vocabulary file, as text_objseg does.

    Each line, stripped of surrounding whitespace, is one word; its
    0-based line number is its id. Blank lines are kept as empty words so
    that the ids of the following lines do not move.

    Args:
        path: str or path-like, a UTF-8 text file whose first line is
            `<pad>` and which holds a `<unk>` line (the standard file
            starts `<pad> <go> <eos> <unk>`).

    Returns:
        The list of words (str), index = id.

    Raises:
        TypeError: `path` is not a str or path-like.
        FileNotFoundError: no file at `path`.
        ValueError: the file is not UTF-8 text, or its first line is not
            `<pad>`, or it has no `<unk>` line; the message names the file.

    Example:
    >>> words = load_vocabulary("referit/vocabulary_referit.txt")
    >>> tokenizer = ReferItTokenizer(words)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "`path` must be a str or path-like. Received: "
            f"{type(path).__name__} {path!r}"
        )
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No vocabulary file at {path!r}.")
    try:
        with open(path, encoding="utf-8") as file:
            words = [line.strip() for line in file]
    except UnicodeDecodeError as error:
        raise ValueError(
            f"The vocabulary file {path!r} is not UTF-8 text: {error}"
        ) from error
    try:
        return _check_vocabulary(words)
    except ValueError as error:
        raise ValueError(
            f"The vocabulary file {path!r} is invalid: {error}"
        ) from None


@keras.saving.register_keras_serializable(package="keras_lbie")
class ReferItTokenizer(Tokenizer):
    """Maps referring expressions to word ids as text_objseg does, in-graph.

    Reproduces `preprocess_sentence(sentence, vocab_dict, T)` of text_objseg
    (Hu et al., "Segmentation from Natural Language Expressions", ECCV 2016;
    `util/text_processing.py`), the preprocessing of ReferIt expressions
    that Chen et al. (CVPR 2018, Section 4.2) build on, with core
    TensorFlow string ops and a static hash table only (no tensorflow-text
    op), so exported SavedModels take raw strings and run in a stock
    TensorFlow Serving build. The rules, as Python 3 runs that code:

    1. Strip whitespace at both ends (`str.strip()`: Unicode whitespace).
    2. Split into maximal runs of word characters and of other characters,
       keeping both: Python's `re.split(r"(\\W+)", s)`. A word character is
       a Unicode letter, number or "_" (Python 3's Unicode `\\w`; RE2's
       ASCII-only `\\W` is not used, so "café" stays one word). The
       authors ran Python 2, whose ASCII `\\W` splits "café" into "caf"
       and "é": ids differ from theirs only for non-ASCII letters.
    3. Drop the pieces that are blank (whitespace only). The other
       separator pieces are tokens **as they are, spaces included**:
       "man, left" gives "man", ", ", "left", and ", " is not a word of the
       standard vocabulary, so it maps to `<unk>`; "man,left" gives ",".
       With `strip_separators=True` each piece is stripped first (", " →
       ","), which text_objseg does not do.
    4. Lower-case each piece (`str.lower()`; TensorFlow's ICU tables give
       the same result except for letters added in Unicode 14, and NUL
       characters are removed).
    5. Drop the last piece if it is exactly "." ("a man." → "a", "man").
       "a man ." ends with " ." and keeps it (→ `<unk>`) unless
       `strip_separators=True`; "a man.." keeps "..".
    6. Map each piece to its vocabulary index; any other piece gets the
       index of `<unk>`.
    7. **Keep the first `sequence_length` ids** (longer expressions lose
       their end, as `vocab_indices[:T]` in text_objseg), then left-pad
       with the index of `<pad>` (0) to `sequence_length`, so the last
       word is always in the last position. An empty or blank string (on
       which text_objseg raises an IndexError) is all padding.

    Invalid UTF-8 bytes become U+FFFD (a separator character).

    String ops cannot be XLA-compiled: for `jit_compile=True` or
    multi-replica training, tokenize in the `tf.data` pipeline (the layer
    works in `dataset.map` on batches of strings) and keep the layer in the
    exported serving model.

    Args:
        vocabulary: list of str, the word of each id (as `load_vocabulary`
            returns); `vocabulary[0]` must be `<pad>` and `<unk>` must be
            present. A word listed twice gets its last index, as the dict
            of text_objseg gives.
        sequence_length: positive int, T, the number of ids per expression.
        strip_separators: bool, strip whitespace from separator pieces
            (rules 3 and 5); False reproduces text_objseg.
        **kwargs: standard layer arguments (`name`, ...).

    Call arguments:
        text: string tensor `(batch,)` of UTF-8 expressions; a list of str
            or a numpy array of str also works in eager mode.

    Returns:
        An int32 tensor `(batch, sequence_length)`.

    Example:
    >>> vocabulary = ["<pad>", "<go>", "<eos>", "<unk>", "man", ",", "left"]
    >>> tokenizer = ReferItTokenizer(vocabulary, sequence_length=5)
    >>> tokenizer(["Man, left.", "man,left"]).numpy()
    array([[0, 0, 4, 3, 6],
           [0, 0, 4, 5, 6]], dtype=int32)
    """

    text_unit = "expression"

    def __init__(
        self,
        vocabulary,
        sequence_length=DEFAULT_SEQUENCE_LENGTH,
        strip_separators=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary = _check_vocabulary(vocabulary)
        check_positive_int(sequence_length, "sequence_length")
        self.sequence_length = sequence_length
        self.strip_separators = check_bool(strip_separators, "strip_separators")
        # Later entries win, like text_objseg's `{words[n]: n ...}`.
        index = {word: n for n, word in enumerate(self.vocabulary)}
        self.pad_id = index[PAD_TOKEN]
        self.unk_id = index[UNK_TOKEN]
        # Strings are not tensors Keras converts, and `text` may be a list.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        # The table is rebuilt from the vocabulary (not saved as a weight);
        # `init_scope` creates it eagerly even inside a `tf.function`, so
        # every traced graph captures the same table.
        with tf.init_scope():
            self.lookup_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(list(index), tf.string),
                    tf.constant(list(index.values()), tf.int32),
                ),
                default_value=self.unk_id,
            )
        # No shape-dependent state: the layer is ready for export uncalled.
        self.built = True

    @property
    def vocabulary_size(self):
        """Number of ids, `len(vocabulary)`: the text encoder's input size."""
        return len(self.vocabulary)

    def call(self, text):
        if not tf.is_tensor(text):
            text = tf.convert_to_tensor(text)
        self.check_text(text)
        if text.shape.rank is None:
            text = tf.ensure_shape(text, [None])
        pieces = _drop_final_period(self._pieces(text))
        ids = tf.ragged.map_flat_values(self.lookup_table.lookup, pieces)
        return _left_pad(
            ids[:, : self.sequence_length], self.sequence_length, self.pad_id
        )

    def _pieces(self, text):
        """Rules 1-4: the kept, lower-cased pieces, ragged `(batch, None)`."""
        text = tf.strings.regex_replace(text, _EDGE_SPACE, "")
        chars = tf.strings.unicode_split(text, "UTF-8", errors="replace")
        flat = chars.flat_values
        rows = chars.value_rowids()
        is_word = tf.strings.regex_full_match(flat, _WORD_CHAR)
        # A piece starts at each row's first character and wherever the
        # character class flips.
        first_in_row = tf.equal(_position_in_row(chars), 0)
        flips = tf.not_equal(is_word, tf.concat([[False], is_word[:-1]], 0))
        starts = first_in_row | flips
        piece_of_char = tf.cumsum(tf.cast(starts, tf.int32)) - 1
        num_pieces = tf.reduce_sum(tf.cast(starts, tf.int32))
        piece_text = tf.strings.unsorted_segment_join(
            flat, piece_of_char, num_pieces
        )
        is_space = tf.cast(
            tf.strings.regex_full_match(flat, _SPACE_CHAR), "int32"
        )
        blank = tf.math.unsorted_segment_min(
            is_space, piece_of_char, num_pieces
        )
        keep = tf.equal(blank, 0)
        piece_text = tf.boolean_mask(piece_text, keep)
        if self.strip_separators:
            piece_text = tf.strings.regex_replace(piece_text, _EDGE_SPACE, "")
        piece_text = tf.strings.lower(piece_text, encoding="utf-8")
        return tf.RaggedTensor.from_value_rowids(
            piece_text,
            tf.boolean_mask(tf.boolean_mask(rows, starts), keep),
            nrows=tf.shape(text, out_type=tf.int64)[0],
        )

    def detokenize(self, ids):
        """Maps ids back to their pieces (eager, numpy), e.g. for plots.

        Args:
            ids: int array-like `(..., sequence_length)` of ids from this
                tokenizer.

        Returns:
            A numpy object array `(...,)` of str: the pieces of each row
            joined by single spaces, padding skipped ("" for all padding).
            Out-of-vocabulary pieces show as `<unk>`; case and the dropped
            final "." are not restored.

        Raises:
            TypeError: `ids` is not an integer array.
            ValueError: `ids` is a scalar or holds an id outside
                `[0, vocabulary_size)`.
        """
        ids = check_vocabulary_ids(ids, self.vocabulary_size, "sequence_length")
        words = np.array(self.vocabulary, dtype=object)
        rows = ids.reshape(-1, ids.shape[-1])
        texts = np.empty(len(rows), dtype=object)
        texts[:] = [
            " ".join(words[row[row != self.pad_id]].tolist()) for row in rows
        ]
        return texts.reshape(ids.shape[:-1])

    def compute_output_shape(self, text_shape):
        return (text_shape[0], self.sequence_length)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "sequence_length": self.sequence_length,
                "strip_separators": self.strip_separators,
            }
        )
        return config


def _position_in_row(ragged):
    """Index of each flat value within its row, int64 like the row ids."""
    rows = ragged.value_rowids()
    flat_index = tf.range(tf.size(rows, out_type=tf.int64))
    return flat_index - tf.gather(ragged.row_starts(), rows)


def _drop_final_period(pieces):
    """Rule 5: drops each row's last piece when it is exactly "."."""
    lengths = tf.gather(pieces.row_lengths(), pieces.value_rowids())
    is_last = tf.equal(_position_in_row(pieces), lengths - 1)
    drop = is_last & tf.equal(pieces.flat_values, ".")
    return tf.ragged.boolean_mask(pieces, ~pieces.with_flat_values(drop))


def _left_pad(ids, length, pad_id):
    """Right-aligns the rows of ragged `ids` in a `(batch, length)` tensor."""
    dense = ids.to_tensor(default_value=pad_id, shape=[None, length])
    shift = length - tf.cast(ids.row_lengths(), tf.int32)
    source = tf.range(length)[None, :] - shift[:, None]
    shifted = tf.gather(dense, tf.maximum(source, 0), batch_dims=1)
    return tf.where(source >= 0, shifted, pad_id)


def _check_vocabulary(vocabulary):
    """Returns `vocabulary` as a list of str, or raises naming the problem."""
    vocabulary = check_word_list(vocabulary)
    if not vocabulary or vocabulary[0] != PAD_TOKEN:
        first = vocabulary[0] if vocabulary else "nothing"
        raise ValueError(
            f"`vocabulary` must start with {PAD_TOKEN!r} (id 0, the "
            f"padding). Received {first!r} first."
        )
    if UNK_TOKEN not in vocabulary:
        raise ValueError(
            f"`vocabulary` must hold {UNK_TOKEN!r}, the id of "
            "out-of-vocabulary words."
        )
    return vocabulary
