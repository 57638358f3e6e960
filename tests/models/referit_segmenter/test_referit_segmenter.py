import os
import shutil
import tempfile

import keras
import numpy as np
import pytest

from keras_lbie.datasets import referit
from keras_lbie.models import ReferItSegmenter
from keras_lbie.models import ReferItSegmenterBackbone
from keras_lbie.models import available_referit_presets
from keras_lbie.models import conv_image_encoder
from keras_lbie.models import tokenize_dataset
from keras_lbie.tokenizers import ReferItTokenizer
from keras_lbie.tokenizers import load_vocabulary
from keras_lbie.tokenizers.referit_tokenizer import SPECIAL_TOKENS
from tests.test_case import TestCase

WORDS = ["the", "red", "circle", "shape", "left", "of"]
VOCABULARY = [*SPECIAL_TOKENS, *WORDS]
# text_objseg's ReferIt vocabulary size: the paper model's embedding rows.
REFERIT_VOCABULARY_SIZE = 8803


def paper_vocabulary():
    return [*SPECIAL_TOKENS] + [
        f"word{i}" for i in range(REFERIT_VOCABULARY_SIZE - len(SPECIAL_TOKENS))
    ]


def small(**overrides):
    return ReferItSegmenter.from_preset(
        "referit_small", vocabulary=VOCABULARY, **overrides
    )


