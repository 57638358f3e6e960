"""Tests for ReferItTokenizer against a pure-Python text_objseg reference."""

import os
import re

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary
from tests.test_case import TestCase

VOCABULARY = [
    "<pad>",  # 0
    "<go>",  # 1
    "<eos>",  # 2
    "<unk>",  # 3
    "man",  # 4
    "left",  # 5
    ",",  # 6
    "/",  # 7
    "a",  # 8
    "b",  # 9
    "the",  # 10
    ".",  # 11
    "..",  # 12
    "café",  # 13
    "über",  # 14
    "'",  # 15
    "s",  # 16
    "x_y",  # 17
    "2nd",  # 18
]
T = 20

# (case, text, expected pieces, expected ids before left padding), with
# text_objseg's rules (strip_separators=False).
CASES = (
    ("comma and space", "man, left", ["man", ", ", "left"], [4, 3, 5]),
    ("comma alone", "man,left", ["man", ",", "left"], [4, 6, 5]),
    ("slash", "a/b", ["a", "/", "b"], [8, 7, 9]),
    ("final period", "the man.", ["the", "man"], [10, 4]),
    ("trailing ' .'", "the man .", ["the", "man", " ."], [10, 4, 3]),
    ("final '..'", "the man..", ["the", "man", ".."], [10, 4, 12]),
    ("case and edge spaces", "  The MAN  ", ["the", "man"], [10, 4]),
    ("trailing newline", "A man.\n", ["a", "man"], [8, 4]),
    ("apostrophe", "man's", ["man", "'", "s"], [4, 15, 16]),
    ("unicode word", "Café", ["café"], [13]),
    ("unicode lower-case", "ÜBER café", ["über", "café"], [14, 13]),
    ("combining mark splits", "cafe\u0301", ["cafe", "\u0301"], [3, 3]),
    ("underscore is a word char", "x_y", ["x_y"], [17]),
    ("digits", "2nd man", ["2nd", "man"], [18, 4]),
    ("tab and newline", "a\tb\nman", ["a", "b", "man"], [8, 9, 4]),
    ("no-break space", "man\u00a0left", ["man", "left"], [4, 5]),
    ("inner period", "man. left", ["man", ". ", "left"], [4, 3, 5]),
    ("leading period", ". man", [". ", "man"], [3, 4]),
    ("final comma kept", "man,", ["man", ","], [4, 6]),
    ("out of vocabulary", "woman", ["woman"], [3]),
    ("empty", "", [], []),
    ("blank", " \t ", [], []),
    ("only a period", ".", [], []),
    (
        "first 20 kept",
        " ".join(["a"] * 19 + ["man", "left", "b"]),
        ["a"] * 19 + ["man", "left", "b"],
        [8] * 19 + [4],
    ),
)

# Cases whose result changes with strip_separators=True.
STRIPPED_CASES = (
    ("comma and space", "man, left", [4, 6, 5]),
    ("trailing ' .'", "the man .", [10, 4]),
    ("inner period", "man. left", [4, 11, 5]),
    ("spaced punctuation", "man , left .", [4, 6, 5]),
    ("leading period", ". man", [11, 4]),
)

# Characters of the random strings: ASCII and Unicode letters (with a
# final-sigma and dotted-I lower-casing), digits, '_', punctuation and
# Python whitespace that RE2's `\s` does not cover.
ALPHABET = list("aAbBmnZ19_,./'-\".;!? \t\n") + [
    "é",
    "É",
    "ß",
    "ö",
    "Σ",
    "İ",
    "\u0301",
    "\u00a0",
    "\u2003",
    "\u3000",
    "中",
]

_SPLIT = re.compile(r"(\W+)")


def _reference_pieces(sentence, strip_separators=False):
    # text_objseg's sentence2vocab_indices before the vocabulary look-up.
    words = _SPLIT.split(sentence.strip())
    words = [w.lower() for w in words if len(w.strip()) > 0]
    if strip_separators:
        words = [w.strip() for w in words]
    # text_objseg indexes words[-1] unguarded: IndexError on blank text.
    if words and words[-1] == ".":
        words = words[:-1]
    return words


def _reference_tokenize(sentence, vocabulary, length, strip_separators=False):
    """text_objseg's preprocess_sentence, run by Python 3.

    util/text_processing.py of github.com/ronghanghu/text_objseg: pieces of
    `re.split(r"(\\W+)", s.strip())` that are not blank (kept unstripped),
    lower-cased, a final "." dropped, OOV → <unk>, `vocab_indices[:T]`,
    then `[<pad>] * (T - len) + vocab_indices`.
    """
    vocab_dict = {word: n for n, word in enumerate(vocabulary)}
    ids = [
        vocab_dict.get(word, vocab_dict["<unk>"])
        for word in _reference_pieces(sentence, strip_separators)
    ]
    ids = ids[:length]
    return [vocab_dict["<pad>"]] * (length - len(ids)) + ids


def _padded(ids, length=T):
    return [0] * (length - len(ids)) + list(ids)


def _random_texts(rng, count):
    lengths = rng.integers(0, 40, size=count)
    return [
        "".join(rng.choice(ALPHABET, size=length).tolist())
        for length in lengths
    ]


