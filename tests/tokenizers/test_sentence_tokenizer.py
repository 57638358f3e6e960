import os

import keras
import numpy as np
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.layers.hierarchical_text_encoder import HierarchicalTextEncoder
from keras_lbie.tokenizers import cosal_vocabulary
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from tests.test_case import TestCase

# Ids: the 2, circle 3, is 4, red 5, light 6, green 7, ünïcode 8, 3 9.
VOCABULARY = ["the", "circle", "is", "red", "light", "green", "ünïcode", "3"]
MAX_SENTENCES, MAX_WORDS = 3, 4

# (case, text, expected sentences as id lists before padding).
CASES = (
    ("plain", "The circle is red.", [[2, 3, 4, 5]]),
    ("mixed case", "THE Circle iS rEd.", [[2, 3, 4, 5]]),
    ("extra whitespace", "  the\tcircle \n is   red .  ", [[2, 3, 4, 5]]),
    ("no final period", "The circle. Is red", [[2, 3], [4, 5]]),
    ("exclamation, question", "Red! Circle? Green.", [[5], [3], [7]]),
    ("punctuation", 'the, "circle"; is: (red)', [[2, 3, 4, 5]]),
    ("hyphen", "light-green", [[6, 7]]),
    ("apostrophe", "the circle's", [[2, 3, 1]]),
    ("out of vocabulary", "The square is blue.", [[2, 1, 4, 1]]),
    ("empty", "", []),
    ("only punctuation", " ...!?, ; ", []),
    ("empty sentences dropped", "red.. . !circle", [[5], [3]]),
    ("too many sentences", "Red. Green. Circle. The.", [[5], [7], [3]]),
    ("too many words", "the circle is red light green", [[2, 3, 4, 5]]),
    ("unicode lower-cased", "ÜNÏCODE is red", [[8, 4, 5]]),
    ("no-break space", "red\u00a0green", [[5, 7]]),
    ("decimal point", "3.5 red", [[9], [1, 5]]),
)


def _padded(sentences):
    ids = np.zeros((MAX_SENTENCES, MAX_WORDS), "int32")
    for row, words in enumerate(sentences):
        ids[row, : len(words)] = words
    return ids


def _tokenizer():
    return SentenceTokenizer(
        VOCABULARY, max_sentences=MAX_SENTENCES, max_words=MAX_WORDS
    )


def _cosal_sentences(text):
    # The lower-cased sentences of a CoSaL text, without their '.'.
    return [s.strip().lower() for s in text.split(".") if s.strip()]


