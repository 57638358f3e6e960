"""Line charts as PNG with Pillow (the project has no matplotlib).

`draw_panels(panels, path)` draws panels side by side, each a dict:

- `"title"`, `"x_label"`, `"y_label"`: str;
- `"x_ticks"`: `[(x, label), ...]`, the tick positions and their labels
  (the data's x values, usually);
- `"log_x"`: bool, place x on a log scale (batch sizes);
- `"series"`: `[{"label", "points": [(x, y), ...], "color": (r, g, b),
  "dashed": bool}, ...]`.

The y axis of every panel starts at 0.
"""

import math

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

PANEL_SIZE = (420, 372)
# Plot area inside a panel: left, top, right, bottom margins in px (the
# bottom one holds the x label and up to three rows of legend).
MARGINS = (62, 50, 24, 104)
COLORS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189))
_INK = (40, 40, 40)
_GRID = (225, 225, 225)


def draw_panels(panels, path, columns=2):
    """Draws `panels` in a grid of `columns` and saves a PNG at `path`."""
    rows = math.ceil(len(panels) / columns)
    width, height = PANEL_SIZE
    figure = Image.new("RGB", (columns * width, rows * height), "white")
    for index, panel in enumerate(panels):
        origin = ((index % columns) * width, (index // columns) * height)
        _draw_panel(ImageDraw.Draw(figure), origin, panel)
    figure.save(path)


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        # Pillow < 10.1 or no FreeType: the fixed bitmap font.
        return ImageFont.load_default()


def _draw_panel(draw, origin, panel):
    area = _plot_area(origin)
    scale = _Scale(area, panel)
    font = _font(12)
    draw.text((origin[0] + 8, origin[1] + 4), panel["title"], _INK, _font(14))
    _draw_y_axis(draw, area, scale, font, panel["y_label"])
    _draw_x_axis(draw, area, scale, font, panel)
    for series in panel["series"]:
        _draw_series(draw, scale, series)
    _draw_legend(draw, area, font, panel["series"])


def _plot_area(origin):
    left, top, right, bottom = MARGINS
    width, height = PANEL_SIZE
    return (
        origin[0] + left,
        origin[1] + top,
        origin[0] + width - right,
        origin[1] + height - bottom,
    )


class _Scale:
    """Data → pixel coordinates of one panel."""

    def __init__(self, area, panel):
        self.area = area
        self.log_x = panel.get("log_x", False)
        xs = [self._x(x) for x, _ in panel["x_ticks"]]
        self.x_range = (min(xs), max(xs))
        top = max(y for s in panel["series"] for _, y in s["points"])
        self.y_ticks = _nice_ticks(top)

    def _x(self, x):
        return math.log2(x) if self.log_x else x

    def x(self, x):
        left, _, right, _ = self.area
        low, high = self.x_range
        return left + (self._x(x) - low) / ((high - low) or 1) * (right - left)

    def y(self, y):
        _, top, _, bottom = self.area
        return bottom - y / self.y_ticks[-1] * (bottom - top)


def _nice_ticks(top):
    """0 and evenly spaced round values up to at least `top`."""
    if top <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(top / 4))
    step = next(
        m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude * 4 >= top
    )
    return [step * index for index in range(math.ceil(top / step) + 1)]


def _draw_y_axis(draw, area, scale, font, label):
    left, top, right, bottom = area
    for tick in scale.y_ticks:
        y = scale.y(tick)
        draw.line((left, y, right, y), fill=_GRID)
        draw.text((left - 6, y), f"{tick:g}", _INK, font, anchor="rm")
    draw.line((left, top, left, bottom), fill=_INK)
    draw.text((left, top - 8), label, _INK, font, anchor="ld")


def _draw_x_axis(draw, area, scale, font, panel):
    left, _, right, bottom = area
    draw.line((left, bottom, right, bottom), fill=_INK)
    for x, label in panel["x_ticks"]:
        px = scale.x(x)
        draw.line((px, bottom, px, bottom + 4), fill=_INK)
        draw.text((px, bottom + 6), label, _INK, font, anchor="mt")
    middle = (left + right) / 2
    draw.text((middle, bottom + 26), panel["x_label"], _INK, font, anchor="mt")


def _draw_series(draw, scale, series):
    points = [(scale.x(x), scale.y(y)) for x, y in sorted(series["points"])]
    color = series["color"]
    for start, end in zip(points, points[1:], strict=False):
        if series.get("dashed"):
            _dashed_line(draw, start, end, color)
        else:
            draw.line((*start, *end), fill=color, width=2)
    if not series.get("dashed"):
        for x, y in points:
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=color)


def _dashed_line(draw, start, end, color, dash=6):
    length = math.dist(start, end)
    for offset in range(0, int(length), 2 * dash):
        a = offset / length
        b = min(offset + dash, length) / length
        draw.line(
            (
                start[0] + a * (end[0] - start[0]),
                start[1] + a * (end[1] - start[1]),
                start[0] + b * (end[0] - start[0]),
                start[1] + b * (end[1] - start[1]),
            ),
            fill=color,
            width=1,
        )


def _draw_legend(draw, area, font, series):
    left, _, right, bottom = area
    x, y = left, bottom + 48
    for entry in series:
        width = 28 + draw.textlength(entry["label"], font=font)
        if x > left and x + width > right + MARGINS[2]:
            # Entries that would run off the panel start a new row.
            x, y = left, y + 16
        if entry.get("dashed"):
            _dashed_line(draw, (x, y), (x + 16, y), entry["color"], dash=4)
        else:
            draw.line((x, y, x + 16, y), fill=entry["color"], width=2)
        draw.text((x + 20, y), entry["label"], _INK, font, anchor="lm")
        x += width
