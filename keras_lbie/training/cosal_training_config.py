"""The settings of a CoSaL training run, and their command-line flags.

Stdlib only, so that the `lbie` command can build its parsers without
importing TensorFlow.
"""

import argparse
import dataclasses

from keras_lbie.utils.validation import check_positive_int

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")
TERMINATION_MODES = ("gumbel", "expected")
PRECISIONS = ("float32", "bfloat16", "float16", "auto")
JIT_COMPILE_MODES = (True, False, "fusion")


@dataclasses.dataclass(frozen=True)
class CoSaLTrainingConfig:
    """What `train_cosal` trains, on which data and for how long.

    Args:
        preset: str, the `LBIESegmenter` preset to train from scratch.
        max_steps: None or int, overrides the preset's T.
        use_attention: bool, False for the concatenation baseline.
        termination_mode: None, "gumbel" or "expected": overrides the
            preset's.
        encoder_filters: None or tuple of positive ints, overrides the
            preset's image encoder convolutions (to try a deeper encoder
            with a wider receptive field).
        pool_every: None or positive int, overrides the preset's pooling
            interval; with `encoder_filters`, sets the encoder stride.
        num_direct: tuple of ints in 1..9, the CoSaL settings; several mix
            the training split in equal parts (see `cosal_splits`).
        train_examples: positive int, training examples over all settings.
        test_examples: positive int, test examples per setting.
        seed: int >= 0, seeds the data, the weights and the shuffling.
        data_dir: None, or a folder of TFRecord splits (read when present,
            else generated and written there).
        shuffle_sentences: bool, train on examples whose sentences are in
            random order (test splits keep the generator's order).
        jitter: int >= 0, train on shapes moved by up to `jitter` pixels.
        integer_coordinates: float in [0, 1], the share of training
            examples rasterised with integer coordinates (see
            `cosal.generate`).
        object_weight: float >= 1, the loss weight of shape pixels (the
            background's is 1): most pixels are background, and every
            colour a sentence gives is on a shape.
        epochs: positive int.
        batch_size: positive int; each setting's share of the training
            split must hold at least one batch.
        learning_rate: float, Adam's (initial) learning rate.
        cosine_decay: bool, decay the learning rate to 0 over training.
        temperature_decay: float, per-step rate of the exponential Gumbel
            temperature schedule (minimum 0.5).
        strategy: one of `STRATEGIES`, the `tf.distribute` strategy
            (`distribution_strategy`): "auto" (every local GPU, else the
            default device), "one_device", "mirrored" or "multi_worker"
            (the cluster of `TF_CONFIG`).
        replicas: None, or with "mirrored" the number of GPUs (or, on a
            host without any, of logical CPU devices) to train on.
        jit_compile: True XLA-compiles the whole training step, "fusion"
            the fusion loop alone (see `compile_for_training`), False
            nothing: the fastest real loop measured on CPU
            (benchmarks/README.md, "Training loop").
        precision: "float32", "bfloat16", "float16" or "auto", the compute
            dtype (mixed precision: float32 weights); "auto" picks float16
            on a GPU, bfloat16 on a CPU with native bf16, else float32
            (see `resolve_precision`). float32 by default: bfloat16 was
            no faster on a CPU with AMX-BF16 (benchmarks/README.md).
        history_examples: int >= 0, after every epoch the region IoU on
            the first `history_examples` examples of each test split is
            recorded with the training wall-clock so far (0: none).
        save_every_steps: None or positive int, also back the run up
            every `save_every_steps` steps (it always is at every epoch
            end), for `--resume`.

    Raises:
        ValueError: a count is not positive, or a setting's share of the
            training split is smaller than a batch.
    """

    preset: str = "cosal_paper"
    max_steps: int | None = None
    use_attention: bool = True
    termination_mode: str | None = None
    encoder_filters: tuple | None = None
    pool_every: int | None = None
    relation_kernel_size: int | None = None
    num_direct: tuple = (4,)
    train_examples: int = 50_000
    test_examples: int = 10_000
    seed: int = 0
    data_dir: str | None = None
    shuffle_sentences: bool = False
    jitter: int = 0
    integer_coordinates: float = 0.0
    object_weight: float = 1.0
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    cosine_decay: bool = False
    temperature_decay: float = 1e-4
    strategy: str = "auto"
    replicas: int | None = None
    jit_compile: bool | str = False
    precision: str = "float32"
    history_examples: int = 1000
    save_every_steps: int | None = None

    def __post_init__(self):
        for name in ("train_examples", "test_examples", "epochs"):
            check_positive_int(getattr(self, name), name)
        check_positive_int(self.batch_size, "batch_size")
        if self.history_examples:
            check_positive_int(self.history_examples, "history_examples")
        if self.save_every_steps is not None:
            check_positive_int(self.save_every_steps, "save_every_steps")
        _check_choice(self.jit_compile, JIT_COMPILE_MODES, "jit_compile")
        _check_choice(self.precision, PRECISIONS, "precision")
        check_strategy(self.strategy, self.replicas)
        if self.batches_per_setting < 1:
            raise ValueError(
                f"The training split ({self.train_examples} examples over "
                f"{len(self.num_direct)} num_direct setting(s)) must hold "
                f"at least one batch of {self.batch_size} per setting."
            )

    @classmethod
    def from_args(cls, args):
        """The config of flags added by `add_training_arguments`."""
        return cls(
            preset=args.preset,
            max_steps=args.max_steps,
            use_attention=not args.no_attention,
            termination_mode=args.termination_mode,
            encoder_filters=args.encoder_filters,
            pool_every=args.pool_every,
            relation_kernel_size=args.relation_kernel_size,
            num_direct=args.num_direct,
            train_examples=args.train,
            test_examples=args.test,
            seed=args.seed,
            data_dir=args.data_dir,
            shuffle_sentences=args.shuffle_sentences,
            jitter=args.jitter,
            integer_coordinates=args.integer_coordinates,
            object_weight=args.object_weight,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            cosine_decay=args.cosine_decay,
            temperature_decay=args.temperature_decay,
            strategy=args.strategy,
            replicas=args.replicas,
            jit_compile=args.jit_compile,
            precision=args.precision,
            history_examples=args.history_examples,
            save_every_steps=args.save_every_steps,
        )

    @property
    def augmentation(self):
        """The `cosal.generate` augmentation options of the training data."""
        return {
            "shuffle_sentences": self.shuffle_sentences,
            "jitter": self.jitter,
            "integer_coordinates": self.integer_coordinates,
        }

    @property
    def examples_per_setting(self):
        """Training examples of each `num_direct` setting."""
        return self.train_examples // len(self.num_direct)

    @property
    def batches_per_setting(self):
        """Training batches per epoch of each setting (remainder dropped)."""
        return self.examples_per_setting // self.batch_size

    @property
    def train_steps(self):
        """Optimizer steps over the whole run."""
        return len(self.num_direct) * self.batches_per_setting * self.epochs

    def overrides(self):
        """The `LBIESegmenter.from_preset` overrides of this run."""
        overrides = {
            name: getattr(self, name)
            for name in (
                "max_steps",
                "termination_mode",
                "encoder_filters",
                "pool_every",
                "relation_kernel_size",
            )
            if getattr(self, name) is not None
        }
        if not self.use_attention:
            overrides["use_attention"] = False
        return {"seed": self.seed, **overrides}


def check_strategy(strategy, replicas=None):
    """Raises unless `strategy` is one of `STRATEGIES` and `replicas` fits.

    `replicas` is None or a positive int, and only "mirrored" takes one.
    """
    _check_choice(strategy, STRATEGIES, "strategy")
    if replicas is None:
        return
    check_positive_int(replicas, "replicas")
    if strategy != "mirrored":
        raise ValueError(
            "`replicas` applies to the strategy 'mirrored' only (the "
            f"others choose their devices). Received: strategy={strategy!r}, "
            f"replicas={replicas!r}"
        )


def add_strategy_arguments(parser, default="auto"):
    """Adds `--strategy` and `--replicas` (see `distribution_strategy`)."""
    parser.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=default,
        help="auto: every local GPU, else the default device; one_device: "
        "the first GPU, else the CPU; mirrored: every local GPU (or "
        "--replicas logical CPUs without one); multi_worker: the cluster "
        f"of TF_CONFIG (default: {default})",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        metavar="N",
        help="with --strategy mirrored: train on N GPUs, or on N logical "
        "CPU devices on a host without GPUs",
    )


def _check_choice(value, choices, name):
    # `True == 1`: compare types too, so that 1 is not taken for True.
    if not any(
        type(value) is type(choice) and value == choice for choice in choices
    ):
        raise ValueError(
            f"`{name}` must be one of {choices}. Received: {value!r}"
        )


def _positive_int_list(text):
    """argparse type: "4,4,8" → (4, 4, 8), each a positive int."""
    return _int_list(text, lambda value: value >= 1, "positive ints")


def num_direct_list(text):
    """argparse type: "4" → (4,), "4,6,8" → (4, 6, 8), each in 1..9."""
    return _int_list(text, lambda value: 1 <= value <= 9, "ints in 1..9")


