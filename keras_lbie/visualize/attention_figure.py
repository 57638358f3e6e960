"""A Figure-5-style picture of one example's attention and stopping steps."""

import colorsys
import os

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from keras_lbie.utils.validation import check_positive_int
from keras_lbie.visualize.attended_sentences import (
    _check_attention_and_stop_step,
)
from keras_lbie.visualize.attended_sentences import attended_sentences

# Colour of 0-based step t is STEP_COLORS[t]: red, yellow, green as in the
# paper's Figure 5, then further distinct colours. The yellow is darkened to
# an amber so that text drawn in it stays readable on white. Steps beyond
# this table get golden-ratio hues (see `_step_color`).
STEP_COLORS = (
    (220, 20, 20),  # 1 red
    (235, 165, 0),  # 2 yellow (amber)
    (20, 150, 40),  # 3 green
    (30, 90, 220),  # 4 blue
    (150, 60, 190),  # 5 purple
    (0, 160, 170),  # 6 teal
    (230, 90, 170),  # 7 pink
    (140, 90, 40),  # 8 brown
    (120, 130, 0),  # 9 olive
    (90, 90, 160),  # 10 slate
)

# Layout, in output pixels (see the `attention_figure` docstring).
_MARGIN = 16
_PANEL_GAP = 24
_TITLE_HEIGHT = 36
_CAPTION_HEIGHT = 28
_SECTION_GAP = 20
_LINE_HEIGHT = 24
_SWATCH = 14
_SWATCH_GAP = 8
_DISPLAY_SIZE = 192
_MIN_CELL = 8
_READABLE_CELL = 40
_MAX_MAP = 320
_MIN_TEXT_WIDTH = 560
_TITLE_FONT = 22
_CAPTION_FONT = 18
_BODY_FONT = 16

_WHITE = (255, 255, 255)
_TEXT = (20, 20, 20)
_MUTED = (110, 110, 110)
_BORDER = (160, 160, 160)


