"""`lbie evaluate`: a model's CoSaL metrics, or a ReferIt segmenter's.

`lbie evaluate --referit-dir DIR` scores a ReferIt segmenter (the paper's
overall IoU and precision@0.5..0.9, `evaluate_referit`).
"""

import os

from keras_lbie.cli.common import CLIError
from keras_lbie.cli.common import add_model_argument
from keras_lbie.cli.common import import_tensorflow
from keras_lbie.cli.common import load_keras_file
from keras_lbie.cli.common import load_segmenter
from keras_lbie.cli.common import note
from keras_lbie.cli.common import print_metrics
from keras_lbie.training.cosal_training_config import CoSaLTrainingConfig
from keras_lbie.training.cosal_training_config import add_num_direct_argument
from keras_lbie.utils.validation import check_positive_int

REFERIT_SPLIT = "test"
REFERIT_BATCH_SIZE = 8


def add_parsers(commands):
    """Adds the `evaluate` command."""
    evaluate = commands.add_parser(
        "evaluate",
        help="print a model's CoSaL or ReferIt metrics",
        description=(
            "Evaluates a model on CoSaL test splits: the paper's region IoU "
            "and the colour mean IoU, per num_direct setting. The splits "
            "are those `lbie train` tests on with the same --seed. With "
            "--referit-dir, evaluates a ReferIt segmenter (a .keras file, "
            "or a ReferIt preset built with the folder's vocabulary) on a "
            "split of a ReferIt-format folder instead: the paper's overall "
            "IoU and precision@0.5..0.9 at the original image sizes."
        ),
    )
    add_model_argument(evaluate)
    add_num_direct_argument(
        evaluate,
        help_text="one setting, or several separated by commas (default: 4)",
    )
    data = evaluate.add_mutually_exclusive_group()
    data.add_argument(
        "--test",
        type=int,
        default=10_000,
        help="generate this many test examples per setting (default)",
    )
    data.add_argument(
        "--data-dir", help="read the test splits from these TFRecords"
    )
    data.add_argument(
        "--referit-dir",
        metavar="DIR",
        help="evaluate a ReferIt segmenter on this ReferIt-format folder",
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="the training run's seed (CoSaL)"
    )
    # ReferIt-only options default to None, so that the CoSaL path can
    # tell they were given.
    evaluate.add_argument(
        "--split",
        choices=("train", "val", "trainval", "test"),
        help=f"the ReferIt split to score (default: {REFERIT_SPLIT})",
    )
    evaluate.add_argument(
        "--batch-size",
        type=int,
        help="ReferIt queries per forward pass (default: "
        f"{REFERIT_BATCH_SIZE})",
    )
    evaluate.add_argument(
        "--max-queries",
        type=int,
        help="score only the split's first N ReferIt queries",
    )
    evaluate.set_defaults(run=run_evaluate)


def run_evaluate(args):
    """Prints the metrics of `args.model` on the test splits."""
    if args.referit_dir is not None:
        run_evaluate_referit(args)
        return
    given = [
        flag
        for flag, value in (
            ("--split", args.split),
            ("--batch-size", args.batch_size),
            ("--max-queries", args.max_queries),
        )
        if value is not None
    ]
    if given:
        raise CLIError(f"{', '.join(given)} apply to ReferIt (--referit-dir).")
    check_positive_int(args.test, "--test")
    segmenter = load_segmenter(args.model)
    from keras_lbie.training.cosal_training import evaluate_cosal

    overall, by_num_direct = evaluate_cosal(
        segmenter,
        args.num_direct,
        args.test,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    print_metrics(overall, by_num_direct)


def run_evaluate_referit(args):
    """Prints the ReferIt metrics of `args.model` on `args.split`."""
    if args.num_direct != CoSaLTrainingConfig.num_direct or args.seed != 0:
        raise CLIError("--num-direct and --seed apply to CoSaL, not ReferIt.")
    split = args.split or REFERIT_SPLIT
    batch_size = (
        REFERIT_BATCH_SIZE if args.batch_size is None else args.batch_size
    )
    check_positive_int(batch_size, "--batch-size")
    if args.max_queries is not None:
        check_positive_int(args.max_queries, "--max-queries")
    segmenter = load_referit_segmenter(args.model, args.referit_dir)
    from keras_lbie.training.referit_evaluation import evaluate_referit

    values = evaluate_referit(
        segmenter,
        args.referit_dir,
        split,
        batch_size=batch_size,
        max_queries=args.max_queries,
    )
    print_referit_metrics(values, split)


def load_referit_segmenter(model, referit_dir):
    """The `ReferItSegmenter` of a ReferIt preset or a `.keras` file.

    A preset is built randomly initialised with the vocabulary file of
    `referit_dir`.
    """
    import_tensorflow()
    from keras_lbie.datasets.referit import VOCABULARY_FILE
    from keras_lbie.models import ReferItSegmenter

    if model in ReferItSegmenter.presets:
        note(
            f"preset {model!r} has no trained weights: it is randomly "
            "initialised."
        )
        return ReferItSegmenter.from_preset(
            model, vocabulary=os.path.join(referit_dir, VOCABULARY_FILE)
        )
    if not os.path.isfile(model):
        problem = (
            f"no such model file: {model}"
            if model.endswith(".keras") or os.sep in model
            else f"unknown ReferIt preset {model!r}"
        )
        raise CLIError(
            f"{problem}; a ReferIt model is a preset "
            f"({', '.join(sorted(ReferItSegmenter.presets))}) or a .keras "
            "file of a ReferItSegmenter."
        )
    return load_keras_file(model, ReferItSegmenter)


def print_referit_metrics(values, split):
    """Two lines: overall and mean IoU, then the precisions."""
    print(
        f"ReferIt {split}, {values['num_queries']} queries: overall IoU "
        f"{values['overall_iou']:.4f}, mean IoU {values['mean_iou']:.4f}"
    )
    print(
        ", ".join(
            f"{key} {value:.4f}"
            for key, value in values.items()
            if key.startswith("precision@")
        )
    )
