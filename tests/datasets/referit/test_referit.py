"""Tests for the ReferIt loader and the ReferIt-format CoSaL writer."""

import json
import os
import shutil
import tempfile

import keras
import numpy as np
import scipy.io
import tensorflow as tf
from absl.testing import parameterized
from PIL import Image

from keras_lbie.datasets import cosal
from keras_lbie.datasets import referit
from keras_lbie.tokenizers.referit_tokenizer import UNK_TOKEN
from keras_lbie.tokenizers.referit_tokenizer import ReferItTokenizer
from keras_lbie.tokenizers.referit_tokenizer import load_vocabulary

# The hand-made fixture: a wide and a tall image, one object each, red on
# blue, at a 16-pixel square.
FIXTURE_SIZE = 16
RED, BLUE = (220, 20, 20), (20, 20, 220)
# image id → (height, width, object rows, object columns).
FIXTURE_IMAGES = {
    "1": (6, 10, slice(1, 4), slice(2, 6)),
    "2": (10, 6, slice(5, 9), slice(0, 3)),
}
FIXTURE_QUERIES = {"1_1": ["the man, left.", "a/b"], "2_1": ["man"]}
# resize_geometry at 16: scale min(16/6, 16/10) = 1.6 → 10 × 16, centred.
FIXTURE_GEOMETRY = {
    "1": {"resized_height": 10, "resized_width": 16, "pad_top": 3},
    "2": {"resized_height": 16, "resized_width": 10, "pad_left": 3},
}

# The generated folder: 6 non-square images (48-pixel scenes stretched),
# loaded at a size that enlarges them, as 512 does ReferIt's photos (shrinking
# blurs the thinnest shapes' colours).
GENERATED_IMAGES, GENERATED_SIZE = 6, (96, 144)
SIZE = 160


def _dump(path, data):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file)


def _write_fixture(root):
    for folder in ("images", "mask"):
        os.makedirs(os.path.join(root, folder))
    for image_id, (height, width, rows, cols) in FIXTURE_IMAGES.items():
        image = np.full((height, width, 3), BLUE, np.uint8)
        image[rows, cols] = RED
        Image.fromarray(image).save(
            os.path.join(root, "images", f"{image_id}.jpg"),
            quality=100,
            subsampling=0,
        )
        segimg = np.ones((height, width), np.uint8)
        segimg[rows, cols] = 0
        scipy.io.savemat(
            os.path.join(root, "mask", f"{image_id}_1.mat"),
            {"segimg_t": segimg},
        )
    _dump(
        os.path.join(root, "referit_imsize.json"),
        {f"{i}.jpg": [w, h] for i, (h, w, _, _) in FIXTURE_IMAGES.items()},
    )
    _dump(
        os.path.join(root, "referit_bbox.json"),
        {"1_1": [2, 1, 5, 3], "2_1": [0, 5, 2, 8]},
    )
    _dump(os.path.join(root, "referit_query_train.json"), FIXTURE_QUERIES)
    with open(os.path.join(root, "referit_train_imlist.txt"), "w") as file:
        file.write("1\n2\n")
    with open(os.path.join(root, "vocabulary_referit.txt"), "w") as file:
        file.write("<pad>\n<go>\n<eos>\n<unk>\nman\n,\nleft\n")
    return root


def _nearest_indices(size_in, size_out):
    # tf.image.resize "nearest" samples pixel centres (half-pixel).
    return np.floor((np.arange(size_out) + 0.5) * size_in / size_out).astype(
        int
    )


def _elements(dataset):
    return list(dataset.as_numpy_iterator())


def _one(meta, i):
    return {key: value[i] for key, value in meta.items()}


def _centroid(mask):
    return np.mean(np.nonzero(mask), axis=1)


def _read_json(root, name):
    with open(os.path.join(root, name), encoding="utf-8") as file:
        return json.load(file)


