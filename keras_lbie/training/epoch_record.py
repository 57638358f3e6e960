"""The per-epoch record of a CoSaL training run (`train_cosal`)."""

import json
import os
import time

import keras

from keras_lbie.training.cosal_split import cosal_test_splits
from keras_lbie.utils.atomic_files import write_json_atomically


class EpochRecord(keras.callbacks.Callback):
    """Each epoch's loss, training wall-clock and (optionally) region IoU.

    With `config.history_examples`, scores the first that many examples
    of each test split (generated once) after every epoch: `history`;
    the time spent scoring is left out of the recorded wall-clock. Keeps
    its records in `backup_dir/epochs.json`, so that a resumed run
    continues them: from the records of the `done // steps_per_epoch`
    epochs its backup holds, its wall-clock adding to theirs (what a
    killed process did after its last backup is not counted).

    Args:
        config: the run's `CoSaLTrainingConfig`.
        backup_dir: the folder of the run's backup.
        epochs_done: int, epochs the backup holds (0 for a fresh run).
        score: `score(sources)` -> `{num_direct: metrics}` of the model
            on `{num_direct: generate() dict}`, for `history`.
    """

    def __init__(self, config, backup_dir, epochs_done, score):
        super().__init__()
        self.config = config
        self.score = score
        self.path = os.path.join(backup_dir, "epochs.json")
        epochs = epochs_done
        saved = {}
        if epochs_done and os.path.isfile(self.path):
            with open(self.path) as f:
                saved = json.load(f)
        self.losses = saved.get("losses", [])[:epochs]
        self.seconds_by_epoch = saved.get("seconds", [])[:epochs]
        self.history = saved.get("history", [])[:epochs]
        self.start = None
        self.scoring_seconds = 0.0

    @property
    def train_seconds(self):
        """Training wall-clock up to the last epoch's end."""
        return self.seconds_by_epoch[-1] if self.seconds_by_epoch else 0.0

    def on_train_begin(self, logs=None):
        if self.start is not None:
            return  # the second `fit` of a run resumed mid-epoch
        self.start = time.time() - self.train_seconds
        splits = cosal_test_splits(
            self.config.num_direct,
            self.config.history_examples,
            self.config.seed,
        )
        if self.config.history_examples:
            self.sources = {s.num_direct: s.generate() for s in splits}

    def on_epoch_end(self, epoch, logs=None):
        scoring_start = time.time()
        seconds = round(scoring_start - self.start - self.scoring_seconds, 1)
        self.losses.append(float(logs["loss"]))
        self.seconds_by_epoch.append(seconds)
        if self.config.history_examples:
            by_num_direct = self.score(self.sources)
            self.history.append(
                {
                    "epoch": epoch + 1,
                    "train_seconds": seconds,
                    "cosal_region_iou": {
                        n: metrics["cosal_region_iou"]
                        for n, metrics in by_num_direct.items()
                    },
                }
            )
        self.scoring_seconds += time.time() - scoring_start
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        write_json_atomically(
            self.path,
            {
                "losses": self.losses,
                "seconds": self.seconds_by_epoch,
                "history": self.history,
            },
        )
