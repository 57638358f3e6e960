"""Files written whole or not at all: a killed process leaves the old one."""

import contextlib
import json
import os


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path for writing `path`; renames it on success.

    The temporary file is in `path`'s folder (so the rename is atomic) and
    keeps `path`'s name as its end (Keras checks `.keras` and
    `.weights.h5` suffixes). If the block raises, the temporary file is
    removed and `path` is left as it was.

    Example:
    >>> with atomic_path("model.weights.h5") as partial:
    ...     model.save_weights(partial)
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    partial = os.path.join(folder, f".partial-{os.getpid()}.{name}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def write_json_atomically(path, value):
    """Writes `value` as indented JSON to `path` through `atomic_path`."""
    with atomic_path(path) as partial:
        with open(partial, "w") as f:
            json.dump(value, f, indent=2)
