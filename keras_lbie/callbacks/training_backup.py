import os
import shutil

import h5py
import keras

from keras_lbie.utils.atomic_files import atomic_path

# The group of the backup file holding the random seed generators' states.
SEED_STATES = "seed_generator_states"


class TrainingBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` whose backup resumes at the exact step.

    Saves the model's weights, optimizer state (its `iterations`, the
    number of steps done, included) and the states of its layers' random
    seed generators (the Gumbel noise of the termination gates: Keras's
    weights files leave them out) to `backup_dir/latest.weights.h5` at
    every epoch end and every `save_freq` batches, each time written to a
    temporary file then renamed, so that a kill mid-write leaves the
    previous backup whole. Keras 3's own callback restarts a backup taken
    mid-epoch at the epoch's first batch (training on its first batches
    twice) and records epoch 0 for the mid-epoch backups of a resumed run;
    here the caller restores the state before `fit` with `restore` and
    feeds the data from the step it returns (see `train_cosal`). The
    backup is kept after training: the caller deletes it once its results
    are written (`delete`).

    Args:
        backup_dir: str, a folder for the backup alone.
        save_freq: "epoch", or an int: also back up every `save_freq`
            batches.
    """

    def __init__(self, backup_dir, save_freq="epoch"):
        super().__init__(
            backup_dir, save_freq=save_freq, delete_checkpoint=False
        )

    @property
    def exists(self):
        """Whether a backup has been written."""
        return os.path.isfile(self._weights_path)

    def restore(self, model):
        """Loads the backup into compiled `model`; returns the steps done."""
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self._weights_path)
        with h5py.File(self._weights_path, "r") as file:
            states = file[SEED_STATES]
            for index, generator in enumerate(_seed_generators(model)):
                generator.state.assign(states[str(index)][()])
        return int(model.optimizer.iterations)

    def delete(self):
        """Removes the backup (the run it resumes is complete)."""
        if os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)

    def on_train_begin(self, logs=None):
        # Restored by the caller before `fit`, with the data to match.
        pass

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.save_freq != "epoch":  # saved by the parent otherwise
            self._save_model()

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        with atomic_path(self._weights_path) as partial:
            self.model.save_weights(partial)
            with h5py.File(partial, "a") as file:
                states = file.create_group(SEED_STATES)
                for index, generator in enumerate(_seed_generators(self.model)):
                    states[str(index)] = generator.state.numpy()


def _seed_generators(model):
    """The seed generators of `model`'s layers, in a fixed order."""
    return [
        generator
        for layer in model._flatten_layers(include_self=True)
        for generator in layer._seed_generators
    ]
