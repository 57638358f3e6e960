"""`lbie train` (`keras_lbie.cli.train`)."""

import json
import os
import signal
import socket
import subprocess
import time

import h5py
import numpy as np
import pytest

from tests.cli.conftest import TINY_RUN
from tests.cli.runner import REPOSITORY
from tests.cli.runner import assert_one_error
from tests.cli.runner import lbie_command
from tests.cli.runner import run_lbie
from tests.cli.runner import run_lbie_process


def test_train_writes_a_keras_model_and_results(trained_run):
    run, result = trained_run
    assert "num_direct=4: region IoU " in result.stdout
    assert f"Wrote {run / 'model.keras'}" in result.stdout
    with open(run / "results.json") as f:
        results = json.load(f)
    assert results["train_steps"] == 4
    assert results["batch_size"] == 16


def test_a_folder_holding_a_run_is_refused_in_one_line(trained_run):
    run, _ = trained_run
    result = run_lbie(
        run.parent, "train", "--max-steps", "1", *TINY_RUN,
        "--output-dir", "run", status=1,
    )  # fmt: skip
    assert_one_error(result, f"{run} already holds a training run")
    assert "--resume" in result.stderr and "--overwrite" in result.stderr


def test_resume_and_overwrite_together_are_refused(tmp_path):
    result = run_lbie(
        tmp_path, "train", *TINY_RUN, "--output-dir", "run", "--resume",
        "--overwrite", status=1,
    )  # fmt: skip
    assert_one_error(result, "not both")


def test_a_data_dir_of_other_sizes_is_refused_naming_both(data_dir):
    folder, _ = data_dir
    result = run_lbie(
        folder.parent, "train", "--max-steps", "1", "--data-dir", "data",
        "--train", 32, "--test", 32, "--epochs", 1, "--batch-size", 16,
        "--output-dir", "small", status=1,
    )  # fmt: skip
    assert_one_error(result, "holds 64 train examples", "asks for 32")


@pytest.mark.large
def test_mirrored_replicas_train_and_are_recorded(data_dir):
    # In this process tests/conftest.py already split the CPU in two.
    cwd = data_dir[0].parent
    run_lbie(
        cwd, "train", "--max-steps", "1", "--data-dir", "data", *TINY_RUN,
        "--batch-size", 16, "--strategy", "mirrored", "--replicas", 2,
        "--output-dir", "mirrored",
    )  # fmt: skip
    with open(cwd / "mirrored" / "results.json") as f:
        results = json.load(f)
    assert (results["strategy"], results["replicas"]) == ("mirrored", 2)


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--replicas", 0), "`replicas` must be a positive integer"),
        (("--replicas", 2), "'mirrored' only"),
        (("--strategy", "multi_worker"), "TF_CONFIG environment variable"),
        (
            ("--strategy", "mirrored", "--replicas", 2, "--batch-size", 1),
            "split over 2 replicas: it must be at least 2",
        ),
    ],
)
def test_bad_strategy_flags_are_refused_in_one_line(
    tmp_path, monkeypatch, flags, message
):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = run_lbie(
        tmp_path, "train", *TINY_RUN, *flags, "--output-dir", "run", status=1
    )
    assert_one_error(result, message)


# A run with no noise (expected-loss mode, float32): one device, several
# replicas and several workers must reach the same weights.
EQUIVALENCE_RUN = (
    "--max-steps", 2, "--termination-mode", "expected", "--train", 48,
    "--test", 8, "--epochs", 2, "--batch-size", 8, "--history-examples", 0,
)  # fmt: skip


@pytest.fixture(scope="module")
def one_device_weights(tmp_path_factory):
    """The weights `EQUIVALENCE_RUN` trains on one device."""
    cwd = tmp_path_factory.mktemp("one_device")
    run_lbie_process(
        cwd, "train", *EQUIVALENCE_RUN, "--strategy", "one_device",
        "--output-dir", "one",
    )  # fmt: skip
    return _arrays(cwd / "one" / "model.weights.h5")


@pytest.mark.large
def test_two_replica_processes_train_as_one_device(
    tmp_path, one_device_weights
):
    # A fresh process: `--replicas 2` splits the CPU before TensorFlow starts.
    run_lbie_process(
        tmp_path, "train", *EQUIVALENCE_RUN, "--strategy", "mirrored",
        "--replicas", 2, "--output-dir", "two",
    )  # fmt: skip
    _assert_run_equals(tmp_path / "two", "mirrored", one_device_weights)


@pytest.mark.large
def test_two_workers_train_as_one_device(tmp_path, one_device_weights):
    # Two `lbie train --strategy multi_worker` processes on this host, each
    # with its TF_CONFIG: collective all-reduce between processes.
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    try:
        for index in range(2):
            tf_config = {
                "cluster": {"worker": workers},
                "task": {"type": "worker", "index": index},
            }
            processes.append(
                subprocess.Popen(
                    [
                        *lbie_command(), "train", *map(str, EQUIVALENCE_RUN),
                        "--strategy", "multi_worker",
                        "--output-dir", f"worker{index}",
                    ],
                    cwd=tmp_path,
                    env={**_environment(), "TF_CONFIG": json.dumps(tf_config)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )  # fmt: skip
        for process in processes:
            _, stderr = process.communicate(timeout=600)
            assert process.returncode == 0, stderr
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=60)
    for index in range(2):
        _assert_run_equals(
            tmp_path / f"worker{index}", "multi_worker", one_device_weights
        )


def _assert_run_equals(run, strategy, expected_weights):
    """`run` trained with 2 replicas of `strategy` to `expected_weights`."""
    with open(run / "results.json") as f:
        results = json.load(f)
    assert (results["strategy"], results["replicas"]) == (strategy, 2)
    weights = _arrays(run / "model.weights.h5")
    assert weights.keys() == expected_weights.keys()
    for name, value in expected_weights.items():
        np.testing.assert_allclose(
            weights[name], value, atol=1e-5, err_msg=name
        )


@pytest.mark.large
def test_a_killed_process_resumes_to_the_uninterrupted_weights(tmp_path):
    # 40 steps a run, backed up every 3: killed once a backup exists.
    flags = (
        "--max-steps", 2, "--train", 160, "--test", 8, "--epochs", 2,
        "--batch-size", 8, "--history-examples", 0, "--save-every-steps", 3,
    )  # fmt: skip
    backup = tmp_path / "killed" / "backup" / "latest.weights.h5"
    process = subprocess.Popen(
        [*lbie_command(), "train", *map(str, flags), "--output-dir", "killed"],
        cwd=tmp_path,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not backup.exists() and process.poll() is None:
        assert time.time() < deadline, "no backup written in 300 s"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert not (tmp_path / "killed" / "results.json").exists()
    steps = _steps(backup)
    assert 0 < steps < 40

    run_lbie_process(
        tmp_path, "train", *flags, "--output-dir", "killed", "--resume"
    )
    run_lbie_process(tmp_path, "train", *flags, "--output-dir", "whole")
    resumed = _arrays(tmp_path / "killed" / "model.weights.h5")
    whole = _arrays(tmp_path / "whole" / "model.weights.h5")
    assert resumed.keys() == whole.keys()
    for name, value in whole.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


def _free_ports(count):
    """`count` TCP ports free on 127.0.0.1 (held open until all are found)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _environment():
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": REPOSITORY + (os.pathsep + path if path else ""),
    }


def _steps(backup):
    """The optimizer steps a backup holds (its `iterations`)."""
    with h5py.File(backup, "r") as file:
        return int(file["optimizer/vars/0"][()])


def _arrays(path):
    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays
