"""The `tf.distribute` strategy of a training run: `--strategy`, `--replicas`.

Every training entry point (`lbie train`, `examples/train_cosal.py`,
`examples/train_referit.py`, `examples/train_cosal_colorizer.py`) builds
its strategy here, first thing (`distribution_strategy`): `--replicas`
splits the CPU into logical devices, which TensorFlow allows only before
it initialises its devices, and `MultiWorkerMirroredStrategy` must exist
before any other op. They then train with `fit`, which works around what
Keras's `fit` cannot do under several replicas (`replica_fit`).
"""

import functools
import itertools
import json
import os

import keras
import tensorflow as tf

from keras_lbie.training.cosal_training_config import check_strategy

TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


def distribution_strategy(name, replicas=None):
    """The `tf.distribute` strategy of a run.

    - `"auto"`: every local GPU (`MirroredStrategy`), else TensorFlow's
      default strategy (its default device; one replica).
    - `"one_device"`: the first GPU, else the CPU.
    - `"mirrored"`: every local GPU (the first `replicas` of them if
      given); on a host without GPUs, `replicas` logical CPU devices (1 by
      default, reduced through one of them), as the tests use.
    - `"multi_worker"`: `MultiWorkerMirroredStrategy` over the cluster of
      the `TF_CONFIG` environment variable (each worker's local GPUs, else
      its CPU).

    Args:
        name: str, one of `STRATEGIES`.
        replicas: None or positive int; `"mirrored"` only.

    Returns:
        A `tf.distribute.Strategy`; `num_replicas_in_sync` its replicas.

    Raises:
        ValueError: an unknown `name`; `replicas` not a positive int, given
            with another strategy, or more than the host's GPUs;
            `TF_CONFIG` unset or invalid for `"multi_worker"`.
        RuntimeError: `replicas` logical CPUs are asked for after
            TensorFlow has initialised fewer.
    """
    check_strategy(name, replicas)
    gpus = [f"/gpu:{index}" for index in range(_gpu_count())]
    if name == "multi_worker":
        check_tf_config(os.environ.get("TF_CONFIG"))
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        if not gpus:
            # Through one device: the CPUs share memory, and the collective
            # ops TensorFlow would pick abort each other between strategies
            # of one process ("Shape mismatch in the collective instance").
            return tf.distribute.MirroredStrategy(
                _logical_cpus(replicas or 1),
                cross_device_ops=tf.distribute.ReductionToOneDevice(),
            )
        if replicas is not None and replicas > len(gpus):
            raise ValueError(
                f"`--replicas {replicas}` asks for more GPUs than this host "
                f"has ({len(gpus)})."
            )
        return tf.distribute.MirroredStrategy(gpus[:replicas])
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0] if gpus else "/cpu:0")
    if gpus:
        return tf.distribute.MirroredStrategy(gpus)
    return tf.distribute.get_strategy()


