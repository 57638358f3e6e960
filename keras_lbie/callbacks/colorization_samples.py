import os

import keras
import numpy as np
from PIL import Image
from PIL import ImageDraw

from keras_lbie.color import model_outputs_to_rgb
from keras_lbie.models.lbie_colorizer import LBIEColorizer
from keras_lbie.models.lbie_colorizer.lbie_colorizer_backbone import L_HINT
from keras_lbie.utils.validation import check_float_image
from keras_lbie.utils.validation import check_positive_int
from keras_lbie.utils.validation import check_texts
from keras_lbie.visualize.attention_figure import _draw_text
from keras_lbie.visualize.attention_figure import _font
from keras_lbie.visualize.attention_figure import _wrap

# Layout, in output pixels.
_MARGIN = 12
_GAP = 8
_HEADER_HEIGHT = 24
_LINE_HEIGHT = 18
_FONT_SIZE = 14
_MIN_PANEL = 128
_WHITE = (255, 255, 255)
_TEXT = (20, 20, 20)
_BORDER = (190, 190, 190)


class ColorizationSamples(keras.callbacks.Callback):
    """Writes a PNG grid of sample colourisations at the end of epochs.

    Shows how a language-based colorizer (Chen et al., CVPR 2018, Section
    4.3 and Figure 6) colours fixed examples as training goes: one row per
    example with the input in gray (its L), the model's colours (L with the
    predicted ab) and, when `ab` is given, the truth; the caption below
    the row (wrapped; "(empty caption)" for ""). Panels smaller than 128
    px are enlarged (nearest neighbour).

    Args:
        image_l: float `(batch, S, S, 1)`, L scaled to [-1, 1], e.g. one
            batch of `flowers.as_dataset(...)`'s `x["image_l"]`.
        texts: one caption per example (list of str).
        ab: None, or float `(batch, S, S, 2)`, the true ab in [-1, 1].
        output_dir: str or path-like, the folder of the PNG files (created
            if missing); file `epoch_{epoch:04d}.png`, epochs counted from 1.
        colorizer: None or an `LBIEColorizer`. None uses the trained
            model's `generator` (an `LBIEColorizerGAN`'s), or the model
            itself when it is an `LBIEColorizer`.
        every: positive int, write every `every` epochs (and never between).
        batch_size: positive int, examples per forward pass.

    Attributes:
        paths: list of the files written so far.

    Example:
    >>> x, ab = next(iter(flowers.as_dataset(root, "test_classes",
    ...                                      batch_size=8, caption="first")))
    >>> samples = ColorizationSamples(
    ...     x["image_l"].numpy(), [t.decode() for t in x["text"].numpy()],
    ...     ab.numpy(), "runs/flowers/samples")
    >>> gan.fit(train, epochs=20, callbacks=[samples])
    """

    def __init__(
        self,
        image_l,
        texts,
        ab=None,
        output_dir="colorization_samples",
        colorizer=None,
        every=1,
        batch_size=32,
    ):
        super().__init__()
        image_l = np.asarray(image_l)
        if image_l.ndim != 4 or image_l.shape[1] != image_l.shape[2]:
            raise ValueError(
                "`image_l` must be square images (batch, S, S, 1). Received "
                f"shape: {image_l.shape}"
            )
        size = image_l.shape[1]
        check_float_image(image_l, size, 1, "image_l", L_HINT)
        if ab is not None:
            ab = np.asarray(ab)
            check_float_image(ab, size, 2, "ab")
            if len(ab) != len(image_l):
                raise ValueError(
                    f"`ab` must hold one target per image: {len(image_l)} "
                    f"image(s), {len(ab)} target(s)."
                )
        if not isinstance(output_dir, (str, os.PathLike)):
            raise TypeError(
                "`output_dir` must be a str or path-like. Received: "
                f"{type(output_dir).__name__}"
            )
        if colorizer is not None and not isinstance(colorizer, LBIEColorizer):
            raise TypeError(
                "`colorizer` must be None or an LBIEColorizer. Received: "
                f"{type(colorizer).__name__}"
            )
        check_positive_int(every, "every")
        check_positive_int(batch_size, "batch_size")
        self.image_l = image_l.astype(np.float32)
        self.texts = check_texts(texts, len(image_l))
        self.ab = None if ab is None else ab.astype(np.float32)
        self.output_dir = os.fspath(output_dir)
        self.colorizer = colorizer
        self.every = every
        self.batch_size = batch_size
        self.paths = []

    def _colorizer(self):
        if self.colorizer is not None:
            return self.colorizer
        model = self.model
        if isinstance(model, LBIEColorizer):
            return model
        generator = getattr(model, "generator", None)
        if isinstance(generator, LBIEColorizer):
            return generator
        raise ValueError(
            "ColorizationSamples needs an LBIEColorizer: train an "
            "LBIEColorizerGAN or pass `colorizer=`. Received model: "
            f"{type(model).__name__}"
        )

    def on_train_begin(self, logs=None):
        colorizer = self._colorizer()
        if colorizer.image_size != self.image_l.shape[1]:
            raise ValueError(
                f"`image_l` has {self.image_l.shape[1]} px images; the "
                f"colorizer takes {colorizer.image_size} px."
            )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        ab = self._colorizer().predict_ab(
            self.image_l, self.texts, batch_size=self.batch_size
        )
        os.makedirs(self.output_dir, exist_ok=True)
        path = os.path.join(self.output_dir, f"epoch_{epoch + 1:04d}.png")
        self.write_grid(ab, path)
        self.paths.append(path)

    def write_grid(self, ab, path, baseline_ab=None):
        """Writes the grid for predicted `ab` `(batch, S, S, 2)` to `path`.

        `baseline_ab`, when given, adds a "no text" column before "ours":
        the colours of a model that did not read the captions (the layout
        of the paper's Figure 6).
        """
        columns = [("input", np.zeros_like(ab))]
        if baseline_ab is not None:
            baseline_ab = np.asarray(baseline_ab)
            check_float_image(
                baseline_ab, self.image_l.shape[1], 2, "baseline_ab"
            )
            columns.append(("no text", baseline_ab))
        columns.append(("ours", ab))
        if self.ab is not None:
            columns.append(("truth", self.ab))
        panels = {
            title: _to_uint8(model_outputs_to_rgb(self.image_l, values))
            for title, values in columns
        }
        size = self.image_l.shape[1]
        scale = max(1, -(-_MIN_PANEL // size))
        panel = size * scale
        width = 2 * _MARGIN + len(columns) * panel + (len(columns) - 1) * _GAP
        font = _font(_FONT_SIZE)
        captions = [
            _wrap(text or "(empty caption)", font, width - 2 * _MARGIN)
            for text in self.texts
        ]
        height = _MARGIN + _HEADER_HEIGHT + _MARGIN
        height += sum(
            panel + len(lines) * _LINE_HEIGHT + _GAP for lines in captions
        )
        figure = Image.new("RGB", (width, height), _WHITE)
        draw = ImageDraw.Draw(figure)
        for index, (title, _) in enumerate(columns):
            x = _MARGIN + index * (panel + _GAP)
            _draw_text(draw, (x, _MARGIN), title, font, _TEXT, _HEADER_HEIGHT)
        y = _MARGIN + _HEADER_HEIGHT
        for row, lines in enumerate(captions):
            for index, (title, _) in enumerate(columns):
                image = Image.fromarray(panels[title][row]).resize(
                    (panel, panel), Image.NEAREST
                )
                x = _MARGIN + index * (panel + _GAP)
                figure.paste(image, (x, y))
                # Outside the panel: white images stay visible on white.
                draw.rectangle(
                    (x - 1, y - 1, x + panel, y + panel), outline=_BORDER
                )
            y += panel
            for line in lines:
                _draw_text(draw, (_MARGIN, y), line, font, _TEXT, _LINE_HEIGHT)
                y += _LINE_HEIGHT
            y += _GAP
        figure.save(path)


def _to_uint8(rgb):
    rgb = keras.ops.convert_to_numpy(rgb)
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
