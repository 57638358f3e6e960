import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.export import DEFAULT_SIGNATURE
from keras_lbie.export import ENCODED_SIGNATURE
from keras_lbie.export import export_saved_model
from keras_lbie.export.export_saved_model import _rgb_on_white
from keras_lbie.models.lbie_colorizer import colorize_at_input_size
from keras_lbie.models.lbie_colorizer import scaled_lightness
from keras_lbie.models.lbie_segmenter import CLASS_COLORS
from keras_lbie.studio.image_io import composite_on_white
from tests.test_case import TestCase

# Runs where keras_lbie cannot be imported: the proof that serving needs
# TensorFlow alone.
_TF_ONLY_SCRIPT = """
import json, sys
sys.modules["keras_lbie"] = None  # any import of it now fails
import numpy as np
import pytest
import tensorflow as tf
path, inputs_file, outputs_file = sys.argv[1:]
inputs = np.load(inputs_file, allow_pickle=True)
serve = tf.saved_model.load(path).signatures["serving_default"]
outputs = serve(
    image=tf.constant(inputs["image"]),
    text=tf.constant([t.encode() for t in inputs["text"]]),
)
np.savez(outputs_file, **{k: v.numpy() for k, v in outputs.items()})
print(json.dumps(sorted(outputs)))
"""


