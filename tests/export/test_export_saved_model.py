import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.export import DEFAULT_SIGNATURE
from keras_lbie.export import ENCODED_SIGNATURE
from keras_lbie.export import export_saved_model
from keras_lbie.models import LBIESegmenter
from keras_lbie.models.lbie_segmenter import CLASS_COLORS
from tests.test_case import TestCase

# Runs where keras_lbie cannot be imported: the proof that serving needs
# TensorFlow alone.
_TF_ONLY_SCRIPT = """
import json, sys
sys.modules["keras_lbie"] = None  # any import of it now fails
import numpy as np
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


class ExportSavedModelTest(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.export_dir = tempfile.mkdtemp()
        cls.segmenter = LBIESegmenter.from_preset("cosal_paper", seed=0)
        cls.path = export_saved_model(
            cls.segmenter, cls.export_dir, name="cosal", version=3
        )
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

    def test_saved_model_cli_lists_the_signatures(self):
        shown = subprocess.run(
            ["saved_model_cli", "show", "--all", "--dir", self.path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        default = shown.split(f"signature_def['{DEFAULT_SIGNATURE}']")[1]
        default = default.split("signature_def[")[0]
        for name, dtype in (
            ("image", "DT_UINT8"),
            ("text", "DT_STRING"),
            ("logits", "DT_FLOAT"),
            ("labels", "DT_INT32"),
            ("edited_image", "DT_UINT8"),
        ):
            self.assertRegex(
                default, rf"\['{name}'\] tensor_info:\s+dtype: {dtype}"
            )
        encoded = shown.split(f"signature_def['{ENCODED_SIGNATURE}']")[1]
        for name, dtype in (
            ("image_bytes", "DT_STRING"),
            ("edited_png_bytes", "DT_STRING"),
        ):
            self.assertRegex(
                encoded, rf"\['{name}'\] tensor_info:\s+dtype: {dtype}"
            )

    def test_tensorflow_only_process_matches_predict(self):
        inputs = os.path.join(self.get_temp_dir(), "inputs.npz")
        outputs = os.path.join(self.get_temp_dir(), "outputs.npz")
        np.savez(inputs, image=self.images, text=np.array(self.texts))
        result = subprocess.run(
            [sys.executable, "-c", _TF_ONLY_SCRIPT, self.path, inputs, outputs],
            capture_output=True,
            text=True,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        served = np.load(outputs)
        self.assertEqual(
            json.loads(result.stdout.strip().splitlines()[-1]),
            ["edited_image", "labels", "logits"],
        )
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
        with self.assertRaisesRegex(Exception, "Unknown image file format"):
            self.signatures[ENCODED_SIGNATURE](
                image_bytes=tf.constant([b"not an image"]),
                text=tf.constant(["a"]),
            )
        with self.assertRaisesRegex(Exception, "one is empty"):
            self.signatures[ENCODED_SIGNATURE](
                image_bytes=tf.constant([b""]), text=tf.constant(["a"])
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

    def test_bad_arguments(self):
        with self.assertRaisesRegex(TypeError, "`segmenter`"):
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