def _write(path, text, encoding="utf-8"):
    with open(path, "w", encoding=encoding) as file:
        file.write(text)
    return path


class ReferItTokenizerTest(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=ReferItTokenizer,
            init_kwargs={
                "vocabulary": VOCABULARY,
                "sequence_length": 6,
                "strip_separators": True,
            },
            input_data={"text": np.array(["man, left", ""])},
            expected_output_shape=(2, 6),
            expected_num_trainable_weights=0,
            # No weights to train, and string ops do not compile with XLA.
            run_training_check=False,
            run_jit_check=False,
        )

    def test_tricky_table(self):
        texts = [text for _, text, _, _ in CASES]
        ids = ReferItTokenizer(VOCABULARY)(texts).numpy()
        self.assertEqual(ids.dtype, np.int32)
        self.assertEqual(ids.shape, (len(CASES), T))
        for row, (case, text, pieces, expected) in zip(ids, CASES, strict=True):
            with self.subTest(case):
                self.assertEqual(_reference_pieces(text), pieces)
                self.assertAllEqual(row, _padded(expected))
                self.assertEqual(
                    list(row), _reference_tokenize(text, VOCABULARY, T)
                )

    def test_strip_separators_table(self):
        tokenizer = ReferItTokenizer(VOCABULARY, strip_separators=True)
        texts = [text for _, text, _ in STRIPPED_CASES]
        ids = tokenizer(texts).numpy()
        for row, (case, text, expected) in zip(
            ids, STRIPPED_CASES, strict=True
        ):
            with self.subTest(case):
                self.assertAllEqual(row, _padded(expected))
                self.assertEqual(
                    list(row),
                    _reference_tokenize(text, VOCABULARY, T, True),
                )

    def test_matches_reference_on_random_strings(self):
        rng = np.random.default_rng(0)
        texts = _random_texts(rng, 400)
        # Half the pieces in the vocabulary, so both look-up paths run.
        seen = sorted(
            {piece for text in texts[::2] for piece in _reference_pieces(text)}
            | {
                piece
                for text in texts[::2]
                for piece in _reference_pieces(text, strip_separators=True)
            }
        )
        vocabulary = ["<pad>", "<go>", "<eos>", "<unk>"] + [
            piece for piece in seen if piece not in ("<pad>", "<unk>")
        ]
        for strip in (False, True):
            tokenizer = ReferItTokenizer(
                vocabulary, sequence_length=8, strip_separators=strip
            )
            ids = tokenizer(texts).numpy()
            for text, row in zip(texts, ids, strict=True):
                self.assertEqual(
                    list(row),
                    _reference_tokenize(text, vocabulary, 8, strip),
                    msg=f"{text!r} strip_separators={strip}",
                )

    def test_invalid_utf8_is_a_separator(self):
        ids = ReferItTokenizer(VOCABULARY)(tf.constant([b"man\xffleft"]))
        # U+FFFD is not a word character, nor whitespace: an OOV piece.
        self.assertAllEqual(ids[0], _padded([4, 3, 5]))

    def test_duplicate_words_take_the_last_index(self):
        tokenizer = ReferItTokenizer(VOCABULARY + ["man"])
        self.assertEqual(tokenizer.vocabulary_size, len(VOCABULARY) + 1)
        self.assertAllEqual(tokenizer(["man"])[0], _padded([len(VOCABULARY)]))

    def test_accepts_numpy_and_tensors(self):
        tokenizer = ReferItTokenizer(VOCABULARY)
        expected = tokenizer(["the man", "a/b"])
        for text in (
            np.array(["the man", "a/b"]),
            np.array(["the man", "a/b"], dtype=object),
            np.array([b"the man", b"a/b"]),
            tf.constant(["the man", "a/b"]),
        ):
            self.assertAllEqual(tokenizer(text), expected)

    def test_empty_batch(self):
        ids = ReferItTokenizer(VOCABULARY)(tf.constant([], tf.string))
        self.assertEqual(ids.shape, (0, T))

    def test_config_round_trip(self):
        tokenizer = ReferItTokenizer(
            VOCABULARY, sequence_length=7, strip_separators=True
        )
        config = tokenizer.get_config()
        self.assertEqual(config["vocabulary"], VOCABULARY)
        self.assertEqual(config["sequence_length"], 7)
        self.assertTrue(config["strip_separators"])
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(tokenizer)
        )
        self.assertIsInstance(revived, ReferItTokenizer)
        self.assertEqual(revived.get_config(), config)
        texts = ["man , left .", "a/b"]
        self.assertAllEqual(revived(texts), tokenizer(texts))

    def test_dataset_map(self):
        tokenizer = ReferItTokenizer(VOCABULARY)
        texts = [text for _, text, _, _ in CASES]
        dataset = tf.data.Dataset.from_tensor_slices(texts).batch(5)
        mapped = np.concatenate(
            list(dataset.map(tokenizer).as_numpy_iterator())
        )
        self.assertAllEqual(mapped, tokenizer(texts))

    def test_tf_function(self):
        tokenizer = ReferItTokenizer(VOCABULARY)
        texts = tf.constant([text for _, text, _, _ in CASES])
        # An unknown rank, checked at run time (`test_dataset_map` traces a
        # known batch axis).
        tokenize = tf.function(
            tokenizer, input_signature=[tf.TensorSpec(None, tf.string)]
        )
        self.assertAllEqual(tokenize(texts), tokenizer(texts))
        with self.assertRaises(tf.errors.InvalidArgumentError):
            tokenize(tf.constant("man"))

    def test_functional_model_export(self):
        text = keras.Input(shape=(), dtype="string", name="text")
        ids = ReferItTokenizer(VOCABULARY)(text)
        self.assertEqual(ids.shape, (None, T))
        self.assertEqual(ids.dtype, "int32")
        model = keras.Model(text, ids)
        texts = tf.constant([text for _, text, _, _ in CASES])
        expected = model(texts)
        # `.keras` saving is in `run_layer_test`. `Model.export` is the TF
        # Serving path: the table must travel with the model.
        exported = os.path.join(self.get_temp_dir(), "exported")
        model.export(exported, format="tf_saved_model", verbose=False)
        restored = tf.saved_model.load(exported)
        self.assertAllEqual(restored.serve(texts), expected)

    def test_detokenize(self):
        tokenizer = ReferItTokenizer(VOCABULARY, sequence_length=5)
        ids = tokenizer(["The man, left", "woman", ""])
        self.assertAllEqual(
            tokenizer.detokenize(ids), ["the man <unk> left", "<unk>", ""]
        )
        with self.assertRaisesRegex(ValueError, "`ids`"):
            tokenizer.detokenize([[len(VOCABULARY)]])
        with self.assertRaisesRegex(TypeError, "`ids`"):
            tokenizer.detokenize([[1.0]])
        with self.assertRaisesRegex(ValueError, "`ids`"):
            tokenizer.detokenize(3)

    def test_rejects_bad_text(self):
        tokenizer = ReferItTokenizer(VOCABULARY)
        with self.assertRaisesRegex(ValueError, "`text`.*rank 1"):
            tokenizer([["man"]])
        with self.assertRaisesRegex(ValueError, "`text`.*rank 1"):
            tokenizer(tf.constant("man"))
        with self.assertRaisesRegex(TypeError, "`text`.*string"):
            tokenizer(np.array([1, 2]))
        with self.assertRaisesRegex(TypeError, "`text`.*string"):
            tokenizer(keras.Input(shape=(), dtype="int32"))

    def test_rejects_bad_arguments(self):
        for kwargs, error, pattern in (
            ({"vocabulary": "man"}, TypeError, "`vocabulary`"),
            ({"vocabulary": ["<pad>", "<unk>", 3]}, TypeError, "`vocabulary`"),
            ({"vocabulary": []}, ValueError, "`vocabulary`.*<pad>"),
            ({"vocabulary": ["<unk>", "<pad>"]}, ValueError, "<pad>"),
            ({"vocabulary": ["<pad>", "man"]}, ValueError, "<unk>"),
            ({"sequence_length": 0}, ValueError, "`sequence_length`"),
            ({"sequence_length": 2.0}, ValueError, "`sequence_length`"),
            ({"strip_separators": 1}, TypeError, "`strip_separators`"),
        ):
            kwargs = {"vocabulary": VOCABULARY, **kwargs}
            with self.subTest(kwargs=kwargs):
                with self.assertRaisesRegex(error, pattern):
                    ReferItTokenizer(**kwargs)