def check_batch_size(batch_size, strategy):
    """Raises unless every replica gets an example of each global batch.

    A replica with no example fails while tracing the text LSTMs (a batch
    of static size 0).
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size < replicas:
        raise ValueError(
            f"`--batch-size {batch_size}` is the global batch, split over "
            f"{replicas} replicas: it must be at least {replicas}."
        )


def fit(
    model,
    dataset,
    epochs,
    steps_per_epoch=None,
    initial_epoch=0,
    callbacks=(),
    verbose="auto",
):
    """`model.fit` on a `tf.data` dataset, under any strategy of this module.

    Keras's `fit` under several replicas first reduces an input batch
    across them to build the model, which fails on a first batch that
    splits unevenly (3 examples over 2 replicas) and, under
    `MultiWorkerMirroredStrategy`, on any dict of inputs (that strategy's
    `reduce` refuses nested values); there it then reduces each step's
    scalar logs along an axis they do not have. So several replicas train
    with `replica_fit`, the same arguments and callbacks around
    `strategy.run`; one replica with Keras's `fit`.

    Returns:
        The `History` callback.
    """
    strategy = model.distribute_strategy
    run = model.fit
    if strategy.num_replicas_in_sync > 1 or isinstance(
        strategy, tf.distribute.MultiWorkerMirroredStrategy
    ):
        run = functools.partial(replica_fit, model)
    return run(
        dataset,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        initial_epoch=initial_epoch,
        callbacks=list(callbacks),
        verbose=verbose,
    )


def replica_fit(
    model,
    dataset,
    epochs,
    steps_per_epoch=None,
    initial_epoch=0,
    callbacks=(),
    verbose="auto",
):
    """`model.fit`'s loop around `strategy.run(model.train_step)`.

    The same callbacks, in the same order, as Keras's `fit`; each step's
    logs are the replicas' mean. `steps_per_epoch=None` reads the whole
    dataset every epoch, else the steps go on from one epoch to the next,
    as in `fit`. The optimizer is built in the strategy's scope first.

    Args:
        model: a compiled Keras model, created in its strategy's scope.
        dataset: a `tf.data.Dataset` of global batches (the strategy splits
            them over its replicas and workers).
        epochs, steps_per_epoch, initial_epoch, callbacks, verbose: as in
            `fit`.

    Returns:
        The `History` callback.
    """
    strategy = model.distribute_strategy
    with strategy.scope():
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    step = _replica_step(model, strategy)
    distributed = strategy.experimental_distribute_dataset(dataset)
    verbose = 1 if verbose == "auto" else verbose
    callbacks = keras.callbacks.CallbackList(
        list(callbacks),
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch or int(dataset.cardinality()),
        model=model,
    )
    model.stop_training = False
    callbacks.on_train_begin()
    # Where Keras's `BackupAndRestore` resumes, as `fit` reads it.
    initial_epoch = getattr(model, "_initial_epoch", None) or initial_epoch
    iterator, logs = iter(distributed), {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        if steps_per_epoch is None:
            iterator = iter(distributed)
        batches = itertools.islice(iterator, steps_per_epoch)
        for batch, data in enumerate(batches):
            callbacks.on_train_batch_begin(batch)
            logs = step(data)
            callbacks.on_train_batch_end(batch, logs)
            if model.stop_training:
                break
        logs = {name: float(value) for name, value in logs.items()}
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callbacks.on_train_end(logs)
    return model.history


def _replica_step(model, strategy):
    """One training step over every replica; the logs' replica mean."""
    train_step = model.train_step
    if model.jit_compile:
        train_step = tf.function(train_step, jit_compile=True)

    @tf.function
    def step(data):
        logs = strategy.run(train_step, args=(data,))
        return {
            name: strategy.reduce("MEAN", value, axis=None)
            for name, value in logs.items()
        }

    return step


def _gpu_count():
    # Physical devices: listing them does not initialise the runtime.
    return len(tf.config.list_physical_devices("GPU"))


def _logical_cpus(count):
    """The names of `count` logical CPU devices, splitting the CPU if needed.

    Raises:
        RuntimeError: TensorFlow has already initialised fewer devices.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = len(tf.config.get_logical_device_configuration(cpu) or [0])
    if configured < count:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * count
            )
        except RuntimeError as error:
            raise RuntimeError(
                f"`--replicas {count}` needs {count} logical CPU devices, "
                f"but TensorFlow has already initialised {configured}: "
                "create the strategy (`distribution_strategy`) before any "
                "TensorFlow op runs."
            ) from error
    devices = tf.config.list_logical_devices("CPU")
    return [device.name for device in devices[:count]]


def check_tf_config(text):
    """Parses the `TF_CONFIG` of a multi-worker run, or raises naming it.

    Args:
        text: None or str, the variable's value.

    Returns:
        The parsed dict: `"cluster"` (`{"worker": [host:port, ...]}`, and
        optionally `"chief"`) and this process's `"task"` (`type`, `index`).

    Raises:
        ValueError: unset, not JSON, or a cluster or task that does not
            name this process's place in it.
    """
    expected = f"set it to JSON such as {TF_CONFIG_EXAMPLE}"
    if not text:
        raise ValueError(
            "`--strategy multi_worker` reads the cluster from the TF_CONFIG "
            f"environment variable, which is not set: {expected}."
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"TF_CONFIG is not valid JSON ({error}): {expected}."
        ) from error
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster.get("worker"):
        raise ValueError(
            "TF_CONFIG must hold a `cluster` with a non-empty `worker` list "
            f"of host:port addresses ({expected}). Received: {text}"
        )
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise ValueError(
            "TF_CONFIG must hold this process's `task`, a `type` of the "
            f"cluster's ({', '.join(cluster)}) and an `index` "
            f"({expected}). Received: {text}"
        )
    index = task.get("index", 0)
    members = cluster[task["type"]]
    if isinstance(index, bool) or not isinstance(index, int):
        index = -1
    if not 0 <= index < len(members):
        raise ValueError(
            f"TF_CONFIG's task index must be in 0..{len(members) - 1} for "
            f"its {len(members)} {task['type']}(s). Received: {text}"
        )
    return config