def attention_figure(
    image,
    edited,
    sentences,
    attention,
    stop_step,
    path=None,
    title=None,
    target=None,
    scale=None,
):
    """Draws one example's attended sentences and stopping steps.

    A picture like Figure 5 of Chen et al., "Language-Based Image Editing
    with Recurrent Attentive Models", CVPR 2018 (Section 4.1, Results):
    "which sentences are attended to at each time step. Red, yellow and green
    represent the first, second and third time step". At each step the
    attended sentence is the one with the largest attention score, averaged
    over the regions that have not stopped before that step (see
    `keras_lbie.visualize.attended_sentences`).

    Layout, top to bottom, on white with a 16 px margin:

    - the title (36 px band), when given;
    - one row of panels, left to right with 24 px gaps, each under a 28 px
      caption band: "Source" (`image`), "Edited" (`edited`), "Target"
      (`target`, when given), each upscaled `scale`× with nearest neighbour,
      and "Stopping step": the M × N regions as square cells, each filled
      with the colour of the step at which the region stops. A cell is
      `max(min(H * scale // M, W * scale // N), min(40, 320 // max(M, N)),
      8)` px: as the image panels, enlarged to 40 px for readable numbers
      while the map fits in 320 px. Cells of at least 28 px show the 1-based
      step number in their top-left quarter (the cell centre keeps the pure
      step colour); cells are separated by 1-px white lines. Panels are
      top-aligned; a panel's slot is widened to its caption when the caption
      is wider;
    - 20 px below the row, 24 px text lines: a heading, a legend of the step
      colours (`STEP_COLORS`: step 1 red, 2 yellow, 3 green, 4 blue, …) plus
      "not attended", then one line per non-empty sentence, "k. sentence"
      with k its 1-based index in `sentences`, after a 14 px swatch. An
      attended sentence is written in the colour of the earliest step that
      attends to it (filled swatch) and tagged with all of its steps; the
      others are grey (hollow swatch). Long sentences wrap at the width of
      the panel row or 560 px, whichever is larger.

    Args:
        image: uint8 numpy array (H, W, 3), the source image.
        edited: uint8 numpy array (H, W, 3), the model's edited image.
        sentences: list of S str, the description's sentences; empty (or
            blank) entries are padding: they are neither drawn nor chosen as
            attended.
        attention: float numpy array (T, M, N, S), each region's attention
            over the sentences at every step (one example of the
            `"attention"` output of
            `keras_lbie.layers.ConvGRUFusion(return_details=True)`).
        stop_step: integer numpy array (M, N), the 0-based step at which each
            region stops, each in `0..T-1` (the fusion layer's
            `"stop_step"`).
        path: optional str or path; when given, the figure is also written
            there as a PNG.
        title: optional str drawn above the panels.
        target: optional uint8 numpy array (H, W, 3), the ground-truth image,
            shown after `edited`.
        scale: optional positive int, the upscaling factor of the image
            panels. Default: the smallest factor that makes the longer side
            at least 192 px (4 for 48-px CoSaL images).

    Returns:
        The figure, an RGB `PIL.Image.Image`.

    Raises:
        ValueError: an argument has the wrong type, dtype, shape or values;
            the message names it.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> image = np.full((48, 48, 3), 255, np.uint8)
    >>> attention = rng.dirichlet(np.ones(3), size=(3, 3, 3))
    >>> figure = attention_figure(
    ...     image,
    ...     image,
    ...     ["The circle is red.", "The diamond is blue.", ""],
    ...     attention,
    ...     rng.integers(0, 3, size=(3, 3)),
    ...     title="Random attention",
    ... )
    >>> figure.mode
    'RGB'
    """
    image, edited, target, sentences, attention, stop_step, scale = (
        _checked_arguments(
            image, edited, sentences, attention, stop_step, path, title,
            target, scale,
        )
    )  # fmt: skip
    valid = np.array([bool(s.strip()) for s in sentences])
    steps_of = {}
    for step, index in attended_sentences(
        attention, stop_step, sentence_mask=valid
    ):
        steps_of.setdefault(index, []).append(step)

    fonts = {
        "title": _font(_TITLE_FONT),
        "caption": _font(_CAPTION_FONT),
        "body": _font(_BODY_FONT),
    }
    panels = _panels(image, edited, target, stop_step, scale)
    slots, row_width = _panel_slots(panels, fonts["caption"])
    top = _MARGIN + (_TITLE_HEIGHT if title is not None else 0)
    panel_top = top + _CAPTION_HEIGHT
    row_bottom = panel_top + max(panel.height for _, panel in panels)
    text = _TextBlock(
        sentences, valid, steps_of, len(attention), fonts["body"], row_width
    )
    text_width = text.width
    if title is not None:
        text_width = max(text_width, _text_width(title, fonts["title"]))
    text_top = row_bottom + _SECTION_GAP
    canvas_width = 2 * _MARGIN + max(row_width, text_width)
    canvas_height = text_top + text.num_lines * _LINE_HEIGHT + _MARGIN

    figure = Image.new("RGB", (canvas_width, canvas_height), _WHITE)
    draw = ImageDraw.Draw(figure)
    if title is not None:
        _draw_text(
            draw,
            (_MARGIN, _MARGIN),
            title,
            fonts["title"],
            _TEXT,
            _TITLE_HEIGHT,
        )
    _draw_panels(figure, draw, panels, slots, top, fonts["caption"])
    text.draw(draw, text_top)
    if path is not None:
        figure.save(path, format="PNG")
    return figure