class LoadVocabularyTest(TestCase):
    def test_reads_stripped_lines(self):
        path = _write(
            os.path.join(self.get_temp_dir(), "vocabulary.txt"),
            "<pad>\n<go>\n<eos>\n<unk>\n man \n,\n\ncafé\n",
        )
        words = load_vocabulary(path)
        self.assertEqual(
            words, ["<pad>", "<go>", "<eos>", "<unk>", "man", ",", "", "café"]
        )
        self.assertAllEqual(
            ReferItTokenizer(words)(["man,café"])[0], _padded([4, 5, 7])
        )

    def test_errors_name_the_file(self):
        folder = self.get_temp_dir()
        missing = os.path.join(folder, "missing.txt")
        with self.assertRaisesRegex(FileNotFoundError, "missing.txt"):
            load_vocabulary(missing)
        for name, text, pattern in (
            ("no_pad.txt", "<go>\n<pad>\n<unk>\n", "no_pad.txt.*<pad>"),
            ("no_unk.txt", "<pad>\n<go>\nman\n", "no_unk.txt.*<unk>"),
        ):
            path = _write(os.path.join(folder, name), text)
            with self.assertRaisesRegex(ValueError, pattern):
                load_vocabulary(path)
        latin1 = _write(
            os.path.join(folder, "latin1.txt"),
            "<pad>\n<unk>\ncafé\n",
            "latin-1",
        )
        with self.assertRaisesRegex(ValueError, "latin1.txt.*UTF-8"):
            load_vocabulary(latin1)
        with self.assertRaisesRegex(TypeError, "`path`"):
            load_vocabulary(3)
