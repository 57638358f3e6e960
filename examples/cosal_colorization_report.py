"""Writes the colorizer's results table and figures from two training runs.

Takes the runs of `examples/train_cosal_colorizer.py` with captions and
with blank captions (the no-text baseline), re-scores both generators on
the held-out CoSaL colorization split from their saved weights, and writes:

- `results/cosal_colorization.md` and `.json`: caption-following accuracy,
  PSNR and ab error of both, with the training budget and the paper's
  Table 4 human-rated text consistency beside them;
- `docs/cosal_colorization.png`: test examples as input, no-text
  baseline, ours and truth (the layout of the paper's Figure 6);
- `docs/colorizer_photo.png`: the captioned model on a real photograph
  (scikit-image's `coffee` sample) under two captions.

With `--ship` it also copies the captioned run's generator weights into the
package as the `cosal_colorizer` preset's
(`keras_lbie/models/weights/cosal_colorizer.weights.h5`; the preset's
longer `max_words` changes nothing, padding is masked).

    python examples/cosal_colorization_report.py --ship \
        --text-run runs/colorizer_text --no-text-run runs/colorizer_no_text
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse
import json
import os
import shutil

import numpy as np
import skimage.data
from PIL import Image
from PIL import ImageDraw

from keras_lbie.callbacks import ColorizationSamples
from keras_lbie.datasets import cosal_colorization
from keras_lbie.models import LBIEColorizer
from keras_lbie.models.lbie_colorizer import colorize_at_input_size
from keras_lbie.models.lbie_colorizer import scaled_lightness
from keras_lbie.visualize.attention_figure import _font

TEST_SEED = 2
# Paper Table 4 (human raters, Oxford-102): text consistency of the
# language-based colorization and of its no-text baseline.
PAPER_CONSISTENCY = {"text": 0.849, "no_text": 0.27}
PHOTO_CAPTIONS = ("The circle is red.", "The circle is blue.")
_PHOTO_SIZE = 256
WEIGHTS_PATH = os.path.join(
    "keras_lbie", "models", "weights", "cosal_colorizer.weights.h5"
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-run", required=True)
    parser.add_argument("--no-text-run", required=True)
    parser.add_argument("--results-dir", default="results")
    parser.add_argument("--docs-dir", default="docs")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument(
        "--ship",
        action="store_true",
        help=f"copy the captioned run's weights to {WEIGHTS_PATH}",
    )
    add_verbose_argument(parser)
    return parser.parse_args(argv)


def load_run(run_dir):
    """The run's arguments and metrics, and its generator with weights."""
    with open(os.path.join(run_dir, "metrics.json")) as file:
        metrics = json.load(file)
    arguments = metrics["arguments"]
    colorizer = LBIEColorizer.from_preset(
        "cosal_colorizer",
        load_weights=False,
        max_words=arguments["max_words"],
    )
    colorizer.backbone.load_weights(
        os.path.join(run_dir, "colorizer.weights.h5")
    )
    return metrics, colorizer


def predict(colorizer, data, blank_text):
    texts = [""] * len(data["text"]) if blank_text else list(data["text"])
    return colorizer.predict_ab(data["image_l"], texts)


def described(arguments):
    count = arguments.get("num_described")
    if count is None:
        return f"all nine shapes named, num_direct={arguments['num_direct']}"
    return f"{count} of the nine shapes named, the others to stay gray"