def _checked_arguments(
    image, edited, sentences, attention, stop_step, path, title, target, scale
):
    """The figure's arguments as numpy arrays, with the default `scale`.

    Returns:
        `(image, edited, target, sentences, attention, stop_step, scale)`.
    """
    image = _check_image(image, "image")
    edited = _check_image(edited, "edited", image.shape)
    if target is not None:
        target = _check_image(target, "target", image.shape)
    sentences = _check_sentences(sentences)
    attention, stop_step = _check_attention_and_stop_step(attention, stop_step)
    if attention.shape[-1] != len(sentences):
        raise ValueError(
            "The last axis of `attention` must have one entry per sentence: "
            f"len(sentences) = {len(sentences)}. Received `attention` shape "
            f"{attention.shape}"
        )
    if title is not None and not isinstance(title, str):
        raise ValueError(f"`title` must be a str or None. Received: {title!r}")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"`path` must be a str or a path. Received: {path!r}")
    if scale is None:
        scale = -(-_DISPLAY_SIZE // max(image.shape[:2]))
    else:
        check_positive_int(scale, "scale")
    return image, edited, target, sentences, attention, stop_step, scale


def _panels(image, edited, target, stop_step, scale):
    """`[(caption, PIL image)]` of the panel row, left to right."""
    panels = [
        ("Source", _upscale(image, scale)),
        ("Edited", _upscale(edited, scale)),
    ]
    if target is not None:
        panels.append(("Target", _upscale(target, scale)))
    height, width = image.shape[0] * scale, image.shape[1] * scale
    panels.append(("Stopping step", _stop_map(stop_step, height, width)))
    return panels


def _panel_slots(panels, caption_font):
    """`(x of each panel, width of the row)`: a slot fits panel and caption."""
    slots, x = [], _MARGIN
    for caption, panel in panels:
        slot = max(panel.width, _text_width(caption, caption_font))
        slots.append(x)
        x += slot + _PANEL_GAP
    return slots, x - _PANEL_GAP - _MARGIN


def _draw_panels(figure, draw, panels, slots, top, caption_font):
    """Each panel under its caption, framed, at its slot."""
    panel_top = top + _CAPTION_HEIGHT
    for (caption, panel), x in zip(panels, slots, strict=True):
        _draw_text(
            draw, (x, top), caption, caption_font, _TEXT, _CAPTION_HEIGHT
        )
        figure.paste(panel, (x, panel_top))
        draw.rectangle(
            (x - 1, panel_top - 1, x + panel.width, panel_top + panel.height),
            outline=_BORDER,
        )


class _TextBlock:
    """The text under the panels: heading, step legend, sentences.

    Measured when made (`width`, `num_lines`), so the canvas can be sized
    before `draw` writes it.
    """

    HEADING = "Attended sentence at each step, in the colour of its first step:"

    def __init__(self, sentences, valid, steps_of, num_steps, font, row_width):
        self.font = font
        self.steps_of = steps_of
        wrap_width = max(row_width, _MIN_TEXT_WIDTH)
        legend = [(f"step {t + 1}", _step_color(t)) for t in range(num_steps)]
        legend.append(("not attended", None))
        self.legend_rows = _legend_rows(legend, font, wrap_width)
        self.text_x = _MARGIN + _SWATCH + _SWATCH_GAP
        self.lines = []  # (index, wrapped lines)
        for index, sentence in enumerate(sentences):
            if not valid[index]:
                continue
            label = f"{index + 1}. {sentence.strip()}"
            if index in steps_of:
                numbers = ", ".join(str(t + 1) for t in steps_of[index])
                word = "steps" if len(steps_of[index]) > 1 else "step"
                label += f"  [{word} {numbers}]"
            self.lines.append(
                (index, _wrap(label, font, wrap_width - self.text_x + _MARGIN))
            )
        self.width = max(
            [_text_width(self.HEADING, font)]
            + [_legend_width(row, font) for row in self.legend_rows]
            + [
                self.text_x - _MARGIN + _text_width(line, font)
                for _, wrapped in self.lines
                for line in wrapped
            ]
        )
        self.num_lines = (
            1
            + len(self.legend_rows)
            + sum(len(wrapped) for _, wrapped in self.lines)
        )

    def draw(self, draw, y):
        """Writes the block from height `y` down."""
        font = self.font
        _draw_text(draw, (_MARGIN, y), self.HEADING, font, _TEXT, _LINE_HEIGHT)
        y += _LINE_HEIGHT
        for row in self.legend_rows:
            x = _MARGIN
            for label, color in row:
                _draw_swatch(draw, x, y, color)
                x += _SWATCH + _SWATCH_GAP
                _draw_text(
                    draw, (x, y), label, font, color or _MUTED, _LINE_HEIGHT
                )
                x += _text_width(label, font) + 2 * _SWATCH_GAP
            y += _LINE_HEIGHT
        for index, wrapped in self.lines:
            steps = self.steps_of.get(index)
            color = _step_color(steps[0]) if steps else None
            _draw_swatch(draw, _MARGIN, y, color)
            for line in wrapped:
                _draw_text(
                    draw,
                    (self.text_x, y),
                    line,
                    font,
                    color or _MUTED,
                    _LINE_HEIGHT,
                )
                y += _LINE_HEIGHT


def _step_color(step):
    """RGB of 0-based `step`: `STEP_COLORS`, then golden-ratio hues."""
    if step < len(STEP_COLORS):
        return STEP_COLORS[step]
    hue = (step * 0.618033988749895) % 1.0
    return tuple(
        int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, 0.8, 0.75)
    )


def _check_image(value, name, shape=None):
    if not isinstance(value, np.ndarray):
        raise ValueError(
            f"`{name}` must be a uint8 numpy array (H, W, 3). Received: "
            f"{type(value)}"
        )
    if value.dtype != np.uint8:
        raise ValueError(
            f"`{name}` must have dtype uint8. Received dtype: {value.dtype}"
        )
    if value.ndim != 3 or value.shape[-1] != 3 or 0 in value.shape:
        raise ValueError(
            f"`{name}` must have shape (H, W, 3). Received shape: {value.shape}"
        )
    if shape is not None and value.shape != shape:
        raise ValueError(
            f"`{name}` must have the shape of `image`, {shape}. Received "
            f"shape: {value.shape}"
        )
    return value