class SentenceTokenizerTest(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=SentenceTokenizer,
            init_kwargs={
                "vocabulary": VOCABULARY,
                "max_sentences": MAX_SENTENCES,
                "max_words": MAX_WORDS,
            },
            input_data={"text": np.array(["The circle. Is red", ""])},
            expected_output_shape=(2, MAX_SENTENCES, MAX_WORDS),
            expected_num_trainable_weights=0,
            # No weights to train, and string ops do not compile with XLA.
            run_training_check=False,
            run_jit_check=False,
        )

    def test_tricky_inputs(self):
        texts = [text for _, text, _ in CASES]
        ids = _tokenizer()(texts).numpy()
        self.assertEqual(ids.dtype, np.int32)
        self.assertEqual(ids.shape, (len(CASES), MAX_SENTENCES, MAX_WORDS))
        for row, (case, _, expected) in zip(ids, CASES, strict=True):
            with self.subTest(case):
                self.assertAllEqual(row, _padded(expected))

    def test_invalid_utf8_separates_words(self):
        ids = _tokenizer()(tf.constant([b"red\xffgreen"]))
        self.assertAllEqual(ids[0], _padded([[5, 7]]))

    def test_accepts_numpy_and_tensors(self):
        tokenizer = _tokenizer()
        expected = tokenizer(["the circle", "red"])
        for text in (
            np.array(["the circle", "red"]),
            np.array(["the circle", "red"], dtype=object),
            np.array([b"the circle", b"red"]),
            tf.constant(["the circle", "red"]),
        ):
            self.assertAllEqual(tokenizer(text), expected)

    def test_cosal_texts_round_trip(self):
        texts = cosal.generate(200, num_direct=4, seed=0)["text"]
        tokenizer = SentenceTokenizer(cosal_vocabulary())
        ids = tokenizer(texts).numpy()
        self.assertEqual(ids.shape, (200, 9, 11))
        self.assertNotIn(1, ids, "out-of-vocabulary CoSaL word")
        # Every vocabulary word is used: no word is missing or extra.
        self.assertEqual(
            set(np.unique(ids)) - {0}, set(range(2, tokenizer.vocabulary_size))
        )
        sentences = tokenizer.detokenize(ids)
        self.assertEqual(sentences.shape, (200, 9))
        for text, row in zip(texts, sentences, strict=True):
            # Nothing truncated: 9 sentences, every word kept.
            self.assertEqual(list(row), _cosal_sentences(text))

    def test_cosal_vocabulary(self):
        vocabulary = cosal_vocabulary()
        self.assertEqual(vocabulary, sorted(set(vocabulary)))
        self.assertIn("light", vocabulary)
        self.assertIn("ellipse", vocabulary)
        self.assertNotIn("light green", vocabulary)
        self.assertLen(vocabulary, 24)

    def test_detokenize(self):
        tokenizer = _tokenizer()
        ids = tokenizer(["The square is red. Circle.", ""])
        self.assertAllEqual(
            tokenizer.detokenize(ids),
            [["the [UNK] is red", "circle", ""], ["", "", ""]],
        )
        self.assertEqual(tokenizer.detokenize([2, 0, 3]), "the circle")

    def test_detokenize_rejects_bad_ids(self):
        tokenizer = _tokenizer()
        with self.assertRaisesRegex(ValueError, "`ids`"):
            tokenizer.detokenize([[2, len(VOCABULARY) + 2]])
        with self.assertRaisesRegex(ValueError, "`ids`"):
            tokenizer.detokenize([[-1]])
        with self.assertRaisesRegex(TypeError, "`ids`"):
            tokenizer.detokenize([[2.0]])
        with self.assertRaisesRegex(ValueError, "`ids`"):
            tokenizer.detokenize(2)

    def test_config_round_trip(self):
        tokenizer = _tokenizer()
        config = tokenizer.get_config()
        self.assertEqual(config["vocabulary"], VOCABULARY)
        self.assertEqual(config["max_sentences"], MAX_SENTENCES)
        self.assertEqual(config["max_words"], MAX_WORDS)
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(tokenizer)
        )
        self.assertIsInstance(revived, SentenceTokenizer)
        self.assertEqual(revived.get_config(), config)
        self.assertAllEqual(revived(["the red"]), tokenizer(["the red"]))

    def test_defaults_and_output_shape(self):
        tokenizer = SentenceTokenizer(VOCABULARY)
        self.assertEqual(tokenizer.vocabulary_size, len(VOCABULARY) + 2)
        self.assertEqual(tokenizer.compute_output_shape((None,)), (None, 9, 11))
        self.assertEqual(tokenizer(["red"]).shape, (1, 9, 11))

    def test_functional_model_and_keras_saving(self):
        text = keras.Input(shape=(), dtype="string", name="text")
        ids = _tokenizer()(text)
        self.assertEqual(ids.shape, (None, MAX_SENTENCES, MAX_WORDS))
        self.assertEqual(ids.dtype, "int32")
        model = keras.Model(text, ids)
        texts = np.array([text for _, text, _ in CASES], dtype=object)
        expected = model(texts)
        path = os.path.join(self.get_temp_dir(), "tokenizer.keras")
        model.save(path)
        restored = keras.models.load_model(path)
        self.assertAllEqual(restored(texts), expected)
        self.assertAllEqual(restored.predict(texts, verbose=0), expected)

    def test_feeds_hierarchical_text_encoder(self):
        tokenizer = SentenceTokenizer(cosal_vocabulary())
        text = keras.Input(shape=(), dtype="string")
        encoder = HierarchicalTextEncoder(
            tokenizer.vocabulary_size,
            embedding_dim=4,
            word_units=3,
            sentence_units=5,
        )
        model = keras.Model(text, encoder(tokenizer(text)))
        features = model(cosal.generate(2, seed=1)["text"])
        self.assertEqual(features.shape, (2, 9, 5))

    def test_dataset_map(self):
        tokenizer = _tokenizer()
        texts = [text for _, text, _ in CASES]
        dataset = tf.data.Dataset.from_tensor_slices(texts).batch(4)
        mapped = np.concatenate(
            list(dataset.map(tokenizer).as_numpy_iterator())
        )
        self.assertAllEqual(mapped, tokenizer(texts))

    def test_dataset_map_feeds_xla_training(self):
        # The docstring's route for XLA (and multi-replica) training: the
        # model sees int ids only.
        tokenizer = SentenceTokenizer(cosal_vocabulary())
        texts = cosal.generate(8, seed=0)["text"]
        dataset = (
            tf.data.Dataset.from_tensor_slices((texts, np.ones(8, "float32")))
            .batch(4)
            .map(lambda text, y: (tokenizer(text), y))
        )
        ids = keras.Input(shape=(9, 11), dtype="int32")
        embedded = keras.layers.Embedding(tokenizer.vocabulary_size, 2)(ids)
        score = keras.layers.Dense(1)(keras.layers.Flatten()(embedded))
        model = keras.Model(ids, score)
        model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        history = model.fit(dataset, epochs=1, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][-1]))

    def test_tf_function_with_unknown_rank(self):
        tokenizer = _tokenizer()
        tokenize = tf.function(
            tokenizer, input_signature=[tf.TensorSpec(None, tf.string)]
        )
        self.assertAllEqual(tokenize(tf.constant(["red"])), tokenizer(["red"]))
        with self.assertRaises(tf.errors.InvalidArgumentError):
            tokenize(tf.constant("red"))

    def test_saved_model_of_module(self):
        tokenizer = _tokenizer()
        module = tf.Module()
        module.tokenizer = tokenizer
        module.tokenize = tf.function(
            tokenizer, input_signature=[tf.TensorSpec([None], tf.string)]
        )
        path = os.path.join(self.get_temp_dir(), "module")
        tf.saved_model.save(module, path)
        restored = tf.saved_model.load(path)
        texts = tf.constant([text for _, text, _ in CASES])
        self.assertAllEqual(restored.tokenize(texts), tokenizer(texts))

    def test_model_export(self):
        # `Model.export` is the TF Serving path: its endpoint must carry the
        # table without the user tracking it by hand.
        text = keras.Input(shape=(), dtype="string")
        model = keras.Model(text, _tokenizer()(text))
        path = os.path.join(self.get_temp_dir(), "exported")
        model.export(path, format="tf_saved_model", verbose=False)
        restored = tf.saved_model.load(path)
        texts = tf.constant([text for _, text, _ in CASES])
        self.assertAllEqual(restored.serve(texts), model(texts))
        serving = restored.signatures["serving_default"]
        (outputs,) = serving(texts).values()
        self.assertAllEqual(outputs, model(texts))

    def test_rejects_bad_text(self):
        tokenizer = _tokenizer()
        with self.assertRaisesRegex(ValueError, "`text`.*rank 1"):
            tokenizer([["the circle"]])
        with self.assertRaisesRegex(ValueError, "`text`.*rank 1"):
            tokenizer(tf.constant("the circle"))
        with self.assertRaisesRegex(TypeError, "`text`.*string"):
            tokenizer(np.array([1, 2]))
        with self.assertRaisesRegex(ValueError, "`text`.*rank 1"):
            tokenizer(keras.Input(shape=(2,), dtype="string"))
        with self.assertRaisesRegex(TypeError, "`text`.*string"):
            tokenizer(keras.Input(shape=(), dtype="int32"))

    def test_rejects_bad_vocabulary(self):
        for vocabulary, error in (
            ([], ValueError),
            ("red", TypeError),
            (None, TypeError),
            (["red", 3], TypeError),
            (["red", ""], ValueError),
            (["Red"], ValueError),
            (["light green"], ValueError),
            (["red "], ValueError),
            (["red."], ValueError),
            (["[UNK]"], ValueError),
            (["Ünïcode"], ValueError),
            (["red", "blue", "red"], ValueError),
        ):
            with self.subTest(vocabulary=vocabulary):
                with self.assertRaisesRegex(error, "`vocabulary`"):
                    SentenceTokenizer(vocabulary)

    def test_rejects_bad_sizes(self):
        for name, value in (
            ("max_sentences", 0),
            ("max_sentences", 2.0),
            ("max_words", -1),
            ("max_words", True),
        ):
            with self.subTest(name=name, value=value):
                with self.assertRaisesRegex(ValueError, f"`{name}`"):
                    SentenceTokenizer(VOCABULARY, **{name: value})
