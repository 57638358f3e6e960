import os

import keras
import numpy as np
import pytest
from PIL import Image

from keras_lbie.callbacks import ColorizationSamples
from keras_lbie.color import model_outputs_to_rgb
from tests.models.lbie_colorizer.tiny_colorizer import tiny_colorizer
from tests.models.lbie_colorizer.tiny_colorizer import tiny_data
from tests.models.lbie_colorizer.tiny_colorizer import tiny_gan
from tests.test_case import TestCase

TEXTS = ["The petals are red.", "", "The flower is blue and yellow."]
# 16-px images are shown at 128 px (8×), panels 8 px apart, 12 px margin.
PANEL, GAP, MARGIN, HEADER = 128, 8, 12, 24


def samples(batch=3):
    x, ab = tiny_data(batch)
    return x["image_l"], ab


def to_uint8(rgb):
    rgb = keras.ops.convert_to_numpy(rgb)
    return np.round(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8)


class ColorizationSamplesTest(TestCase):
    @pytest.mark.large
    def test_writes_a_grid_per_epoch_during_gan_training(self):
        gan = tiny_gan()
        gan.compile(
            g_optimizer=keras.optimizers.SGD(0.01),
            d_optimizer=keras.optimizers.SGD(0.01),
            run_eagerly=True,
        )
        image_l, ab = samples()
        output_dir = os.path.join(self.get_temp_dir(), "samples")
        callback = ColorizationSamples(image_l, TEXTS, ab, output_dir)
        x, y = tiny_data(4)
        gan.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[callback])
        self.assertEqual(
            callback.paths,
            [
                os.path.join(output_dir, "epoch_0001.png"),
                os.path.join(output_dir, "epoch_0002.png"),
            ],
        )
        grid = np.asarray(Image.open(callback.paths[-1]).convert("RGB"))
        self.assertEqual(grid.shape[1], 2 * MARGIN + 3 * PANEL + 2 * GAP)
        # Row 0: the input in gray, the model's colours, the truth.
        top = MARGIN + HEADER
        panels = [
            grid[top : top + PANEL, x0 : x0 + PANEL]
            for x0 in (MARGIN + i * (PANEL + GAP) for i in range(3))
        ]
        predicted = gan.generator.predict_ab(image_l, TEXTS)
        expected = [
            to_uint8(model_outputs_to_rgb(image_l, values))[0]
            for values in (np.zeros_like(ab), predicted, ab)
        ]
        for panel, image in zip(panels, expected, strict=True):
            self.assertAllEqual(panel[::8, ::8], image)
        self.assertAllClose(panels[0][..., 0], panels[0][..., 1], atol=1)

    def test_every_and_explicit_colorizer(self):
        colorizer = tiny_colorizer()
        image_l, _ = samples(2)
        output_dir = self.get_temp_dir()
        callback = ColorizationSamples(
            image_l,
            TEXTS[:2],
            output_dir=output_dir,
            colorizer=colorizer,
            every=2,
        )
        callback.set_model(keras.Sequential())
        callback.on_train_begin()
        for epoch in range(3):
            callback.on_epoch_end(epoch)
        self.assertEqual(
            callback.paths, [os.path.join(output_dir, "epoch_0002.png")]
        )
        # Without a truth, two columns.
        grid = Image.open(callback.paths[0])
        self.assertEqual(grid.width, 2 * MARGIN + 2 * PANEL + GAP)

    def test_write_grid_with_a_baseline_column(self):
        image_l, ab = samples(2)
        callback = ColorizationSamples(image_l, TEXTS[:2], ab)
        rng = np.random.default_rng(0)
        ours, baseline = rng.uniform(-0.5, 0.5, (2,) + ab.shape)
        path = os.path.join(self.get_temp_dir(), "grid.png")
        callback.write_grid(ours.astype("float32"), path, baseline)
        grid = np.asarray(Image.open(path).convert("RGB"))
        self.assertEqual(grid.shape[1], 2 * MARGIN + 4 * PANEL + 3 * GAP)
        top = MARGIN + HEADER
        # Columns: input, no text, ours, truth.
        for column, values in enumerate((baseline, ours, ab), 1):
            x0 = MARGIN + column * (PANEL + GAP)
            expected = to_uint8(model_outputs_to_rgb(image_l, values))[0]
            self.assertAllEqual(
                grid[top : top + PANEL : 8, x0 : x0 + PANEL : 8], expected
            )
        with self.assertRaisesRegex(ValueError, "baseline_ab"):
            callback.write_grid(ours, path, baseline[..., :1])

    def test_needs_a_colorizer(self):
        image_l, _ = samples(2)
        callback = ColorizationSamples(image_l, TEXTS[:2])
        callback.set_model(keras.Sequential())
        with self.assertRaisesRegex(ValueError, "LBIEColorizer"):
            callback.on_train_begin()
        callback = ColorizationSamples(
            np.zeros((2, 32, 32, 1), "float32"),
            TEXTS[:2],
            colorizer=tiny_colorizer(),
        )
        with self.assertRaisesRegex(ValueError, "32 px"):
            callback.on_train_begin()

    def test_argument_checks(self):
        image_l, ab = samples(2)
        with self.assertRaisesRegex(ValueError, "image_l"):
            ColorizationSamples(image_l[..., 0], TEXTS[:2])
        with self.assertRaisesRegex(ValueError, "image_l"):
            ColorizationSamples(np.repeat(image_l, 3, -1), TEXTS[:2])
        with self.assertRaisesRegex(TypeError, "image_l"):
            ColorizationSamples(image_l.astype("uint8"), TEXTS[:2])
        with self.assertRaisesRegex(ValueError, "one description per image"):
            ColorizationSamples(image_l, TEXTS)
        with self.assertRaisesRegex(ValueError, "`ab`"):
            ColorizationSamples(image_l, TEXTS[:2], ab[..., :1])
        with self.assertRaisesRegex(ValueError, "one target per image"):
            ColorizationSamples(image_l, TEXTS[:2], ab[:1])
        with self.assertRaisesRegex(TypeError, "output_dir"):
            ColorizationSamples(image_l, TEXTS[:2], output_dir=3)
        with self.assertRaisesRegex(TypeError, "colorizer"):
            ColorizationSamples(image_l, TEXTS[:2], colorizer="gan")
        with self.assertRaisesRegex(ValueError, "every"):
            ColorizationSamples(image_l, TEXTS[:2], every=0)
