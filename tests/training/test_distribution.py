"""Tests for the strategy of `--strategy` / `--replicas`."""

import json
import os
import subprocess
import sys
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lbie.training.distribution import check_tf_config
from keras_lbie.training.distribution import distribution_strategy
from keras_lbie.training.distribution import fit
from keras_lbie.training.distribution import replica_fit
from tests.cli.runner import REPOSITORY
from tests.models.lbie_segmenter.test_lbie_segmenter_backbone import (
    tiny_backbone,
)
from tests.models.lbie_segmenter.test_lbie_segmenter_backbone import tiny_inputs
from tests.test_case import two_replica_strategy

TF_CONFIG = {
    "cluster": {"worker": ["127.0.0.1:2001", "127.0.0.1:2002"]},
    "task": {"type": "worker", "index": 1},
}


def test_auto_on_a_cpu_host_is_the_default_device():
    strategy = distribution_strategy("auto")
    # Not a strategy pinned to /cpu:0: TensorFlow places ops itself.
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1


def test_one_device_on_a_cpu_host_is_the_cpu():
    strategy = distribution_strategy("one_device")
    assert isinstance(strategy, tf.distribute.OneDeviceStrategy)
    (device,) = strategy.extended.worker_devices
    assert device.endswith("device:CPU:0")


def test_mirrored_on_a_cpu_host_uses_replicas_logical_cpus():
    # tests/conftest.py split the CPU in two before TensorFlow started.
    strategy = distribution_strategy("mirrored", replicas=2)
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert strategy.num_replicas_in_sync == 2
    devices = [name.split("/")[-1] for name in strategy.extended.worker_devices]
    assert devices == ["device:CPU:0", "device:CPU:1"]
    assert isinstance(
        strategy.extended._cross_device_ops, tf.distribute.ReductionToOneDevice
    )
    assert distribution_strategy("mirrored").num_replicas_in_sync == 1


def test_more_logical_cpus_than_set_up_is_a_clear_error():
    with pytest.raises(RuntimeError, match="--replicas 3.*already initialised"):
        distribution_strategy("mirrored", replicas=3)


@pytest.mark.parametrize(
    "strategy, replicas, message",
    [
        ("mirrored", 0, "`replicas` must be a positive integer"),
        ("mirrored", -2, "`replicas` must be a positive integer"),
        ("one_device", 2, "'mirrored' only"),
        ("auto", 2, "'mirrored' only"),
        ("parameter_server", None, "`strategy` must be one of"),
    ],
)
def test_bad_strategy_arguments_are_refused(strategy, replicas, message):
    with pytest.raises(ValueError, match=message):
        distribution_strategy(strategy, replicas)


class _Recorder:
    """Stands in for a strategy class: records the devices it was given."""

    def __init__(self, devices=None):
        self.devices = devices


@pytest.fixture
def two_gpus():
    """A host with two GPUs, as far as `distribution_strategy` can see."""
    physical = tf.config.list_physical_devices

    def list_devices(device_type=None):
        if device_type == "GPU":
            return [
                tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                for i in range(2)
            ]
        return physical(device_type)

    with (
        mock.patch.object(tf.config, "list_physical_devices", list_devices),
        mock.patch.object(tf.distribute, "MirroredStrategy", _Recorder),
        mock.patch.object(tf.distribute, "OneDeviceStrategy", _Recorder),
    ):
        yield


@pytest.mark.parametrize(
    "strategy, replicas, devices",
    [
        ("auto", None, ["/gpu:0", "/gpu:1"]),
        ("one_device", None, "/gpu:0"),
        ("mirrored", None, ["/gpu:0", "/gpu:1"]),
        ("mirrored", 1, ["/gpu:0"]),
    ],
)
def test_gpus_are_used_where_there_are_some(
    two_gpus, strategy, replicas, devices
):
    assert distribution_strategy(strategy, replicas).devices == devices


def test_more_replicas_than_gpus_is_refused(two_gpus):
    with pytest.raises(ValueError, match="--replicas 3.*GPUs than this host"):
        distribution_strategy("mirrored", replicas=3)


