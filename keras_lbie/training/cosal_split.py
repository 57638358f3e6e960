"""The CoSaL splits of a training run: generated, or TFRecord shards."""

import math
import os
from typing import NamedTuple

import tensorflow as tf

from keras_lbie.datasets import cosal
from keras_lbie.datasets.cosal.tfrecords import tfrecord_count
from keras_lbie.utils.validation import check_positive_int

# Examples per TFRecord shard: ~90 MB and ~1 s of generation at 48 px.
EXAMPLES_PER_SHARD = 5000


class CoSaLSplit(NamedTuple):
    """One split of one `num_direct` setting: the examples it draws.

    The examples are `cosal.generate(num_examples, num_direct=num_direct,
    seed=seed, start_index=start_index)`, whether generated in memory or
    written to a folder as TFRecord shards named
    `{name}_nd{num_direct}-00000-of-0000K.tfrecord` (see `pattern`).

    Attributes:
        name: "train" or "test".
        num_direct: int in 1..9.
        num_examples: positive int.
        seed: int >= 0.
        start_index: int >= 0, the index of the first example.
        shuffle_sentences, jitter, integer_coordinates: the augmentation
            options of `cosal.generate`.
    """

    name: str
    num_direct: int
    num_examples: int
    seed: int
    start_index: int = 0
    shuffle_sentences: bool = False
    jitter: int = 0
    integer_coordinates: float = 0.0

    @property
    def file_prefix(self):
        """The file-name prefix of the split's shards (augmentation too)."""
        prefix = f"{self.name}_nd{self.num_direct}"
        if self.shuffle_sentences or self.jitter or self.integer_coordinates:
            prefix += (
                f"_shuffle{int(self.shuffle_sentences)}_jitter{self.jitter}"
                f"_integer{self.integer_coordinates:g}"
            )
        return prefix

    def pattern(self, data_dir):
        """The glob of the split's TFRecord files under `data_dir`.

        Also matches the single `{prefix}.tfrecord` of earlier versions.
        """
        return os.path.join(data_dir, f"{self.file_prefix}*.tfrecord*")

    def generate(self, start=0, stop=None):
        """Examples `start` to `stop` (default: the end) of the split."""
        stop = self.num_examples if stop is None else stop
        return cosal.generate(
            stop - start,
            num_direct=self.num_direct,
            seed=self.seed,
            start_index=self.start_index + start,
            shuffle_sentences=self.shuffle_sentences,
            jitter=self.jitter,
            integer_coordinates=self.integer_coordinates,
        )

    def source(self, data_dir=None, write_missing=True):
        """The split as `cosal.as_dataset` takes it.

        Args:
            data_dir: None for a `generate()` dict, else a folder of
                TFRecords: the split's glob there.
            write_missing: when `data_dir` lacks the split, write it
                (`write`); else raise.

        Raises:
            FileNotFoundError: `data_dir` lacks the split and
                `write_missing` is False.
        """
        if data_dir is None:
            return self.generate()
        pattern = self.pattern(data_dir)
        if not tf.io.gfile.glob(pattern):
            if not write_missing:
                raise FileNotFoundError(
                    f"{data_dir} holds no {self.name} split for num_direct="
                    f"{self.num_direct} (no file matches {pattern})."
                )
            self.write(data_dir)
        return pattern

    def check_size(self, data_dir):
        """Checks that the split in `data_dir`, if any, is `num_examples`.

        Raises:
            ValueError: it holds another number of examples (a training
                run sized for the wrong number of steps would report the
                wrong sizes and end its learning-rate schedule too early
                or too late).
        """
        files = tf.io.gfile.glob(self.pattern(data_dir))
        found = tfrecord_count(files) if files else self.num_examples
        if found != self.num_examples:
            raise ValueError(
                f"{data_dir} holds {found} {self.name} examples for "
                f"num_direct={self.num_direct}, but the run asks for "
                f"{self.num_examples} (--train counts every setting's, "
                "--test each one's): ask for the split's size, or use "
                "another --data-dir."
            )

    def write(
        self, data_dir, examples_per_shard=EXAMPLES_PER_SHARD, on_shard=None
    ):
        """Generates the split shard by shard into TFRecord files.

        Generation in chunks gives the same examples as one call (see
        `cosal.generate`) in bounded memory. Shards are written under
        hidden names and renamed once all are complete, so an interrupted
        run leaves nothing that `pattern` matches.

        Args:
            data_dir: the folder, created if needed.
            examples_per_shard: positive int.
            on_shard: optional callable, called with the number of examples
                written so far after each shard (for a progress bar).

        Returns:
            The list of written file names, in order.

        Raises:
            FileExistsError: `data_dir` already holds files of this split.
        """
        check_positive_int(self.num_examples, "num_examples")
        check_positive_int(examples_per_shard, "examples_per_shard")
        existing = tf.io.gfile.glob(self.pattern(data_dir))
        if existing:
            raise FileExistsError(
                f"{data_dir} already holds the {self.name} split for "
                f"num_direct={self.num_direct} ({len(existing)} file(s) "
                f"{self.file_prefix}*): remove them or write elsewhere."
            )
        tf.io.gfile.makedirs(data_dir)
        num_shards = math.ceil(self.num_examples / examples_per_shard)
        paths = []
        for shard in range(num_shards):
            start = shard * examples_per_shard
            stop = min(start + examples_per_shard, self.num_examples)
            name = f"{self.file_prefix}-{shard:05d}-of-{num_shards:05d}"
            path = os.path.join(data_dir, f"{name}.tfrecord")
            cosal.write_tfrecords(self.generate(start, stop), _hidden(path))
            paths.append(path)
            if on_shard is not None:
                on_shard(stop)
        for path in paths:
            tf.io.gfile.rename(_hidden(path), path, overwrite=True)
        return paths


def cosal_train_splits(num_direct, num_examples, seed, **augmentation):
    """The training splits of a run over the `num_direct` settings.

    Each setting trains on `num_examples // len(num_direct)` examples of
    seed `seed`, the settings on consecutive index ranges: CoSaL images do
    not depend on `num_direct`, so settings sharing indices would share
    images.

    Args:
        num_direct, num_examples, seed: as above.
        **augmentation: `shuffle_sentences`, `jitter`,
            `integer_coordinates` of every split (see `cosal.generate`).

    Returns:
        A list of `CoSaLSplit`, in the order of `num_direct`.
    """
    per_setting = num_examples // len(num_direct)
    return [
        CoSaLSplit(
            "train", n, per_setting, seed, index * per_setting, **augmentation
        )
        for index, n in enumerate(num_direct)
    ]


def cosal_test_splits(num_direct, num_examples, seed):
    """The test splits of a run: per setting, `num_examples` of `seed + 1`.

    Returns:
        A list of `CoSaLSplit`, in the order of `num_direct`.
    """
    return [CoSaLSplit("test", n, num_examples, seed + 1) for n in num_direct]


def _hidden(path):
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.partial")
