"""`lbie train` and `lbie evaluate`: CoSaL runs of `keras_lbie.training`."""

import os

from keras_lbie.cli.common import DEFAULT_MODEL
from keras_lbie.cli.common import add_model_argument
from keras_lbie.cli.common import import_tensorflow
from keras_lbie.cli.common import load_segmenter
from keras_lbie.cli.common import output_folder
from keras_lbie.training.cosal_training_config import CoSaLTrainingConfig
from keras_lbie.training.cosal_training_config import add_num_direct_argument
from keras_lbie.training.cosal_training_config import add_training_arguments
from keras_lbie.utils.validation import check_positive_int

MODEL_FILE = "model.keras"


def add_parsers(commands):
    """Adds the `train` and `evaluate` commands."""
    train = commands.add_parser(
        "train",
        help="train a segmenter on CoSaL",
        description=(
            "Trains a preset's segmenter from scratch on CoSaL (generated, "
            "or TFRecords from `lbie cosal generate` with --data-dir), "
            "evaluates it, and writes to --output-dir the model "
            f"({MODEL_FILE}, for --model), results.json, weights, "
            "checkpoints and TensorBoard logs."
        ),
    )
    add_training_arguments(train, default_preset=DEFAULT_MODEL)
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="print a model's CoSaL region IoU and colour mean IoU",
        description=(
            "Evaluates a model on CoSaL test splits: the paper's region IoU "
            "and the colour mean IoU, per num_direct setting. The splits "
            "are those `lbie train` tests on with the same --seed."
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
    evaluate.add_argument(
        "--seed", type=int, default=0, help="the training run's seed"
    )
    evaluate.set_defaults(run=run_evaluate)


def run_train(args):
    """Trains, saves the `.keras` model and prints the metrics."""
    config = CoSaLTrainingConfig.from_args(args)
    output_dir = output_folder(args.output_dir)
    import_tensorflow()
    from keras_lbie.training.cosal_training import train_cosal

    segmenter, results = train_cosal(config, output_dir)
    model_path = os.path.join(output_dir, MODEL_FILE)
    segmenter.save(model_path)
    print_metrics(results["metrics"], results["metrics_by_num_direct"])
    print(f"Wrote {model_path} (use it with --model) and results.json")


def run_evaluate(args):
    """Prints the metrics of `args.model` on the test splits."""
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


def print_metrics(overall, by_num_direct):
    """One line per setting, and one over all settings when several."""
    rows = [(f"num_direct={n}", m) for n, m in by_num_direct.items()]
    if len(rows) > 1:
        rows.append(("all settings", overall))
    for label, metrics in rows:
        print(
            f"{label}: region IoU {metrics['cosal_region_iou']:.4f}, "
            f"colour mean IoU {metrics['color_mean_iou']:.4f}"
        )