def test_multi_worker_without_tf_config_names_it(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG environment variable"):
        distribution_strategy("multi_worker")


def test_a_valid_tf_config_is_parsed():
    assert check_tf_config(json.dumps(TF_CONFIG)) == TF_CONFIG


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "not set"),
        ("{cluster: 1}", "TF_CONFIG is not valid JSON"),
        ("[1, 2]", "`cluster` with a non-empty `worker` list"),
        ('{"cluster": {"worker": []}}', "non-empty `worker`"),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps"}}',
            "this process's `task`",
        ),
        (
            '{"cluster": {"worker": ["a:1"]}, '
            '"task": {"type": "worker", "index": 1}}',
            "task index must be in 0..0",
        ),
    ],
)
def test_bad_tf_configs_are_refused_naming_it(text, message):
    with pytest.raises(ValueError, match=message) as error:
        check_tf_config(text)
    assert "TF_CONFIG" in str(error.value)


@pytest.mark.large
def test_a_fresh_process_splits_its_cpu_for_replicas():
    # The CPU split happens before TensorFlow starts, as in `lbie train`.
    code = (
        "from keras_lbie.training import distribution_strategy\n"
        "print(distribution_strategy('mirrored', 3).num_replicas_in_sync)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": REPOSITORY},
        cwd=REPOSITORY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "3"


def _dict_input_model():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    outputs = keras.layers.Dense(2)(keras.layers.Concatenate()([a, b]))
    model = keras.Model({"a": a, "b": b}, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def _dict_input_data(batch):
    rng = np.random.default_rng(0)
    x = {
        "a": rng.normal(size=(batch, 3)).astype("float32"),
        "b": rng.normal(size=(batch, 2)).astype("float32"),
    }
    return x, rng.normal(size=(batch, 2)).astype("float32")


def _expected_backbone():
    backbone = tiny_backbone(termination_mode="expected")
    backbone.compile(optimizer=keras.optimizers.SGD(0.1))
    return backbone


def _backbone_data(batch):
    x, y = tiny_inputs(batch=batch)
    x["image"] = x["image"].astype("float32")
    return x, y


@pytest.mark.parametrize(
    "build, data, epochs, steps_per_epoch, repeat",
    [
        (_dict_input_model, _dict_input_data, 2, None, 1),
        pytest.param(
            _expected_backbone, _backbone_data, 2, None, 1,
            marks=pytest.mark.large,
        ),
        pytest.param(
            _expected_backbone, _backbone_data, 2, 2, 2,
            marks=pytest.mark.large,
        ),
    ],
)  # fmt: skip
def test_replica_fit_trains_as_fit_on_one_device(
    build, data, epochs, steps_per_epoch, repeat
):
    # The multi-worker loop, on two local replicas: the weights and the
    # logged losses of Keras's `fit` on one device.
    dataset = tf.data.Dataset.from_tensor_slices(data(12)).batch(4)
    dataset = dataset.repeat(repeat)
    runs = []
    for strategy, train in (
        (tf.distribute.OneDeviceStrategy("/cpu:0"), keras.Model.fit),
        (two_replica_strategy(), replica_fit),
    ):
        with strategy.scope():
            model = build()
        if runs:
            model.set_weights(runs[0][0])
        initial = model.get_weights()
        history = train(
            model,
            dataset,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            verbose=0,
        )
        runs.append((initial, model.get_weights(), history.history))
    (initial, one, one_logs), (_, two, two_logs) = runs
    assert not np.allclose(initial[0], one[0])
    for expected, actual in zip(one, two, strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(two_logs["loss"], one_logs["loss"], rtol=1e-5)
    assert len(one_logs["loss"]) == epochs


@pytest.mark.large
def test_fit_splits_any_batch_over_replicas_as_one_device():
    # Batches of 3, 3 and 2 over 2 replicas: 2 + 1 (a first batch Keras's
    # `fit` cannot build from), then 1 + 1.
    dataset = tf.data.Dataset.from_tensor_slices(_backbone_data(8)).batch(3)
    weights = []
    for strategy in (
        tf.distribute.OneDeviceStrategy("/cpu:0"),
        two_replica_strategy(tf.distribute.HierarchicalCopyAllReduce()),
    ):
        with strategy.scope():
            backbone = _expected_backbone()
        if weights:
            backbone.set_weights(weights[0][0])
        initial = backbone.get_weights()
        fit(backbone, dataset, epochs=2, verbose=0)
        weights.append((initial, backbone.get_weights()))
    (initial, one), (_, two) = weights
    assert not np.allclose(initial[0], one[0])
    for expected, actual in zip(one, two, strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)