def _check_sentences(sentences):
    if isinstance(sentences, (str, bytes)) or not isinstance(
        sentences, (list, tuple, np.ndarray)
    ):
        raise ValueError(
            "`sentences` must be a list of str (one per sentence). "
            f"Received: {type(sentences)}"
        )
    sentences = list(sentences)
    for sentence in sentences:
        if not isinstance(sentence, str):
            raise ValueError(
                "`sentences` must contain only str. Received an entry of "
                f"type {type(sentence)}: {sentence!r}"
            )
    if not any(s.strip() for s in sentences):
        raise ValueError(
            "`sentences` must contain at least one non-empty sentence. "
            f"Received: {sentences!r}"
        )
    return sentences


def _font(size):
    """Pillow's default font at `size` px (bitmap fallback without FreeType)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        # Pillow < 10.1 (no `size`) or no FreeType: a fixed ~11 px font.
        return ImageFont.load_default()


def _text_width(text, font):
    return int(np.ceil(font.getlength(text)))


def _draw_text(draw, xy, text, font, color, band_height):
    """Draws `text` vertically centred in a band of `band_height` at `xy`."""
    _, top, _, bottom = font.getbbox("Ag")
    y = xy[1] + (band_height - (bottom - top)) // 2 - top
    draw.text((xy[0], y), text, fill=color, font=font)


def _draw_swatch(draw, x, y, color):
    """A filled square in `color`, or a hollow grey one when it is None."""
    y0 = y + (_LINE_HEIGHT - _SWATCH) // 2
    box = (x, y0, x + _SWATCH - 1, y0 + _SWATCH - 1)
    if color is None:
        draw.rectangle(box, outline=_MUTED)
    else:
        draw.rectangle(box, fill=color)


def _upscale(array, scale):
    return Image.fromarray(array).resize(
        (array.shape[1] * scale, array.shape[0] * scale), Image.NEAREST
    )


def _stop_map(stop_step, height, width):
    """The M × N stopping steps as coloured, numbered square cells."""
    rows, cols = stop_step.shape
    # Cells follow the image panels' size, enlarged for readable numbers up
    # to `_READABLE_CELL` while the map stays within `_MAX_MAP` px.
    cell = max(
        min(height // rows, width // cols),
        min(_READABLE_CELL, _MAX_MAP // max(rows, cols)),
        _MIN_CELL,
    )
    panel = Image.new("RGB", (cols * cell, rows * cell), _WHITE)
    draw = ImageDraw.Draw(panel)
    font, pad = _cell_font(cell, len(str(stop_step.max() + 1)))
    for r in range(rows):
        for c in range(cols):
            step = int(stop_step[r, c])
            color = _step_color(step)
            x0, y0 = c * cell, r * cell
            # The 1-px white outline separates neighbouring cells.
            draw.rectangle(
                (x0, y0, x0 + cell - 1, y0 + cell - 1),
                fill=color,
                outline=_WHITE,
            )
            if font is not None:
                luminance = np.dot(color, (0.299, 0.587, 0.114))
                ink = _TEXT if luminance > 140 else _WHITE
                draw.text(
                    (x0 + pad, y0 + pad), str(step + 1), fill=ink, font=font
                )
    return panel


def _cell_font(cell, digits):
    """The largest font (and padding) whose `digits`-digit numbers fit a cell.

    Numbers stay inside the cell's top-left quarter, so that the cell centre
    keeps the pure step colour; returns `(None, pad)` when no font of at
    least 10 px fits.
    """
    pad = max(2, cell // 16)
    limit = cell // 2 - 1 - pad
    for size in range(min(28, cell // 2), 9, -1):
        font = _font(size)
        _, _, right, bottom = font.getbbox("8" * digits)
        if right < limit and bottom < limit:
            return font, pad
    return None, pad


def _legend_rows(items, font, width):
    """Splits legend `(label, color)` items into rows fitting `width`."""
    rows, row = [], []
    for item in items:
        if row and _legend_width(row + [item], font) > width:
            rows.append(row)
            row = []
        row.append(item)
    rows.append(row)
    return rows


def _legend_width(row, font):
    return (
        sum(
            _SWATCH + _SWATCH_GAP + _text_width(label, font) + 2 * _SWATCH_GAP
            for label, _ in row
        )
        - 2 * _SWATCH_GAP
    )


def _wrap(text, font, width):
    """Greedy word wrap of `text` into lines of at most `width` px."""
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and _text_width(candidate, font) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return lines
