"""Train and evaluate a ReferIt segmenter (paper Section 4.2, Table 3).

On CoSaL scenes written in the ReferIt layout (no real ReferIt data here;
4,320 expressions, 2,592 for training; 10-20 minutes on 2 CPU cores),
writing `results/referit_cosal.md`:

    python examples/train_referit.py --data-dir runs/referit_cosal_data \\
        --make-cosal-data 160 --preset referit_small --epochs 4 \\
        --batch-size 32 --learning-rate 2e-3 --object-weight 10 \\
        --output-dir runs/referit_small

On synthetic referring scenes (`referit.write_referring_scenes`: images
of 64-128 px sides, 3-6 overlapping shapes on textured backgrounds,
expressions by category, colour, size, position and relation; 10,000
images, 2,000 of them in the test split), and the same run with the text
blanked (the baseline that shows what the expressions add):

    python examples/train_referit.py --data-dir runs/referit_scenes_data \
        --make-scene-data 10000 --preset referit_small --epochs 4 \
        --batch-size 32 --learning-rate 2e-3 --object-weight 10 \
        --output-dir runs/referit_small_scenes \
        --results results/referit_scenes.md
    python examples/train_referit.py --data-dir runs/referit_scenes_data \
        --blank-text --preset referit_small --epochs 4 \
        --batch-size 32 --learning-rate 2e-3 --object-weight 10 \
        --output-dir runs/referit_small_scenes_blank \
        --results results/referit_scenes_blank_text.md

On the real ReferIt release (text_objseg's layout), the paper's model:

    python examples/train_referit.py --data-dir referit \\
        --preset referit_paper --encoder-weights imagenet \\
        --batch-size 10 --epochs 2 --output-dir runs/referit_paper \\
        --results results/referit.md

The parameter count and step times of `referit_paper` at 512 × 512
(written to `results/referit_paper_cost.json`):

    python examples/train_referit.py --benchmark

With `--make-cosal-data N` the script first writes N CoSaL scenes as a
ReferIt-format folder into `--data-dir` (`referit.write_referit_format`:
9 objects per image, 3 expressions each, images split 60/20/20 into
train/val/test, stretched to `--cosal-size`), plus `cosal_source.json`
recording how. It then trains the preset's backbone on the train split
with `fit` (text tokenised in the tf.data pipeline, so the step can be
XLA-compiled and distributed with `--strategy mirrored`), with per-epoch
checkpoints (`checkpoints/`), a backup that resumes an interrupted run
with the same `--output-dir` (`backup/`) and the Gumbel temperature
schedule (`--object-weight` weights object pixels in the loss: objects
cover about 2% of a CoSaL-derived image, the whole-image baseline's IoU),
saves `model.keras` (for `lbie evaluate --model ... --referit-dir
...`) and scores the test split at the original image sizes
(`keras_lbie.training.evaluate_referit`). It writes `--results` (a
markdown table in the layout of the paper's Table 3, the paper's rows
beside ours) and the same stem `.json` with every number, including two
baselines scored by the same code:

- whole image: every pixel of the image predicted as the object (no
  information; its IoU is the object's share of the image);
- true tile (CoSaL folders only): every pixel of the grid tile that holds
  the object, found from its ground-truth box: an oracle location with no
  shape, the score of a model that finds the right tile but not the shape;
- category only (folders of `--make-scene-data`, which hold
  `referit_objects.json`): every object of the referent's category, from
  the ground truth: the best a model reading only the category word can do.

With `--make-scene-data N` the script instead writes N synthetic scenes
(`referit.write_referring_scenes`, sides in `--scene-sides`, default
64,128; it records its arguments in `referring_scenes_source.json`). With
`--blank-text` every expression is replaced by the empty string in
training and in scoring: the text-blanked baseline, by the same code path.
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse

import keras

from keras_lbie.models import available_referit_presets
from keras_lbie.training import ReferItTrainingConfig
from keras_lbie.training import add_referit_training_arguments
from keras_lbie.training import benchmark_referit_paper
from keras_lbie.training import distribution_strategy
from keras_lbie.training import evaluate_referit_baselines
from keras_lbie.training import evaluate_referit_run
from keras_lbie.training import train_referit
from keras_lbie.training import write_cosal_referit_data
from keras_lbie.training import write_referit_results
from keras_lbie.training import write_scene_referit_data


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    add_referit_training_arguments(parser, available_referit_presets())
    parser.add_argument(
        "--results",
        default="results/referit_cosal.md",
        help="the markdown table to write; the JSON goes beside it",
    )
    parser.add_argument(
        "--baselines-only",
        action="store_true",
        help="score only the baselines (no training) and write --results",
    )
    parser.add_argument(
        "--benchmark",
        action="store_true",
        help="only print referit_paper's parameter count and step times",
    )
    parser.add_argument(
        "--benchmark-image-size",
        type=int,
        default=512,
        help="image size of --benchmark (default: the paper's 512)",
    )
    parser.add_argument(
        "--benchmark-output",
        default="results/referit_paper_cost.json",
        help="the JSON file --benchmark writes",
    )
    add_verbose_argument(parser)
    args = parser.parse_args(argv)
    if not args.benchmark and not args.data_dir:
        parser.error("--data-dir is required (unless --benchmark)")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.benchmark:
        return benchmark_referit_paper(
            args.benchmark_image_size, args.benchmark_output
        )
    config = ReferItTrainingConfig.from_args(args)
    # Before any TensorFlow op: `--replicas` splits the CPU.
    strategy = distribution_strategy(config.strategy, config.replicas)
    keras.utils.set_random_seed(args.seed)
    try:
        if config.make_cosal_data:
            write_cosal_referit_data(config)
        if config.make_scene_data:
            write_scene_referit_data(config)
    except FileExistsError as error:
        raise SystemExit(str(error)) from error
    if args.baselines_only:
        results = evaluate_referit_baselines(config)
        write_referit_results(results, args.results, config.data_dir)
        return results
    segmenter, training = train_referit(
        config, args.output_dir, strategy=strategy
    )
    results = evaluate_referit_run(config, segmenter)
    results["training"] = training
    write_referit_results(results, args.results, config.data_dir)
    return results


if __name__ == "__main__":
    main()
