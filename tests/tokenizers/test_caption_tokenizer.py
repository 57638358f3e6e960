import keras
import numpy as np
import tensorflow as tf

from keras_lbie.tokenizers.caption_tokenizer import CaptionTokenizer
from keras_lbie.tokenizers.caption_tokenizer import build_vocabulary
from keras_lbie.tokenizers.sentence_tokenizer import SentenceTokenizer
from tests.test_case import TestCase

# Ids: the 2, petals 3, are 4, red 5, yellow 6, centre 7.
VOCABULARY = ["the", "petals", "are", "red", "yellow", "centre"]

# (case, caption, expected ids before padding).
CASES = (
    ("plain", "The petals are red.", [2, 3, 4, 5]),
    (
        "several sentences",
        "Petals: red. The centre is yellow!",
        [3, 5, 2, 7, 1, 6],
    ),
    ("question", "red? yellow", [5, 6]),
    ("out of vocabulary", "The stamens are red", [2, 1, 4, 5]),
    ("punctuation only", " .?!, ", []),
    ("empty", "", []),
    (
        "truncated",
        "the petals are red the centre is yellow",
        [2, 3, 4, 5, 2, 7],
    ),
)


def padded(ids, length=6):
    return ids + [0] * (length - len(ids))


class CaptionTokenizerTest(TestCase):
    def test_layer_behaviors(self):
        self.run_layer_test(
            cls=CaptionTokenizer,
            init_kwargs={"vocabulary": VOCABULARY, "max_words": 6},
            input_data={"text": tf.constant([case[1] for case in CASES])},
            expected_output_shape=(len(CASES), 6),
            expected_num_trainable_weights=0,
            run_training_check=False,
            run_precision_checks=False,
            run_jit_check=False,
        )

    def test_tokenization(self):
        tokenizer = CaptionTokenizer(VOCABULARY, max_words=6)
        ids = tokenizer([caption for _, caption, _ in CASES]).numpy()
        self.assertEqual(ids.dtype, np.int32)
        for row, (case, _, expected) in zip(ids, CASES, strict=True):
            self.assertAllEqual(row, padded(expected), msg=case)

    def test_same_words_as_the_sentence_tokenizer(self):
        # One sentence per caption, word rules unchanged.
        captions = ["The petals are red, the centre: yellow", "Ünïcode petals"]
        sentences = SentenceTokenizer(VOCABULARY, max_sentences=1, max_words=6)
        captions_ids = CaptionTokenizer(VOCABULARY, max_words=6)(captions)
        self.assertAllEqual(captions_ids, sentences(captions)[:, 0])

    def test_detokenize_and_config(self):
        tokenizer = CaptionTokenizer(VOCABULARY, max_words=6)
        ids = tokenizer(["The petals. Are RED!", ""]).numpy()
        self.assertAllEqual(
            tokenizer.detokenize(ids), ["the petals are red", ""]
        )
        config = tokenizer.get_config()
        self.assertNotIn("max_sentences", config)
        self.assertEqual(config["max_words"], 6)
        self.assertEqual(tokenizer.vocabulary_size, len(VOCABULARY) + 2)
        revived = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(tokenizer)
        )
        self.assertIsInstance(revived, CaptionTokenizer)
        self.assertAllEqual(revived(["red petals"]), tokenizer(["red petals"]))

    def test_in_a_dataset_pipeline(self):
        tokenizer = CaptionTokenizer(VOCABULARY, max_words=6)
        dataset = tf.data.Dataset.from_tensor_slices(
            ["The petals are red.", "yellow centre"]
        ).batch(2)
        ids = next(iter(dataset.map(tokenizer)))
        self.assertAllEqual(ids, [padded([2, 3, 4, 5]), padded([6, 7])])

    def test_bad_inputs(self):
        tokenizer = CaptionTokenizer(VOCABULARY, max_words=6)
        with self.assertRaisesRegex(TypeError, "`text`"):
            tokenizer(tf.constant([1, 2]))
        with self.assertRaisesRegex(ValueError, "rank 1"):
            tokenizer(tf.constant([["red"]]))
        with self.assertRaisesRegex(ValueError, "max_words"):
            CaptionTokenizer(VOCABULARY, max_words=0)
        with self.assertRaisesRegex(ValueError, "vocabulary"):
            CaptionTokenizer(["Red"])


class BuildVocabularyTest(TestCase):
    def test_most_frequent_first(self):
        captions = [
            "The petals are red.",
            "Red petals, a yellow centre",
            "THE CENTRE IS RED",
        ]
        self.assertEqual(
            build_vocabulary(captions),
            ["red", "centre", "petals", "the", "a", "are", "is", "yellow"],
        )
        self.assertEqual(
            build_vocabulary(captions, max_size=2), ["red", "centre"]
        )
        self.assertEqual(
            build_vocabulary(captions, min_count=2),
            ["red", "centre", "petals", "the"],
        )
        # Every word is one the tokenizer produces: none is out of vocabulary.
        tokenizer = CaptionTokenizer(build_vocabulary(captions), max_words=8)
        self.assertNotIn(1, tokenizer(captions).numpy())

    def test_errors(self):
        with self.assertRaisesRegex(TypeError, "texts"):
            build_vocabulary("the petals")
        with self.assertRaisesRegex(TypeError, "texts"):
            build_vocabulary(["red", 3])
        with self.assertRaisesRegex(ValueError, "max_size"):
            build_vocabulary(["red"], max_size=0)
        with self.assertRaisesRegex(ValueError, "no word"):
            build_vocabulary(["...", ""])
        with self.assertRaisesRegex(ValueError, "no word"):
            build_vocabulary(["red"], min_count=2)