def table(rows):
    lines = [
        "| model | caption-following accuracy | unnamed shapes kept gray | "
        "PSNR (dB) | ab L1 | steps × batch | training minutes | "
        "paper Table 4 consistency |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in rows.items():
        kept = row["gray_kept"]
        lines.append(
            f"| {name} | {row['caption_accuracy']:.4f} | "
            f"{'—' if kept is None else f'{kept:.4f}'} | {row['psnr']:.2f} "
            f"| {row['ab_l1']:.2f} | {row['steps']:,} × {row['batch_size']} "
            f"| {row['training_minutes']:.0f} | {row['paper']} |"
        )
    return "\n".join(lines)


def photo_figure(colorizer, path):
    """The photo in gray, then coloured under each of `PHOTO_CAPTIONS`."""
    photo = skimage.data.coffee()
    side = min(photo.shape[:2])
    top = (photo.shape[0] - side) // 2
    left = (photo.shape[1] - side) // 2
    photo = np.asarray(
        Image.fromarray(photo[top : top + side, left : left + side]).resize(
            (_PHOTO_SIZE, _PHOTO_SIZE), Image.BILINEAR
        )
    )[None]
    size = colorizer.image_size
    small = np.asarray(
        Image.fromarray(photo[0]).resize((size, size), Image.BILINEAR)
    )[None]
    image_l = np.asarray(scaled_lightness(small))
    panels = [np.asarray(colorize_at_input_size(photo, np.zeros((1, 1, 1, 2))))]
    for caption in PHOTO_CAPTIONS:
        ab = colorizer.predict_ab(image_l, [caption])
        panels.append(np.asarray(colorize_at_input_size(photo, ab)))
    titles = ("input (gray)",) + tuple(f'"{c}"' for c in PHOTO_CAPTIONS)
    margin, header = 12, 24
    figure = Image.new(
        "RGB",
        (
            margin * (len(panels) + 1) + _PHOTO_SIZE * len(panels),
            2 * margin + header + _PHOTO_SIZE,
        ),
        (255, 255, 255),
    )
    draw = ImageDraw.Draw(figure)
    font = _font(14)
    for index, (panel, title) in enumerate(zip(panels, titles, strict=True)):
        x = margin + index * (_PHOTO_SIZE + margin)
        draw.text((x, margin), title, fill=(20, 20, 20), font=font)
        figure.paste(Image.fromarray(panel[0]), (x, margin + header))
    figure.save(path)


def main(argv=None):
    args = parse_args(argv)
    text_metrics, text_model = load_run(args.text_run)
    base_metrics, base_model = load_run(args.no_text_run)
    arguments = text_metrics["arguments"]
    test = cosal_colorization.generate(
        arguments["test"],
        num_direct=arguments["num_direct"],
        seed=TEST_SEED,
        num_described=arguments.get("num_described"),
    )
    ours = predict(text_model, test, blank_text=False)
    baseline = predict(base_model, test, blank_text=True)
    rows = {}
    for name, metrics, ab, paper in (
        ("LBIE colorizer (ours)", text_metrics, ours, "text"),
        ("no-text baseline", base_metrics, baseline, "no_text"),
    ):
        rows[name] = {
            **cosal_colorization.colorization_scores(ab, test),
            "steps": metrics["steps"],
            "batch_size": metrics["arguments"]["batch_size"],
            "training_minutes": metrics["training_minutes"],
            "paper": PAPER_CONSISTENCY[paper],
        }
    os.makedirs(args.results_dir, exist_ok=True)
    os.makedirs(args.docs_dir, exist_ok=True)
    accuracy = rows["LBIE colorizer (ours)"]["caption_accuracy"]
    target = "met" if accuracy >= 0.9 else "**missed**"
    markdown = "\n".join(
        [
            "# Language-based colorization on CoSaL (issue 5)",
            "",
            "`cosal_colorizer` preset trained by `LBIEColorizerGAN` with "
            f"GAN weight {arguments['gan_weight']:g}, L1 weight "
            f"{arguments['l1_weight']:g} and L2 weight "
            f"{arguments.get('l2_weight', 0.0):g} (the paper's objective is "
            "GAN + L1; with L1 alone the generator stayed at chance here, "
            "see `l2_weight` in `LBIEColorizerGAN`), "
            f"{arguments['train']:,} training captions "
            f"({described(arguments)}), scored on "
            f"{arguments['test']:,} held-out examples (seed {TEST_SEED}). "
            "Shapes share one lightness, so only the caption tells their "
            "colours: chance is 1/3. Caption-following accuracy: the share "
            "of named shapes whose mean predicted ab is nearest their "
            "captioned colour; kept gray: the share of the shapes the "
            "caption does not name whose mean ab stays nearer gray than any "
            "colour. The paper's column is its human-rated text "
            "consistency on Oxford-102 (Table 4), the same idea, not the "
            "same measurement.",
            "",
            table(rows),
            "",
            f"Target caption-following accuracy ≥ 0.9: {target} "
            f"({accuracy:.4f}).",
            "",
            "Written by `python examples/cosal_colorization_report.py "
            f"--text-run {args.text_run} --no-text-run {args.no_text_run}`"
            " from runs of `examples/train_cosal_colorizer.py`.",
            "",
        ]
    )
    with open(
        os.path.join(args.results_dir, "cosal_colorization.md"), "w"
    ) as f:
        f.write(markdown)
    with open(
        os.path.join(args.results_dir, "cosal_colorization.json"), "w"
    ) as f:
        json.dump({"arguments": arguments, "rows": rows}, f, indent=2)
    count = args.samples
    grid = ColorizationSamples(
        test["image_l"][:count], list(test["text"][:count]), test["ab"][:count]
    )
    grid.write_grid(
        ours[:count],
        os.path.join(args.docs_dir, "cosal_colorization.png"),
        baseline_ab=baseline[:count],
    )
    photo_figure(text_model, os.path.join(args.docs_dir, "colorizer_photo.png"))
    if args.ship:
        shutil.copyfile(
            os.path.join(args.text_run, "colorizer.weights.h5"), WEIGHTS_PATH
        )
    print(markdown)


if __name__ == "__main__":
    main()
