"""`lbie cosal generate`: write CoSaL splits as TFRecord shards."""

from keras_lbie.cli.common import CLIError
from keras_lbie.cli.common import import_tensorflow
from keras_lbie.cli.common import output_folder
from keras_lbie.training.cosal_training_config import add_num_direct_argument
from keras_lbie.utils.validation import check_positive_int


def add_parsers(commands):
    """Adds the `cosal` command group."""
    cosal_parser = commands.add_parser(
        "cosal", help="the CoSaL data set (generate)"
    )
    cosal_commands = cosal_parser.add_subparsers(
        dest="cosal_command", required=True, metavar="COMMAND"
    )
    generate = cosal_commands.add_parser(
        "generate",
        help="write CoSaL train/test splits as TFRecords",
        description=(
            "Generates the train and test splits that `lbie train` and "
            "`lbie evaluate` use with the same flags, and writes them to "
            "OUT as GZIP-compressed TFRecord shards "
            "{train,test}_nd<N>-00000-of-0000K.tfrecord (about 0.7 KB per "
            "48 px example, 26 times less than uncompressed): read one with "
            "keras_lbie.datasets.cosal.as_dataset"
            "('OUT/train_nd4-*.tfrecord', batch_size), or train on them "
            "with `lbie train --data-dir OUT`. Prints the size written."
        ),
    )
    add_num_direct_argument(
        generate,
        help_text="one setting, or several separated by commas (the "
        "splits `lbie train` mixes)",
    )
    generate.add_argument(
        "--train", type=int, default=50_000, help="training examples in all"
    )
    generate.add_argument(
        "--test", type=int, default=10_000, help="test examples per setting"
    )
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument(
        "--shard-size", type=int, default=5000, help="examples per file"
    )
    generate.add_argument("--out", required=True, metavar="DIR")
    generate.set_defaults(run=run_generate)


def run_generate(args):
    """Writes every split of the run with a progress bar each."""
    for flag in ("train", "test", "shard_size"):
        check_positive_int(getattr(args, flag), f"--{flag.replace('_', '-')}")
    out = output_folder(args.out)
    import_tensorflow()
    import keras

    from keras_lbie.datasets.cosal.tfrecords import tfrecord_size
    from keras_lbie.training.cosal_split import cosal_test_splits
    from keras_lbie.training.cosal_split import cosal_train_splits

    splits = cosal_train_splits(args.num_direct, args.train, args.seed)
    splits += cosal_test_splits(args.num_direct, args.test, args.seed)
    _check_absent(splits, out)
    stored = uncompressed = 0
    for split in splits:
        print(
            f"{split.name} split, num_direct={split.num_direct}: "
            f"{split.num_examples} examples"
        )
        progress = keras.utils.Progbar(split.num_examples, unit_name="example")
        paths = split.write(out, args.shard_size, on_shard=progress.update)
        split_stored, split_uncompressed = tfrecord_size(paths)
        print(f"  {size_report(split_stored, split_uncompressed)}")
        stored += split_stored
        uncompressed += split_uncompressed
    print(
        f"Wrote {len(splits)} splits to {out}: "
        f"{size_report(stored, uncompressed)}"
    )


def size_report(stored, uncompressed):
    """E.g. "42.1 MB (GZIP), 26.0x smaller than uncompressed (1.1 GB)"."""
    ratio = uncompressed / stored if stored else 1.0
    return (
        f"{format_bytes(stored)} (GZIP), {ratio:.1f}x smaller than "
        f"uncompressed ({format_bytes(uncompressed)})"
    )


def format_bytes(size):
    """`size` in B, KB, MB or GB (powers of 1000), 3 significant digits."""
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.3g} {unit}" if unit != "B" else f"{size} B"
        size /= 1000
    return f"{size:.3g} GB"


def _check_absent(splits, out):
    """Refuses to mix new shards with those of an earlier run."""
    import tensorflow as tf

    present = [
        s.file_prefix for s in splits if tf.io.gfile.glob(s.pattern(out))
    ]
    if present:
        raise CLIError(
            f"{out} already holds the split(s) {', '.join(present)}: "
            "remove them or choose another --out."
        )