class ReferItSegmenterTest(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 4 CoSaL scenes, 108 queries; train holds 2 images (54 queries).
        cls.root = referit.write_referit_format(
            os.path.join(tempfile.mkdtemp(), "referit"),
            4,
            seed=1,
            image_size=(48, 64),
            val_fraction=0.25,
            test_fraction=0.25,
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(os.path.dirname(cls.root), ignore_errors=True)
        super().tearDownClass()

    def test_available_presets(self):
        self.assertEqual(
            sorted(available_referit_presets()),
            ["referit_paper", "referit_small"],
        )

    def test_paper_preset_is_the_paper_model(self):
        segmenter = ReferItSegmenter.from_preset(
            "referit_paper", vocabulary=paper_vocabulary()
        )
        backbone = segmenter.backbone
        self.assertEqual(segmenter.image_size, 512)
        self.assertTrue(backbone.uses_vgg16)
        self.assertEqual(
            backbone.image_encoder.output.shape, (None, 16, 16, 512)
        )
        self.assertEqual(backbone.upsampling_factor, 32)
        self.assertEqual(backbone.get_layer("text_encoder").units, 1024)
        fusion = backbone.get_layer("fusion")
        self.assertEqual(
            (fusion.units, fusion.attention_units, fusion.max_steps),
            (1024, 512, 3),
        )
        self.assertEqual(backbone.l2_weight, 5e-4)
        self.assertEqual(segmenter.tokenizer.sequence_length, 20)
        # VGG-16 14.7M, text 17.1M (8803 × 1000 embedding, LSTM 1024),
        # fusion 67.6M, classifier and upsampling 0.5M.
        self.assertEqual(segmenter.count_params(), 99_980_248)

    @pytest.mark.large
    def test_paper_preset_forward_at_512(self):
        segmenter = ReferItSegmenter.from_preset(
            "referit_paper", vocabulary=paper_vocabulary()
        )
        logits = segmenter(
            {
                "image": np.zeros((1, 512, 512, 3), "uint8"),
                "text": np.array(["the man on the left"]),
            }
        )
        self.assertEqual(logits.shape, (1, 512, 512, 2))
        self.assertTrue(np.all(np.isfinite(keras.ops.convert_to_numpy(logits))))

    def test_small_preset_forward(self):
        segmenter = small()
        self.assertEqual(segmenter.image_size, 128)
        self.assertEqual(segmenter.backbone.upsampling_factor, 8)
        self.assertEqual(segmenter.count_params(), 140_844)
        images = np.zeros((2, 128, 128, 3), "uint8")
        texts = np.array(["the red circle", "The shape left of the circle."])
        self.assertEqual(
            segmenter({"image": images, "text": texts}).shape, (2, 128, 128, 2)
        )
        masks = segmenter.segment(images, ["the circle", "circle"])
        self.assertEqual((masks.shape, masks.dtype), ((2, 128, 128), bool))

    def test_from_preset_vocabulary_file_and_overrides(self):
        path = os.path.join(self.root, referit.VOCABULARY_FILE)
        segmenter = ReferItSegmenter.from_preset(
            "referit_small",
            vocabulary=path,
            image_size=32,
            encoder_filters=(4, 8),
            pool_every=1,
            sequence_length=8,
        )
        self.assertEqual(segmenter.tokenizer.vocabulary, load_vocabulary(path))
        self.assertEqual(segmenter.tokenizer.sequence_length, 8)
        self.assertEqual(segmenter.backbone.sequence_length, 8)
        self.assertEqual(
            segmenter.backbone.image_encoder.output.shape, (None, 8, 8, 8)
        )

    def test_from_preset_errors(self):
        with self.assertRaisesRegex(ValueError, "referit_small"):
            ReferItSegmenter.from_preset("cosal", vocabulary=VOCABULARY)
        with self.assertRaisesRegex(ValueError, "max_sentences"):
            small(max_sentences=2)
        with self.assertRaisesRegex(ValueError, "encoder_filters"):
            ReferItSegmenter.from_preset(
                "referit_paper", vocabulary=VOCABULARY, encoder_filters=(4,)
            )
        with self.assertRaisesRegex(ValueError, "<pad>"):
            ReferItSegmenter.from_preset(
                "referit_small", vocabulary=["the", "<unk>"]
            )
        with self.assertRaises(FileNotFoundError):
            ReferItSegmenter.from_preset(
                "referit_small", vocabulary="/no/such/vocabulary.txt"
            )

    def test_constructor_checks(self):
        backbone = ReferItSegmenterBackbone(
            vocabulary_size=len(VOCABULARY),
            image_size=16,
            image_encoder=conv_image_encoder(16, (3,), pool_every=1),
            embedding_dim=2,
            text_units=2,
            fusion_units=2,
            attention_units=2,
            classifier_units=2,
        )
        with self.assertRaisesRegex(TypeError, "ReferItSegmenterBackbone"):
            ReferItSegmenter(keras.Sequential(), ReferItTokenizer(VOCABULARY))
        with self.assertRaisesRegex(TypeError, "ReferItTokenizer"):
            ReferItSegmenter(backbone, None)
        with self.assertRaisesRegex(ValueError, "vocabulary_size"):
            ReferItSegmenter(backbone, ReferItTokenizer(VOCABULARY[:-1]))
        with self.assertRaisesRegex(ValueError, "sequence_length"):
            ReferItSegmenter(
                backbone, ReferItTokenizer(VOCABULARY, sequence_length=5)
            )

    def test_bad_inputs(self):
        segmenter = small(image_size=32)
        images = np.zeros((2, 32, 32, 3), "uint8")
        with self.assertRaisesRegex(ValueError, "image"):
            segmenter({"image": images[:, :16], "text": np.array(["a"] * 2)})
        with self.assertRaisesRegex(TypeError, "text"):
            segmenter({"image": images, "text": np.ones((2,), "int32")})
        with self.assertRaisesRegex(ValueError, "keys"):
            segmenter({"image": images})
        with self.assertRaisesRegex(ValueError, "one description per image"):
            segmenter.segment(images, ["the circle"])

    def test_segment_takes_what_users_have(self):
        segmenter = small(image_size=32)
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (2, 32, 32, 3)).astype("uint8")
        texts = ["the red circle", "the shape left of the circle"]
        masks = segmenter.segment(images, texts)
        self.assertEqual(masks.shape, (2, 32, 32))
        self.assertAllEqual(
            segmenter.segment(images.tolist(), np.array(texts)), masks
        )
        self.assertAllEqual(
            segmenter.segment(images, [t.encode() for t in texts]), masks
        )
        self.assertEqual(segmenter.segment(images[:0], []).shape, (0, 32, 32))
        images = images.astype("float32")
        images[0, 0, 0, 0] = np.nan
        with self.assertRaisesRegex(ValueError, "`images` holds 1 NaN"):
            segmenter.segment(images, texts)

    def test_saving_round_trip(self):
        segmenter = small()
        inputs = {
            "image": np.random.default_rng(0)
            .integers(0, 256, (2, 128, 128, 3))
            .astype("uint8"),
            "text": np.array(["the red circle", "a square"]),
        }
        path = os.path.join(self.get_temp_dir(), "segmenter.keras")
        segmenter.save(path)
        restored = keras.saving.load_model(path)
        self.assertIsInstance(restored, ReferItSegmenter)
        self.assertAllClose(segmenter(inputs), restored(inputs), atol=1e-5)

    @pytest.mark.large
    def test_fit_reduces_loss_on_a_referit_folder(self):
        segmenter = small(image_size=32, termination_mode="expected", seed=0)
        train = tokenize_dataset(
            referit.as_dataset(
                self.root, "train", 27, image_size=32, drop_remainder=True
            ),
            segmenter.tokenizer,
        )
        x, _ = next(iter(train))
        self.assertEqual(x["token_ids"].shape, (27, 20))
        backbone = segmenter.backbone
        backbone.compile(optimizer=keras.optimizers.Adam(1e-2))
        history = backbone.fit(train, epochs=6, verbose=0).history
        self.assertLess(history["loss"][-1], 0.8 * history["loss"][0])

    @pytest.mark.large
    def test_jit_compile_matches_eager(self):
        segmenter = small(image_size=32)
        backbone = segmenter.backbone
        x = {
            "image": np.random.default_rng(0)
            .integers(0, 256, (3, 32, 32, 3))
            .astype("uint8"),
            "token_ids": segmenter.tokenizer(
                ["the red circle", "the shape left of the circle", ""]
            ).numpy(),
        }
        self.assert_jit_compile_matches_eager(backbone, x, atol=1e-4)

    @pytest.mark.large
    def test_two_replicas_match_one_device(self):
        # Expected mode is deterministic in training, as the check needs; a
        # large L2 weight checks that the penalty is scaled per replica.
        rng = np.random.default_rng(0)
        tokenizer = ReferItTokenizer(VOCABULARY)
        texts = [" ".join(rng.choice(WORDS, size=3)) for _ in range(12)]
        x = {
            "image": rng.uniform(0, 255, (12, 32, 32, 3)).astype("float32"),
            "token_ids": tokenizer(texts).numpy(),
        }
        y = (rng.uniform(size=(12, 32, 32)) < 0.3).astype("int32")
        self.run_distributed_equivalence_check(
            lambda: (
                small(
                    image_size=32, termination_mode="expected", l2_weight=0.05
                ).backbone
            ),
            x,
            y,
            loss=None,
            steps=3,
            global_batch_size=4,
        )

    def test_task_basics(self):
        inputs = {
            "image": np.zeros((2, 128, 128, 3), "uint8"),
            "text": np.array(
                ["the red circle", "the shape left of"], dtype=object
            ),
        }
        segmenter = self.run_preset_test(
            ReferItSegmenter,
            "referit_small",
            inputs,
            (2, 128, 128, 2),
            vocabulary=VOCABULARY,
        )
        self.run_task_test(segmenter, inputs, (2, 128, 128, 2))
