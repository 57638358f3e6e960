"""The settings of a ReferIt training run, and their command-line flags.

Stdlib only, as `cosal_training_config`, so that parsers build without
TensorFlow.
"""

import argparse
import dataclasses

from keras_lbie.training.cosal_training_config import add_fit_arguments
from keras_lbie.training.cosal_training_config import check_strategy


@dataclasses.dataclass(frozen=True)
class ReferItTrainingConfig:
    """What `train_referit` trains, on which folder and for how long.

    Args:
        data_dir: str, a ReferIt-format folder (`keras_lbie.datasets.
            referit`); with `make_cosal_data` it is written first.
        preset: str, the `ReferItSegmenter` preset to train from scratch.
        encoder_weights: None, or the initial weights of `referit_paper`'s
            VGG-16, e.g. "imagenet".
        max_steps: None (the preset's), or the number of fusion steps T.
        spatial_features: None (the preset's), or whether the small
            presets' encoder appends each cell's position
            (`conv_image_encoder`'s `spatial_features`).
        epochs: positive int.
        batch_size: positive int.
        learning_rate: float, Adam's learning rate.
        cosine_decay: bool, decay the learning rate to 0 over training.
        temperature_decay: float, per-step rate of the exponential Gumbel
            temperature schedule (minimum 0.5).
        object_weight: float, the weight of object pixels in the pixel
            loss (1: the paper's unweighted loss); objects cover about 2%
            of a CoSaL-derived image.
        strategy: one of `STRATEGIES` (see `distribution_strategy`).
        replicas: None, or with "mirrored" the GPUs (or logical CPUs).
        jit_compile: bool, XLA-compile the training step.
        seed: int, seeds the data written, the weights and the shuffling.
        max_test_queries: None (all), or score only the first N test
            queries.
        make_cosal_data: None, or write that many CoSaL scenes as a
            ReferIt folder into `data_dir` first
            (`write_cosal_referit_data`).
        cosal_size: `(height, width)` of the written CoSaL images.
        make_scene_data: None, or write that many synthetic referring
            scenes as a ReferIt folder into `data_dir` first
            (`write_scene_referit_data`, `referit.write_referring_scenes`).
        scene_sides: `(min, max)` image side of the written scenes.
        blank_text: bool, train and score with every expression replaced
            by the empty string: the text-blanked baseline.
    """

    data_dir: str
    preset: str = "referit_small"
    encoder_weights: str | None = None
    max_steps: int | None = None
    spatial_features: bool | None = None
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 1e-3
    cosine_decay: bool = False
    temperature_decay: float = 1e-4
    object_weight: float = 1.0
    strategy: str = "auto"
    replicas: int | None = None
    jit_compile: bool = False
    seed: int = 0
    max_test_queries: int | None = None
    make_cosal_data: int | None = None
    cosal_size: tuple = (96, 128)
    make_scene_data: int | None = None
    scene_sides: tuple = (64, 128)
    blank_text: bool = False

    @classmethod
    def from_args(cls, args):
        """The config of parsed `add_referit_training_arguments` flags."""
        height, width = (int(side) for side in args.cosal_size.split("x"))
        low, high = (int(side) for side in args.scene_sides.split(","))
        return cls(
            data_dir=args.data_dir,
            preset=args.preset,
            encoder_weights=args.encoder_weights,
            max_steps=args.max_steps,
            spatial_features=args.spatial_features,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            cosine_decay=args.cosine_decay,
            temperature_decay=args.temperature_decay,
            object_weight=args.object_weight,
            strategy=args.strategy,
            replicas=args.replicas,
            jit_compile=args.jit_compile,
            seed=args.seed,
            max_test_queries=args.max_test_queries,
            make_cosal_data=args.make_cosal_data,
            cosal_size=(height, width),
            make_scene_data=args.make_scene_data,
            scene_sides=(low, high),
            blank_text=args.blank_text,
        )

    def __post_init__(self):
        check_strategy(self.strategy, self.replicas)

    def overrides(self):
        """The `ReferItSegmenter.from_preset` overrides of this run."""
        overrides = {
            "encoder_weights": self.encoder_weights,
            "max_steps": self.max_steps,
            "spatial_features": self.spatial_features,
        }
        return {
            name: value
            for name, value in overrides.items()
            if value is not None
        }


def add_referit_training_arguments(parser, presets):
    """Adds the flags of a ReferIt training run (`ReferItTrainingConfig`).

    Args:
        parser: an `argparse.ArgumentParser`.
        presets: the preset names `--preset` accepts.

    Also adds `--output-dir`, which is not part of the config.
    """
    defaults = ReferItTrainingConfig(data_dir=None)
    parser.add_argument("--data-dir", help="a ReferIt-format folder")
    synthetic = parser.add_mutually_exclusive_group()
    synthetic.add_argument(
        "--make-cosal-data",
        type=int,
        metavar="N",
        help="first write N CoSaL scenes as a ReferIt folder in --data-dir",
    )
    synthetic.add_argument(
        "--make-scene-data",
        type=int,
        metavar="N",
        help="first write N synthetic referring scenes "
        "(referit.write_referring_scenes) as a ReferIt folder in --data-dir",
    )
    parser.add_argument(
        "--scene-sides",
        default=",".join(str(side) for side in defaults.scene_sides),
        metavar="MIN,MAX",
        help="image side range of --make-scene-data (default: 64,128)",
    )
    parser.add_argument(
        "--blank-text",
        action="store_true",
        help="train and score with empty expressions (the text-blanked "
        "baseline)",
    )
    parser.add_argument(
        "--cosal-size",
        default="x".join(str(side) for side in defaults.cosal_size),
        metavar="HxW",
        help="size of the written CoSaL images (default: 96x128)",
    )
    parser.add_argument(
        "--preset", default=defaults.preset, choices=sorted(presets)
    )
    parser.add_argument(
        "--encoder-weights",
        help="initial weights of referit_paper's VGG-16, e.g. imagenet",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        help="the number of fusion steps T (default: the preset's)",
    )
    parser.add_argument(
        "--spatial-features",
        action=argparse.BooleanOptionalAction,
        help="append each cell's position to referit_small's image "
        "features (default: the preset's)",
    )
    add_fit_arguments(parser, defaults)
    parser.add_argument(
        "--object-weight",
        type=float,
        default=defaults.object_weight,
        help="weight of object pixels in the pixel loss (default 1: the "
        "paper's unweighted loss)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--max-test-queries",
        type=int,
        help="score only the first N test queries (default: all)",
    )
    parser.add_argument("--output-dir", default="runs/referit")