def saved_model_cli_signatures(path):
    """`{signature: {tensor name: dtype}}` as `saved_model_cli` shows them.

    Leaves out TF's own `__saved_model_init_op`, which every SavedModel has.
    """
    shown = subprocess.run(
        ["saved_model_cli", "show", "--all", "--dir", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    signatures = {}
    for section in shown.split("signature_def['")[1:]:
        name = section.split("'")[0]
        if name.startswith("__"):
            continue
        signatures[name] = dict(
            re.findall(r"\['(\w+)'\] tensor_info:\s+dtype: (DT_\w+)", section)
        )
    return signatures


def serve_in_tensorflow_only_process(test, path, images, texts):
    """`serving_default`'s outputs, computed where keras_lbie is absent."""
    inputs = os.path.join(test.get_temp_dir(), "inputs.npz")
    outputs = os.path.join(test.get_temp_dir(), "outputs.npz")
    np.savez(inputs, image=images, text=np.array(texts))
    result = subprocess.run(
        [sys.executable, "-c", _TF_ONLY_SCRIPT, path, inputs, outputs],
        capture_output=True,
        text=True,
    )
    test.assertEqual(result.returncode, 0, result.stderr[-2000:])
    names = json.loads(result.stdout.strip().splitlines()[-1])
    served = dict(np.load(outputs))
    test.assertEqual(sorted(served), names)
    return served


class BadRequestChecks:
    """Request checks every exported model shares (a mixin of tests).

    Needs `self.signatures` and `self.images`, uint8 `(batch, 48, 48, 3)`.
    """

    def test_bad_requests_fail_with_a_clear_message(self):
        image = self.images[:2]
        cases = (
            (
                dict(image=image[:0], text=tf.constant([], tf.string)),
                "The request is empty",
            ),
            (
                dict(image=image, text=tf.constant(["only one"])),
                "`text` must hold one description per image",
            ),
            (
                dict(image=image[:, :0], text=tf.constant(["a", "b"])),
                "`image` must have a height and width of at least 1",
            ),
            (
                dict(
                    image=tf.constant(image, tf.float32),
                    text=tf.constant(["a", "b"]),
                ),
                "expected to be a uint8 tensor",
            ),
        )
        for kwargs, message in cases:
            with self.assertRaisesRegex(Exception, message):
                self.signatures[DEFAULT_SIGNATURE](**kwargs)
        encoded_cases = (
            ([b"not an image"], ["a"], "Unknown image file format"),
            ([b""], ["a"], "one is empty"),
            ([], [], "The request is empty"),
            (
                [tf.io.encode_png(image[0]).numpy()] * 2,
                ["a"],
                "`text` must hold one description per image",
            ),
        )
        for files, texts, message in encoded_cases:
            with self.assertRaisesRegex(Exception, message):
                self.signatures[ENCODED_SIGNATURE](
                    image_bytes=tf.constant(files, tf.string),
                    text=tf.constant(texts, tf.string),
                )

    def test_rank_is_checked_by_the_signature(self):
        cases = (
            (self.images[0], ["a"], r"image \[48,48,3\] .* \[\?,\?,\?,3\]"),
            (self.images[:1, ..., :1], ["a"], r"image .* \[\?,\?,\?,3\]"),
            (self.images[:1], [["a"]], r"text \[1,1\] .* \[\?\]"),
        )
        for image, text, message in cases:
            with self.assertRaisesRegex(Exception, message):
                self.signatures[DEFAULT_SIGNATURE](
                    image=tf.constant(image), text=tf.constant(text)
                )
        with self.assertRaisesRegex(Exception, r"image_bytes \[1,1\]"):
            self.signatures[ENCODED_SIGNATURE](
                image_bytes=tf.constant([[b"x"]]), text=tf.constant(["a"])
            )


class ExportSavedModelTest(BadRequestChecks, TestCase):
    @pytest.fixture(autouse=True, scope="class")
    def exported(self, request, exported_segmenter):
        cls = request.cls
        cls.segmenter, cls.export_dir, cls.path = exported_segmenter
        cls.signatures = tf.saved_model.load(cls.path).signatures
        data = cosal.generate(4, seed=5)
        cls.images, cls.texts = data["image"], list(data["text"])

    def predict(self, images):
        return self.segmenter.predict(
            {
                "image": images.astype("float32"),
                "text": np.array(self.texts, object),
            },
            verbose=0,
        )

    def serve(self, images, texts=None):
        texts = self.texts if texts is None else texts
        return self.signatures[DEFAULT_SIGNATURE](
            image=tf.constant(images), text=tf.constant(texts, tf.string)
        )

    def test_tf_serving_layout(self):
        self.assertEqual(self.path, os.path.join(self.export_dir, "cosal", "3"))
        self.assertTrue(
            os.path.isfile(os.path.join(self.path, "saved_model.pb"))
        )

    @pytest.mark.large
    def test_saved_model_cli_lists_the_signatures(self):
        self.assertEqual(
            saved_model_cli_signatures(self.path),
            {
                DEFAULT_SIGNATURE: {
                    "image": "DT_UINT8",
                    "text": "DT_STRING",
                    "logits": "DT_FLOAT",
                    "labels": "DT_INT32",
                    "edited_image": "DT_UINT8",
                },
                ENCODED_SIGNATURE: {
                    "image_bytes": "DT_STRING",
                    "text": "DT_STRING",
                    "logits": "DT_FLOAT",
                    "edited_png_bytes": "DT_STRING",
                },
            },
        )

    @pytest.mark.large
    def test_tensorflow_only_process_matches_predict(self):
        served = serve_in_tensorflow_only_process(
            self, self.path, self.images, self.texts
        )
        self.assertEqual(sorted(served), ["edited_image", "labels", "logits"])
        logits = self.predict(self.images)
        self.assertAllClose(served["logits"], logits, atol=1e-5)
        labels = np.argmax(logits, axis=-1)
        self.assertAllEqual(served["labels"], labels)
        self.assertAllEqual(served["edited_image"], CLASS_COLORS[labels])
        self.assertAllEqual(
            served["edited_image"], self.segmenter.edit(self.images, self.texts)
        )

    def test_other_sizes_are_resized_in_the_graph(self):
        for height, width in ((96, 96), (30, 70)):
            images = tf.cast(
                tf.image.resize(self.images, (height, width)), tf.uint8
            ).numpy()
            outputs = self.serve(images)
            resized = tf.image.resize(images, (48, 48), antialias=True)
            self.assertAllClose(
                outputs["logits"], self.predict(resized.numpy()), atol=1e-4
            )
            self.assertEqual(outputs["labels"].shape, (4, height, width))
            self.assertEqual(
                outputs["edited_image"].shape, (4, height, width, 3)
            )

    def test_encoded_images_of_mixed_sizes_in_one_batch(self):
        sizes = ((48, 48), (64, 80), (20, 33), (48, 48))
        files, expected = [], []
        for image, size in zip(self.images, sizes, strict=True):
            resized = tf.cast(tf.image.resize(image, size), tf.uint8)
            files.append(tf.io.encode_png(resized).numpy())
            expected.append(self.serve(resized[None].numpy(), [""]))
        texts = [""] * 4
        outputs = self.signatures[ENCODED_SIGNATURE](
            image_bytes=tf.constant(files), text=tf.constant(texts)
        )
        for index, size in enumerate(sizes):
            edited = tf.io.decode_png(
                outputs["edited_png_bytes"][index]
            ).numpy()
            self.assertEqual(edited.shape, (*size, 3))
            self.assertAllEqual(edited, expected[index]["edited_image"][0])
            self.assertAllClose(
                outputs["logits"][index], expected[index]["logits"][0]
            )

    def test_jpeg_and_grayscale_files(self):
        gray = tf.image.rgb_to_grayscale(self.images[:1])[0]
        files = [
            tf.io.encode_jpeg(self.images[0]).numpy(),
            tf.io.encode_png(gray).numpy(),
        ]
        outputs = self.signatures[ENCODED_SIGNATURE](
            image_bytes=tf.constant(files), text=tf.constant(self.texts[:2])
        )
        self.assertEqual(outputs["logits"].shape, (2, 48, 48, 7))

    def test_transparent_pixels_are_read_as_white(self):
        """A sketch on a transparent canvas is the sketch on white (as
        CoSaL draws it), not on black; gray + alpha too."""
        image = self.images[0]
        opaque = np.any(image < 255, axis=-1, keepdims=True)
        rgba = np.concatenate(
            [np.where(opaque, image, 0), 255 * opaque], axis=-1
        ).astype(np.uint8)
        gray = image[..., :1]
        gray_alpha = np.concatenate(
            [np.where(opaque, gray, 0), 255 * opaque], axis=-1
        ).astype(np.uint8)
        files = [tf.io.encode_png(x).numpy() for x in (image, rgba, gray_alpha)]
        outputs = self.signatures[ENCODED_SIGNATURE](
            image_bytes=tf.constant(files),
            text=tf.constant([self.texts[0]] * 3),
        )
        self.assertAllEqual(outputs["logits"][1], outputs["logits"][0])
        edited = [
            tf.io.decode_png(png).numpy() for png in outputs["edited_png_bytes"]
        ]
        self.assertAllEqual(edited[1], edited[0])
        gray_rgb = np.repeat(gray[None], 3, axis=-1).astype(np.uint8)
        self.assertAllEqual(
            edited[2], self.serve(gray_rgb, self.texts[:1])["edited_image"][0]
        )

    def test_alpha_is_composited_as_lbie_edit_does(self):
        rgba = np.random.default_rng(0).integers(0, 256, (5, 7, 4), np.uint8)
        self.assertAllEqual(
            _rgb_on_white(tf.constant(rgba)), composite_on_white(rgba)
        )
        self.assertAllEqual(
            _rgb_on_white(tf.constant(rgba[..., :3])), rgba[..., :3]
        )

    def test_bad_arguments(self):
        with self.assertRaisesRegex(TypeError, "`model` must be an"):
            export_saved_model(self.segmenter.backbone, self.export_dir)
        for name in ("", "a/b", "..", 3):
            with self.assertRaisesRegex(ValueError, "`name`"):
                export_saved_model(self.segmenter, self.export_dir, name=name)
        for version in (0, -1, 1.5, "2"):
            with self.assertRaisesRegex((ValueError, TypeError), "version"):
                export_saved_model(
                    self.segmenter, self.export_dir, version=version
                )
        with self.assertRaisesRegex(FileExistsError, "version 3"):
            export_saved_model(
                self.segmenter, self.export_dir, name="cosal", version=3
            )


class ExportColorizerTest(BadRequestChecks, TestCase):
    @pytest.fixture(autouse=True, scope="class")
    def exported(self, request, exported_colorizer):
        cls = request.cls
        cls.colorizer, cls.export_dir, cls.path = exported_colorizer
        cls.signatures = tf.saved_model.load(cls.path).signatures
        data = cosal.generate(4, seed=5)
        # Mid-tones, where most predicted colours are inside the sRGB gamut.
        cls.images = (data["image"] // 2 + 64).astype("uint8")
        cls.texts = list(data["text"])

    def serve(self, images, texts=None):
        texts = self.texts if texts is None else texts
        return self.signatures[DEFAULT_SIGNATURE](
            image=tf.constant(images), text=tf.constant(texts, tf.string)
        )

    def predict_ab(self, images):
        """The colorizer's ab for images at its size (float, 0..255)."""
        return self.colorizer.predict_ab(
            scaled_lightness(images).numpy(), self.texts[: len(images)]
        )

    @pytest.mark.large
    def test_saved_model_cli_lists_the_signatures(self):
        self.assertEqual(
            saved_model_cli_signatures(self.path),
            {
                DEFAULT_SIGNATURE: {
                    "image": "DT_UINT8",
                    "text": "DT_STRING",
                    "ab": "DT_FLOAT",
                    "colorized_image": "DT_UINT8",
                },
                ENCODED_SIGNATURE: {
                    "image_bytes": "DT_STRING",
                    "text": "DT_STRING",
                    "ab": "DT_FLOAT",
                    "colorized_png_bytes": "DT_STRING",
                },
            },
        )

    @pytest.mark.large
    def test_tensorflow_only_process_matches_predict(self):
        served = serve_in_tensorflow_only_process(
            self, self.path, self.images, self.texts
        )
        self.assertEqual(sorted(served), ["ab", "colorized_image"])
        ab = self.predict_ab(self.images)
        # The ab must be colours, not ~0, for the comparisons to mean much.
        self.assertGreater(np.abs(ab).mean(), 0.02)
        self.assertAllClose(served["ab"], ab, atol=1e-4)
        self.assertEqual(served["colorized_image"].dtype, np.uint8)
        self.assertAllClose(
            served["colorized_image"],
            self.colorizer.colorize(self.images, self.texts),
            atol=1,
        )

    def test_other_sizes_keep_their_own_lightness(self):
        for height, width in ((96, 96), (30, 70)):
            images = tf.cast(
                tf.image.resize(self.images, (height, width)), tf.uint8
            ).numpy()
            outputs = self.serve(images)
            resized = tf.image.resize(images, (48, 48), antialias=True)
            self.assertAllClose(
                outputs["ab"], self.predict_ab(resized.numpy()), atol=1e-4
            )
            self.assertEqual(
                outputs["colorized_image"].shape, (4, height, width, 3)
            )
            self.assertAllClose(
                outputs["colorized_image"],
                colorize_at_input_size(images, outputs["ab"]),
                atol=1,
            )

    def test_encoded_images_of_mixed_sizes_jpeg_and_gray(self):
        sizes = ((48, 48), (64, 80), (20, 33), (48, 48))
        files, expected = [], []
        for index, (image, size) in enumerate(
            zip(self.images, sizes, strict=True)
        ):
            resized = tf.cast(tf.image.resize(image, size), tf.uint8)
            if index == 2:
                # A gray file is decoded to (g, g, g), which has its L.
                gray = tf.image.rgb_to_grayscale(resized)
                files.append(tf.io.encode_png(gray).numpy())
                resized = tf.image.grayscale_to_rgb(gray)
            elif index == 3:
                files.append(tf.io.encode_jpeg(resized, quality=100).numpy())
                resized = tf.io.decode_jpeg(files[-1])
            else:
                files.append(tf.io.encode_png(resized).numpy())
            expected.append(
                self.serve(resized[None].numpy(), [self.texts[index]])
            )
        outputs = self.signatures[ENCODED_SIGNATURE](
            image_bytes=tf.constant(files), text=tf.constant(self.texts)
        )
        self.assertEqual(sorted(outputs), ["ab", "colorized_png_bytes"])
        for index, size in enumerate(sizes):
            colorized = tf.io.decode_png(
                outputs["colorized_png_bytes"][index]
            ).numpy()
            self.assertEqual(colorized.shape, (*size, 3))
            # Batched and single convolutions differ in the last float bits,
            # which can flip a rounding.
            self.assertAllClose(
                colorized, expected[index]["colorized_image"][0], atol=1
            )
            self.assertAllClose(
                outputs["ab"][index], expected[index]["ab"][0], atol=1e-5
            )

    def test_bad_arguments(self):
        with self.assertRaisesRegex(TypeError, "`model` must be an"):
            export_saved_model(self.colorizer.backbone, self.export_dir)
        with self.assertRaisesRegex(FileExistsError, "version 1"):
            export_saved_model(
                self.colorizer, self.export_dir, name="colorizer"
            )
