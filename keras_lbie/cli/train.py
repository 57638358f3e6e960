"""`lbie train`: a CoSaL training run of `keras_lbie.training`."""

import os

from keras_lbie.cli.common import DEFAULT_MODEL
from keras_lbie.cli.common import import_tensorflow
from keras_lbie.cli.common import output_folder
from keras_lbie.cli.common import print_metrics
from keras_lbie.training.cosal_training_config import CoSaLTrainingConfig
from keras_lbie.training.cosal_training_config import add_training_arguments
from keras_lbie.utils.atomic_files import atomic_path

MODEL_FILE = "model.keras"


def add_parsers(commands):
    """Adds the `train` command."""
    train = commands.add_parser(
        "train",
        help="train a segmenter on CoSaL",
        description=(
            "Trains a preset's segmenter from scratch on CoSaL (generated, "
            "or TFRecords from `lbie cosal generate` with --data-dir), "
            "evaluates it, and writes to --output-dir the model "
            f"({MODEL_FILE}, for --model), results.json, weights, "
            "checkpoints and TensorBoard logs. A folder holding another "
            "run is refused unless --resume (continue it from its backup) "
            "or --overwrite (replace it)."
        ),
    )
    add_training_arguments(train, default_preset=DEFAULT_MODEL)
    train.set_defaults(run=run_train)


def run_train(args):
    """Trains, saves the `.keras` model and prints the metrics."""
    config = CoSaLTrainingConfig.from_args(args)
    output_dir = output_folder(args.output_dir)
    import_tensorflow()
    from keras_lbie.training.cosal_training import train_cosal

    segmenter, results = train_cosal(
        config, output_dir, resume=args.resume, overwrite=args.overwrite
    )
    model_path = os.path.join(output_dir, MODEL_FILE)
    with atomic_path(model_path) as partial:
        segmenter.save(partial)
    print_metrics(results["metrics"], results["metrics_by_num_direct"])
    print(f"Wrote {model_path} (use it with --model) and results.json")
