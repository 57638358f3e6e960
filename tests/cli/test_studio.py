"""`lbie studio`'s mistakes, in process (the browser test serves it)."""

import socket
import sys

import pytest

from keras_lbie.cli.main import main


def run_studio(capsys, *args):
    status = main(["studio", *args])
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("--port", "70000"), "--port must be in 0..65535"),
        (("--max-upload-mb", "0"), "--max-upload-mb must be positive"),
    ],
)
def test_bad_options_fail_in_one_line(capsys, args, fragment):
    status, err = run_studio(capsys, *args)
    assert status == 1 and fragment in err and len(err.splitlines()) == 1


def test_an_unknown_host_fails_in_one_line(capsys):
    pytest.importorskip("uvicorn")
    status, err = run_studio(capsys, "--host", "no.such.host.invalid")
    assert status == 1 and "cannot listen on no.such.host.invalid" in err


def test_a_busy_port_fails_before_loading_models(capsys):
    pytest.importorskip("uvicorn")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        status, err = run_studio(capsys, "--port", str(port), "--model", "x")
    assert status == 1 and f"cannot listen on 127.0.0.1:{port}" in err


def test_unknown_model_lists_the_presets(capsys):
    pytest.importorskip("uvicorn")
    status, err = run_studio(capsys, "--port", "0", "--model", "nope")
    assert status == 1 and "unknown preset 'nope'" in err
    assert "cosal_colorizer" in err


def test_without_the_studio_extra_it_says_what_to_install(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    status, err = run_studio(capsys)
    assert status == 1
    assert 'pip install "keras_lbie[studio]"' in err
