"""Draw the paper's Figure 5 for a trained CoSaL segmenter.

    python examples/cosal_figure.py --output docs/cosal_figure5.png

Generates one CoSaL test example, edits it with the shipped `cosal` model
(or a preset with `--weights`, e.g. a Table 2 cell's
`--preset cosal_paper --weights results/cosal_table2/....weights.h5`) and
writes a PNG:
source, edited and target images, the region map of stopping steps, and the
sentences coloured by the step at which the regions attended to them most
(`keras_lbie.visualize.attention_figure`).
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse

from keras_lbie.datasets import cosal
from keras_lbie.models import LBIESegmenter
from keras_lbie.visualize import attention_figure


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="cosal")
    parser.add_argument(
        "--weights",
        help="backbone weights (.weights.h5); default: the preset's own",
    )
    parser.add_argument(
        "--max-steps", type=int, help="T of `--weights` (default: preset's)"
    )
    parser.add_argument("--num-direct", type=int, default=4)
    parser.add_argument("--index", type=int, default=0, help="test example")
    parser.add_argument("--output", default="docs/cosal_figure5.png")
    add_verbose_argument(parser)
    args = parser.parse_args()

    overrides = {} if args.max_steps is None else {"max_steps": args.max_steps}
    segmenter = LBIESegmenter.from_preset(
        args.preset, load_weights=args.weights is None, **overrides
    )
    if args.weights:
        segmenter.backbone.load_weights(args.weights)
    example = cosal.generate(
        1, num_direct=args.num_direct, seed=1, start_index=args.index
    )
    edited, details = segmenter.edit(
        example["image"], list(example["text"]), return_details=True
    )
    attention_figure(
        example["image"][0],
        edited[0],
        details["sentences"][0],
        details["attention"][0],
        details["stop_step"][0],
        target=example["target"][0],
        title=(
            f"CoSaL test example {args.index}, "
            f"T = {segmenter.backbone.max_steps}"
        ),
        path=args.output,
    )
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