class ReferItFixtureTest(tf.test.TestCase, parameterized.TestCase):
    """The loader on a hand-made folder: geometry and every error path."""

    def setUp(self):
        super().setUp()
        self.root = _write_fixture(tempfile.mkdtemp(dir=self.get_temp_dir()))

    def test_load_index(self):
        index = referit.load_index(self.root, "train", check_masks=True)
        self.assertEqual(index.split, "train")
        self.assertEqual(
            index.vocabulary[:4], ["<pad>", "<go>", "<eos>", "<unk>"]
        )
        self.assertEqual(
            [(e.query_id, e.expression) for e in index.examples],
            [("1_1", "the man, left."), ("1_1", "a/b"), ("2_1", "man")],
        )
        first = index.examples[0]
        self.assertEqual((first.height, first.width), (6, 10))
        self.assertEqual(first.bbox, (2, 1, 5, 3))
        self.assertEqual(
            first.image_path, os.path.join(self.root, "images", "1.jpg")
        )

    def test_resize_and_pad_geometry(self):
        dataset = referit.as_dataset(
            self.root, "train", 3, image_size=FIXTURE_SIZE, with_meta=True
        )
        ((x, y, meta),) = _elements(dataset)
        self.assertEqual(x["image"].dtype, np.uint8)
        self.assertEqual(x["image"].shape, (3, FIXTURE_SIZE, FIXTURE_SIZE, 3))
        self.assertAllEqual(x["text"], [b"the man, left.", b"a/b", b"man"])
        for i, image_id in enumerate(("1", "1", "2")):
            height, width, rows, cols = FIXTURE_IMAGES[image_id]
            geometry = {
                "pad_top": 0,
                "pad_left": 0,
                **FIXTURE_GEOMETRY[image_id],
            }
            with self.subTest(image_id=image_id, example=i):
                self.assertEqual(
                    (meta["height"][i], meta["width"][i]), (height, width)
                )
                self.assertAllClose(meta["scale"][i], 1.6)
                for key, value in geometry.items():
                    self.assertEqual(meta[key][i], value, msg=key)
                top, left = geometry["pad_top"], geometry["pad_left"]
                rh, rw = geometry["resized_height"], geometry["resized_width"]
                original = np.zeros((height, width), np.int32)
                original[rows, cols] = 1
                expected = np.zeros((FIXTURE_SIZE, FIXTURE_SIZE), np.int32)
                expected[top : top + rh, left : left + rw] = original[
                    _nearest_indices(height, rh)[:, None],
                    _nearest_indices(width, rw),
                ]
                self.assertAllEqual(y[i], expected)
                # Zero padding outside the resized image, its colours inside.
                inside = np.zeros_like(expected, bool)
                inside[top : top + rh, left : left + rw] = True
                self.assertEqual(x["image"][i][~inside].max(), 0)
                for region, colour in (
                    (expected == 1, RED),
                    (inside & (expected == 0), BLUE),
                ):
                    median = np.median(x["image"][i][region], axis=0)
                    self.assertAllClose(median, colour, atol=25)
                self.assertEqual(meta["query_id"][i], f"{image_id}_1".encode())

    def test_unpad_and_resize_inverts_the_padding(self):
        dataset = referit.as_dataset(
            self.root, "train", 3, image_size=FIXTURE_SIZE, with_meta=True
        )
        ((_, y, meta),) = _elements(dataset)
        for i in range(3):
            one = _one(meta, i)
            back = referit.unpad_and_resize(y[i], one)
            original = referit.load_mask(one["mask_path"].decode())
            self.assertAllEqual(back, original.astype(np.int32))
            # Channels and other methods: scores come back at the same size.
            scores = tf.stack([tf.cast(y[i], tf.float32)] * 2, axis=-1)
            resized = referit.unpad_and_resize(scores, one, method="bilinear")
            self.assertEqual(resized.shape, original.shape + (2,))
            self.assertEqual(resized.dtype, tf.float32)

    def test_unpad_and_resize_in_tf_function(self):
        meta = {
            "height": 6,
            "width": 10,
            **referit.resize_geometry(6, 10, FIXTURE_SIZE),
        }
        prediction = np.arange(FIXTURE_SIZE**2, dtype=np.int32).reshape(
            FIXTURE_SIZE, FIXTURE_SIZE
        )
        unpad = tf.function(lambda p: referit.unpad_and_resize(p, meta))
        self.assertAllEqual(
            unpad(prediction), referit.unpad_and_resize(prediction, meta)
        )
        self.assertEqual(unpad(prediction).shape, (6, 10))

    def test_unpad_and_resize_rejects_bad_arguments(self):
        meta = {"height": 6, "width": 10, **referit.resize_geometry(6, 10, 16)}
        with self.assertRaisesRegex(ValueError, "`prediction`.*rank"):
            referit.unpad_and_resize(np.zeros((1, 16, 16, 1)), meta)
        del meta["pad_top"]
        with self.assertRaisesRegex(ValueError, "`meta`.*pad_top"):
            referit.unpad_and_resize(np.zeros((16, 16)), meta)

    def _break(self, mutation):
        """Applies one mutation to the fixture folder."""
        root = self.root
        kind, name, *value = mutation
        path = os.path.join(root, name)
        if kind == "remove":
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        elif kind == "write":
            with open(path, "w", encoding="utf-8") as file:
                file.write(value[0])
        elif kind == "json":
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
            value[0](data)
            _dump(path, data)
        elif kind == "mat":
            scipy.io.savemat(path, value[0])

    @parameterized.named_parameters(
        ("no_root", ("remove", ""), FileNotFoundError, "No folder"),
        ("no_images", ("remove", "images"), FileNotFoundError, "images"),
        ("no_mask_dir", ("remove", "mask"), FileNotFoundError, "mask"),
        (
            "no_vocabulary",
            ("remove", "vocabulary_referit.txt"),
            FileNotFoundError,
            "vocabulary_referit.txt",
        ),
        (
            "vocabulary_without_pad",
            ("write", "vocabulary_referit.txt", "<go>\n<pad>\n<unk>\n"),
            ValueError,
            "vocabulary_referit.txt.*<pad>",
        ),
        (
            "no_imsize",
            ("remove", "referit_imsize.json"),
            FileNotFoundError,
            "referit_imsize.json",
        ),
        (
            "malformed_query_json",
            ("write", "referit_query_train.json", '{"1_1": ["man"'),
            ValueError,
            "referit_query_train.json.*not valid JSON",
        ),
        (
            "query_json_not_an_object",
            ("write", "referit_query_train.json", '["1_1"]'),
            ValueError,
            "referit_query_train.json.*JSON object",
        ),
        (
            "expressions_not_a_list",
            ("write", "referit_query_train.json", '{"1_1": "man"}'),
            ValueError,
            "referit_query_train.json.*'1_1'",
        ),
        (
            "bad_query_key",
            ("write", "referit_query_train.json", '{"1-1": ["man"]}'),
            ValueError,
            "referit_query_train.json.*'1-1'",
        ),
        (
            "no_imlist",
            ("remove", "referit_train_imlist.txt"),
            FileNotFoundError,
            "referit_train_imlist.txt",
        ),
        (
            "image_not_in_imlist",
            ("write", "referit_train_imlist.txt", "1\n"),
            ValueError,
            "referit_train_imlist.txt.*'2'",
        ),
        (
            "imsize_entry_missing",
            ("json", "referit_imsize.json", lambda d: d.pop("2.jpg")),
            ValueError,
            "referit_imsize.json.*2.jpg",
        ),
        (
            "imsize_entry_malformed",
            (
                "json",
                "referit_imsize.json",
                lambda d: d.update({"1.jpg": [10]}),
            ),
            ValueError,
            "referit_imsize.json.*1.jpg",
        ),
        (
            "bbox_entry_missing",
            ("json", "referit_bbox.json", lambda d: d.pop("1_1")),
            ValueError,
            "referit_bbox.json.*1_1",
        ),
        (
            "no_image_file",
            ("remove", "images/2.jpg"),
            FileNotFoundError,
            "2.jpg",
        ),
        (
            "no_mask_file",
            ("remove", "mask/1_1.mat"),
            FileNotFoundError,
            "1_1.mat",
        ),
        (
            "mask_without_segimg_t",
            ("mat", "mask/2_1.mat", {"mask": np.zeros((10, 6))}),
            ValueError,
            "2_1.mat.*segimg_t",
        ),
        (
            "mask_of_wrong_size",
            ("mat", "mask/2_1.mat", {"segimg_t": np.zeros((6, 10))}),
            ValueError,
            "2_1.mat.*6 × 10",
        ),
        (
            "mask_not_a_mat_file",
            ("write", "mask/2_1.mat", "not a mat file"),
            ValueError,
            "2_1.mat",
        ),
    )
    def test_load_index_errors_name_the_file(self, mutation, error, pattern):
        self._break(mutation)
        with self.assertRaisesRegex(error, pattern):
            referit.load_index(self.root, "train", check_masks=True)

    def test_first_problem_is_reported(self):
        # Both the imsize entry and the mask file of image 2 are gone: the
        # annotation check comes before the file checks.
        self._break(("json", "referit_imsize.json", lambda d: d.pop("2.jpg")))
        self._break(("remove", "mask/2_1.mat"))
        with self.assertRaisesRegex(ValueError, "referit_imsize.json"):
            referit.load_index(self.root, "train")

    def test_bad_mask_fails_lazily_in_the_pipeline(self):
        self._break(("mat", "mask/2_1.mat", {"mask": np.zeros((10, 6))}))
        # Without `check_masks` the folder validates; the pipeline fails on
        # the mask and names it.
        dataset = referit.as_dataset(self.root, "train", 1, image_size=16)
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, "2_1.mat.*segimg_t"
        ):
            _elements(dataset)

    def test_image_size_mismatch_fails_in_the_pipeline(self):
        self._break(
            (
                "json",
                "referit_imsize.json",
                lambda d: d.update({"2.jpg": [7, 10]}),
            )
        )
        self._break(("mat", "mask/2_1.mat", {"segimg_t": np.zeros((10, 7))}))
        dataset = referit.as_dataset(self.root, "train", 1, image_size=16)
        with self.assertRaisesRegex(
            tf.errors.InvalidArgumentError, "referit_imsize.json.*2.jpg"
        ):
            _elements(dataset)

    def test_png_suffixed_query_keys(self):
        # An older text_objseg revision keys queries "<imid>_<k>.png".
        self._break(
            (
                "write",
                "referit_query_train.json",
                json.dumps({"1_1.png": ["man"]}),
            )
        )
        (example,) = referit.load_index(self.root, "train").examples
        self.assertEqual(example.query_id, "1_1")
        self.assertTrue(example.mask_path.endswith("1_1.mat"))

    def test_empty_split_is_an_error(self):
        self._break(("write", "referit_query_train.json", "{}"))
        with self.assertRaisesRegex(ValueError, "holds no expression"):
            referit.load_index(self.root, "train")

    def test_rejects_bad_arguments(self):
        for call, error, pattern in (
            (
                lambda: referit.load_index(self.root, "dev"),
                ValueError,
                "`split`",
            ),
            (lambda: referit.load_index(3, "train"), TypeError, "`root`"),
            (
                lambda: referit.load_index(self.root, "train", check_masks=1),
                TypeError,
                "`check_masks`",
            ),
            (
                lambda: referit.as_dataset(self.root, "train", 0),
                ValueError,
                "`batch_size`",
            ),
            (
                lambda: referit.as_dataset(self.root, "train", 2, image_size=0),
                ValueError,
                "`image_size`",
            ),
            (
                lambda: referit.as_dataset(self.root, "train", 2, shuffle=None),
                TypeError,
                "`shuffle`",
            ),
            (
                lambda: referit.as_dataset(self.root, "train", 2, seed="1"),
                TypeError,
                "`seed`",
            ),
            (
                lambda: referit.resize_geometry(0, 10),
                ValueError,
                "`height`",
            ),
        ):
            with self.assertRaisesRegex(error, pattern):
                call()

    def test_resize_geometry(self):
        self.assertEqual(
            referit.resize_geometry(360, 480),
            {
                "scale": 512 / 480,
                "resized_height": 384,
                "resized_width": 512,
                "pad_top": 64,
                "pad_left": 0,
            },
        )
        # Rounding half to even, as numpy in text_objseg: 3 × 2.5 = 7.5 → 8,
        # 5 × 2.5 = 12.5 → 12.
        geometry = referit.resize_geometry(3, 5, 12)
        self.assertEqual(
            (geometry["resized_height"], geometry["resized_width"]), (7, 12)
        )
        self.assertEqual(referit.resize_geometry(5, 2, 12)["resized_width"], 5)


