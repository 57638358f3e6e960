"""Train and evaluate an LBIE segmenter on CoSaL (paper Section 4.1).

    python examples/train_cosal.py --preset cosal_paper --max-steps 4 \\
        --num-direct 4 --epochs 10 --output-dir runs/t4_nd4

Generates the 50,000/10,000 train/test splits of one `--num-direct` setting
(or reads TFRecords written by a previous run or `lbie cosal generate` with
`--data-dir`); with several settings (`--num-direct 4,6,8`) the training
split mixes them in equal parts and each setting has its own test split. It
then trains the preset's backbone with `fit` (tokenisation in the tf.data
pipeline, so the step can be XLA-compiled and distributed), with
checkpoints, TensorBoard logs and the Gumbel temperature schedule, then
evaluates the paper's region IoU and the colour mean IoU on the test split.
Everything lands in `--output-dir`: `results.json` (configuration, training
budget, wall-clock, metrics), `model.weights.h5`, `checkpoints/` and
`logs/`. A killed run continues from its backup (`backup/`, taken every
epoch and every `--save-every-steps N` steps) with the same command and
`--resume`; an `--output-dir` holding another run is refused unless
`--resume` or `--overwrite` says what to do. The run itself is
`keras_lbie.training.train_cosal`, which `lbie train` also runs.
"""

import sys

from keras_lbie.utils.tensorflow_logs import add_verbose_argument
from keras_lbie.utils.tensorflow_logs import quiet_tensorflow_logs

if __name__ == "__main__":
    # Before TensorFlow loads: hide its log lines unless --verbose.
    quiet_tensorflow_logs(sys.argv[1:])

import argparse
import json

from keras_lbie.training import CoSaLTrainingConfig
from keras_lbie.training import add_training_arguments
from keras_lbie.training import train_cosal


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    add_training_arguments(parser, default_preset="cosal_paper")
    add_verbose_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    _, results = train_cosal(
        CoSaLTrainingConfig.from_args(args),
        args.output_dir,
        resume=args.resume,
        overwrite=args.overwrite,
    )
    print(json.dumps(results["metrics_by_num_direct"], indent=2))
    return results


if __name__ == "__main__":
    main()