def _int_list(text, is_valid, expected):
    try:
        values = tuple(int(value) for value in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(is_valid(value) for value in values):
        raise argparse.ArgumentTypeError(
            f"expected {expected} separated by commas, got {text!r}"
        )
    return values


def add_training_arguments(parser, default_preset):
    """Adds the flags of a CoSaL training run (`CoSaLTrainingConfig`).

    Flags default to the config's defaults, except `--preset`. Also adds
    the required `--output-dir` and what to do with a run already there
    (`--resume`, `--overwrite`), which are not part of the config.
    """
    defaults = CoSaLTrainingConfig()
    parser.add_argument("--preset", default=default_preset)
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps)
    parser.add_argument("--no-attention", action="store_true")
    parser.add_argument(
        "--termination-mode",
        choices=TERMINATION_MODES,
        default=defaults.termination_mode,
    )
    parser.add_argument(
        "--encoder-filters",
        type=_positive_int_list,
        default=defaults.encoder_filters,
        help="image encoder convolutions, e.g. 4,4,4,8,8,8,16,16,16",
    )
    parser.add_argument("--pool-every", type=int, default=defaults.pool_every)
    parser.add_argument(
        "--relation-kernel-size",
        type=int,
        default=defaults.relation_kernel_size,
    )
    add_num_direct_argument(parser)
    parser.add_argument(
        "--train",
        type=int,
        default=defaults.train_examples,
        help="training examples in all",
    )
    parser.add_argument(
        "--test",
        type=int,
        default=defaults.test_examples,
        help="test examples per setting",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--data-dir",
        default=defaults.data_dir,
        help="TFRecords folder: read if present, else generated and written",
    )
    parser.add_argument(
        "--shuffle-sentences",
        action="store_true",
        help="train on sentences in random order",
    )
    parser.add_argument(
        "--jitter",
        type=int,
        default=defaults.jitter,
        help="move training shapes by up to this many pixels",
    )
    parser.add_argument(
        "--integer-coordinates",
        type=float,
        default=defaults.integer_coordinates,
        help="share of training examples rasterised with integer coordinates",
    )
    parser.add_argument(
        "--object-weight",
        type=float,
        default=defaults.object_weight,
        help="loss weight of shape pixels (background: 1)",
    )
    add_fit_arguments(parser, defaults)
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=defaults.precision,
        help="compute dtype; auto: float16 on a GPU, bfloat16 on a CPU with "
        "native bf16, else float32",
    )
    parser.add_argument(
        "--history-examples",
        type=int,
        default=defaults.history_examples,
        help="test examples per setting scored after every epoch (0: none)",
    )
    parser.add_argument(
        "--save-every-steps",
        type=int,
        default=defaults.save_every_steps,
        help="also back the run up every N steps (always: every epoch)",
    )
    parser.add_argument("--output-dir", required=True)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the killed run in --output-dir from its backup",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the run already in --output-dir first",
    )


def add_fit_arguments(parser, defaults):
    """Adds the flags every training run has: how long, how fast, where.

    `--epochs`, `--batch-size`, `--learning-rate`, `--temperature-decay`,
    `--strategy`, `--replicas`, `--jit-compile` / `--jit-compile-fusion`
    (neither: the config's default) and `--cosine-decay`, defaulting to the
    fields of the same names of `defaults`, a training config.
    """
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate
    )
    parser.add_argument(
        "--temperature-decay",
        type=float,
        default=defaults.temperature_decay,
        help="per-step rate of the exponential Gumbel temperature schedule "
        "(floor 0.5)",
    )
    add_strategy_arguments(parser, defaults.strategy)
    jit_compile = parser.add_mutually_exclusive_group()
    jit_compile.add_argument(
        "--jit-compile",
        action="store_const",
        const=True,
        default=defaults.jit_compile,
        help="XLA-compile the whole training step",
    )
    jit_compile.add_argument(
        "--jit-compile-fusion",
        action="store_const",
        const="fusion",
        dest="jit_compile",
        help="XLA-compile the fusion loop alone",
    )
    parser.add_argument(
        "--cosine-decay",
        action="store_true",
        help="decay the learning rate to 0 over training (cosine)",
    )


def add_num_direct_argument(
    parser,
    help_text="one setting, or several separated by commas (mixed training)",
):
    """Adds `--num-direct`: one CoSaL setting, or several."""
    parser.add_argument(
        "--num-direct",
        type=num_direct_list,
        default=CoSaLTrainingConfig.num_direct,
        help=help_text,
    )