class ReferItGeneratedTest(tf.test.TestCase):
    """The writer and the loader on a generated CoSaL folder."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = referit.write_referit_format(
            os.path.join(tempfile.mkdtemp(), "referit"),
            GENERATED_IMAGES,
            seed=3,
            image_size=GENERATED_SIZE,
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(os.path.dirname(cls.root), ignore_errors=True)
        super().tearDownClass()

    def _json(self, name):
        return _read_json(self.root, name)

    def _imlist(self, split):
        path = os.path.join(self.root, f"referit_{split}_imlist.txt")
        with open(path) as file:
            return file.read().split()

    def test_folder_layout(self):
        images = [str(i + 1) for i in range(GENERATED_IMAGES)]
        splits = {s: self._imlist(s) for s in referit.SPLITS}
        self.assertCountEqual(
            splits["train"] + splits["val"] + splits["test"], images
        )
        self.assertCountEqual(
            splits["trainval"], splits["train"] + splits["val"]
        )
        self.assertLen(splits["test"], 1)  # round(6 × 0.2)
        self.assertLen(splits["val"], 1)
        imsize = self._json("referit_imsize.json")
        bbox = self._json("referit_bbox.json")
        for image_id in images:
            with Image.open(
                os.path.join(self.root, "images", f"{image_id}.jpg")
            ) as image:
                self.assertEqual(list(image.size), imsize[f"{image_id}.jpg"])
            self.assertEqual(imsize[f"{image_id}.jpg"], [144, 96])
        for split in referit.SPLITS:
            queries = self._json(f"referit_query_{split}.json")
            self.assertCountEqual(
                queries,
                [f"{i}_{k}" for i in splits[split] for k in range(1, 10)],
            )
            for query_id, expressions in queries.items():
                self.assertLen(expressions, 3)
                mask = referit.load_mask(
                    os.path.join(self.root, "mask", f"{query_id}.mat")
                )
                self.assertEqual(mask.shape, GENERATED_SIZE)
                ys, xs = np.nonzero(mask)
                self.assertEqual(
                    bbox[query_id], [xs.min(), ys.min(), xs.max(), ys.max()]
                )

    def test_vocabulary_covers_every_expression(self):
        vocabulary = load_vocabulary(
            os.path.join(self.root, "vocabulary_referit.txt")
        )
        self.assertEqual(vocabulary[:4], ["<pad>", "<go>", "<eos>", "<unk>"])
        expressions = [
            e
            for es in self._json("referit_query_trainval.json").values()
            for e in es
        ]
        ids = ReferItTokenizer(vocabulary)(expressions).numpy()
        self.assertNotIn(vocabulary.index(UNK_TOKEN), ids)

    def test_deterministic_under_a_seed(self):
        again = referit.write_referit_format(
            os.path.join(self.get_temp_dir(), "again"),
            GENERATED_IMAGES,
            seed=3,
            image_size=GENERATED_SIZE,
        )
        other = referit.write_referit_format(
            os.path.join(self.get_temp_dir(), "other"),
            GENERATED_IMAGES,
            seed=4,
            image_size=GENERATED_SIZE,
        )
        files = [
            os.path.join(folder, name)
            for folder in ("", "images", "mask")
            for name in sorted(os.listdir(os.path.join(self.root, folder)))
            if not os.path.isdir(os.path.join(self.root, folder, name))
        ]
        self.assertLen(files, 12 + GENERATED_IMAGES * 10)
        for name in files:
            first, second = (os.path.join(r, name) for r in (self.root, again))
            if name.endswith(".mat"):
                # A .mat header holds its creation time: compare contents.
                self.assertAllEqual(
                    referit.load_mask(first), referit.load_mask(second)
                )
                continue
            with open(first, "rb") as a, open(second, "rb") as b:
                self.assertEqual(a.read(), b.read(), msg=name)
        self.assertNotEqual(
            self._json("referit_query_train.json"),
            _read_json(other, "referit_query_train.json"),
        )

    def test_element_spec_and_count(self):
        dataset = referit.as_dataset(self.root, "train", 8, image_size=SIZE)
        x_spec, y_spec = dataset.element_spec
        self.assertEqual(
            x_spec,
            {
                "image": tf.TensorSpec((None, SIZE, SIZE, 3), tf.uint8),
                "text": tf.TensorSpec((None,), tf.string),
            },
        )
        self.assertEqual(y_spec, tf.TensorSpec((None, SIZE, SIZE), tf.int32))
        # One element per (object, expression) pair: 9 objects × 3.
        num_train = len(self._imlist("train")) * 27
        sizes = [len(y) for _, y in _elements(dataset)]
        self.assertEqual(sum(sizes), num_train)
        dropped = referit.as_dataset(
            self.root, "train", 8, image_size=SIZE, drop_remainder=True
        )
        self.assertEqual(dropped.element_spec[1].shape, (8, SIZE, SIZE))
        self.assertEqual(len(_elements(dropped)), num_train // 8)

    def test_masks_fall_on_the_named_shapes(self):
        dataset = referit.as_dataset(
            self.root, "test", 27, image_size=SIZE, with_meta=True
        )
        ((x, y, meta),) = _elements(dataset)
        texts = [t.decode() for t in x["text"]]
        colours = dict(zip(cosal.COLOR_NAMES, cosal.PALETTE_RGB, strict=True))
        masks = {}
        for i, text in enumerate(texts):
            masks[text] = y[i]
            # Every object is a non-empty part of the image, never padding.
            self.assertGreater(y[i].sum(), 0)
            one = _one(meta, i)
            self.assertEqual(y[i][: one["pad_top"]].sum(), 0)
            # A "the <colour> <shape>" expression: the mask's pixels have
            # that colour (JPEG blurs the edges, hence the median).
            for name, rgb in colours.items():
                if text.startswith(f"the {name} "):
                    median = np.median(x["image"][i][y[i] == 1], axis=0)
                    self.assertAllClose(median, rgb, atol=30, msg=text)
            # The three expressions of an object share its mask.
            self.assertAllEqual(y[i], y[i - i % 3])
        # "the shape left of the diamond" sits one tile left of the diamond.
        offsets = {
            "above": (-1, 0),
            "below": (1, 0),
            "left of": (0, -1),
            "right of": (0, 1),
        }
        # Tile height and width in the padded square.
        height, width = GENERATED_SIZE
        tile = np.array([SIZE * height / width, SIZE]) / 3
        relational = [t for t in texts if t.startswith("the shape ")]
        self.assertLen(relational, 9)
        for text in relational:
            relation, shape = next(
                (r, text[len(f"the shape {r} the ") :])
                for r in offsets
                if text.startswith(f"the shape {r} the ")
            )
            expected = (
                _centroid(masks[f"the {shape}"]) + tile * offsets[relation]
            )
            error = np.abs(_centroid(masks[text]) - expected)
            self.assertTrue(np.all(error < tile / 2), msg=text)

    def test_round_trip_to_original_size(self):
        dataset = referit.as_dataset(
            self.root, "val", 27, image_size=SIZE, with_meta=True
        )
        ((_, y, meta),) = _elements(dataset)
        for i in range(len(y)):
            one = _one(meta, i)
            original = referit.load_mask(one["mask_path"].decode())
            self.assertAllEqual(
                referit.unpad_and_resize(y[i], one), original.astype(np.int32)
            )

    def test_round_trip_at_referit_geometry(self):
        # A 480 × 360 photo at 512, as in the paper: scale 16/15, 384 rows
        # padded by 64 above and below.
        root = referit.write_referit_format(
            os.path.join(self.get_temp_dir(), "photo"),
            1,
            image_size=(360, 480),
            test_fraction=0.0,
            val_fraction=0.0,
        )
        dataset = referit.as_dataset(root, "train", 9, with_meta=True)
        x, y, meta = next(iter(dataset))
        self.assertEqual(x["image"].shape, (9, 512, 512, 3))
        self.assertAllEqual(meta["pad_top"], [64] * 9)
        self.assertAllEqual(meta["resized_height"], [384] * 9)
        for i in range(9):
            one = _one(meta, i)
            original = referit.load_mask(one["mask_path"].numpy().decode())
            self.assertAllEqual(
                referit.unpad_and_resize(y[i], one), original.astype(np.int32)
            )

    def test_shuffle(self):
        def order(**kwargs):
            dataset = referit.as_dataset(
                self.root, "val", 27, image_size=8, with_meta=True, **kwargs
            )
            ((x, _, meta),) = _elements(dataset)
            return list(zip(meta["query_id"], x["text"], strict=True))

        plain = order()
        shuffled = order(shuffle=True, seed=1)
        self.assertEqual(shuffled, order(shuffle=True, seed=1))
        self.assertNotEqual(shuffled, plain)
        self.assertCountEqual(shuffled, plain)

    def test_trains_a_model_with_the_tokenizer(self):
        # The full path: raw strings in, tokenized inside the model.
        index = referit.load_index(self.root, "train")
        image = keras.Input((SIZE, SIZE, 3), dtype="uint8", name="image")
        text = keras.Input((), dtype="string", name="text")
        ids = ReferItTokenizer(index.vocabulary)(text)
        words = keras.layers.Embedding(len(index.vocabulary), 4)(ids)
        sentence = keras.layers.GlobalAveragePooling1D()(words)
        features = keras.layers.Conv2D(4, 3, padding="same")(
            keras.layers.Rescaling(1 / 255)(image)
        )
        fused = features + keras.layers.Reshape((1, 1, 4))(sentence)
        logits = keras.layers.Conv2D(2, 1)(fused)
        model = keras.Model({"image": image, "text": text}, logits)
        model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        dataset = referit.as_dataset(
            self.root, "train", 16, image_size=SIZE, shuffle=True, seed=0
        ).take(2)
        history = model.fit(dataset, epochs=1, verbose=0, shuffle=False)
        self.assertTrue(np.isfinite(history.history["loss"][-1]))
        keras.backend.clear_session()

    def test_writer_rejects_bad_arguments(self):
        out = os.path.join(self.get_temp_dir(), "bad")
        for kwargs, error, pattern in (
            ({"num_images": 0}, ValueError, "`num_images`"),
            ({"image_size": 40}, ValueError, "`image_size`.*scene_size"),
            ({"image_size": (48, 48, 3)}, ValueError, "`image_size`"),
            ({"scene_size": 40}, ValueError, "`scene_size`"),
            ({"val_fraction": 0.6, "test_fraction": 0.5}, ValueError, "<= 1"),
            ({"val_fraction": -0.1}, ValueError, "`val_fraction`"),
            ({"test_fraction": "0.2"}, TypeError, "`test_fraction`"),
            ({"jpeg_quality": 101}, ValueError, "`jpeg_quality`"),
            ({"out_dir": None}, TypeError, "`out_dir`"),
        ):
            kwargs = {"out_dir": out, "num_images": 2, **kwargs}
            with self.subTest(kwargs=kwargs):
                with self.assertRaisesRegex(error, pattern):
                    referit.write_referit_format(**kwargs)
