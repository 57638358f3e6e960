"""Quickstart: edit images from their descriptions with the shipped models.

    python examples/quickstart.py [--output quickstart.png] [--verbose]

Loads the two models whose trained weights ship inside the package (no
network, no training) and edits two CoSaL test images with them, in a few
seconds on a CPU:

- the `cosal` segmenter colours a sketch's shapes as a description says
  ("The circle is red. The shape below it is blue. ...");
- the `cosal_colorizer` colorizer colours a grayscale image as its caption
  says, keeping the image's own lightness.

It prints each description and writes one PNG (`--output`): per model the
input, the model's edit and the target the description means.
`docs/quickstart.png` is this script's output. The edits are whatever the
shipped weights make of the images: the README's Results say how often
they are right.
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse
import textwrap

import numpy as np
from PIL import Image
from PIL import ImageDraw

from keras_lbie.datasets import cosal
from keras_lbie.datasets import cosal_colorization
from keras_lbie.models import LBIEColorizer
from keras_lbie.models import LBIESegmenter
from keras_lbie.visualize.attention_figure import _font

SCALE = 4  # 48 px images drawn at 192 px
MARGIN = 16
GAP = 16
LABEL_HEIGHT = 22
TITLE_HEIGHT = 26
LINE_HEIGHT = 17
WRAP = 92  # characters per description line
INK = (20, 20, 20)


def edit_with_the_segmenter(index):
    """A CoSaL sketch, its description, the `cosal` edit and the target."""
    segmenter = LBIESegmenter.from_preset("cosal")
    # Seed 1 draws CoSaL test examples (the model trained on seed 0).
    example = cosal.generate(1, num_direct=4, seed=1, start_index=index)
    description = str(example["text"][0])
    edited = segmenter.edit(example["image"], description)
    return {
        "title": 'LBIESegmenter.from_preset("cosal").edit(image, description)',
        "panels": (
            ("image", example["image"][0]),
            ("edited by the model", edited[0]),
            ("what the description means", example["target"][0]),
        ),
        "description": description,
    }


def edit_with_the_colorizer(index):
    """Gray CoSaL silhouettes, a caption, the colorizer's colours, target."""
    colorizer = LBIEColorizer.from_preset("cosal_colorizer")
    # Gray silhouettes (one lightness), every shape named in the caption.
    example = cosal_colorization.generate(1, seed=1, start_index=index)
    caption = str(example["text"][0])
    colorized = colorizer.colorize(example["gray"], caption)
    return {
        "title": 'LBIEColorizer.from_preset("cosal_colorizer").colorize('
        "image, caption)",
        "panels": (
            ("grayscale image", np.repeat(example["gray"][0], 3, axis=-1)),
            ("colorized by the model", colorized[0]),
            ("what the caption means", example["target"][0]),
        ),
        "description": caption,
    }


def figure(rows):
    """One PNG: per row a title, the panels and the wrapped description."""
    side = rows[0]["panels"][0][1].shape[0] * SCALE
    num_panels = max(len(row["panels"]) for row in rows)
    width = 2 * MARGIN + num_panels * side + (num_panels - 1) * GAP
    wrapped = [textwrap.wrap(f'"{row["description"]}"', WRAP) for row in rows]
    heights = [
        TITLE_HEIGHT + LABEL_HEIGHT + side + 6 + LINE_HEIGHT * len(lines)
        for lines in wrapped
    ]
    height = MARGIN + sum(h + MARGIN for h in heights) + MARGIN
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    title_font, font = _font(15), _font(13)
    top = MARGIN
    for row, lines, row_height in zip(rows, wrapped, heights, strict=True):
        draw.text((MARGIN, top), row["title"], fill=INK, font=title_font)
        y = top + TITLE_HEIGHT
        for column, (label, pixels) in enumerate(row["panels"]):
            x = MARGIN + column * (side + GAP)
            draw.text((x, y), label, fill=INK, font=font)
            panel = Image.fromarray(pixels).resize(
                (side, side), Image.Resampling.NEAREST
            )
            panel_top = y + LABEL_HEIGHT
            image.paste(panel, (x, panel_top))
            draw.rectangle(
                (x - 1, panel_top - 1, x + side, panel_top + side),
                outline=(200, 200, 200),
            )
        y += LABEL_HEIGHT + side + 6
        for line in lines:
            draw.text((MARGIN, y), line, fill=INK, font=font)
            y += LINE_HEIGHT
        top += row_height + MARGIN
    return image


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--output", default="quickstart.png", help="the PNG to write"
    )
    parser.add_argument(
        "--index", type=int, default=0, help="which CoSaL test example"
    )
    add_verbose_argument(parser)
    args = parser.parse_args(argv)
    rows = [edit_with_the_segmenter(args.index)]
    rows.append(edit_with_the_colorizer(args.index))
    for row in rows:
        print(f"{row['title']}\n  description: {row['description']}")
    figure(rows).save(args.output)
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
