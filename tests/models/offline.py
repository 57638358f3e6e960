"""Loading shipped preset weights with the network switched off."""

import os
import socket

import pytest

RESULTS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "results")


def _no_network(*args, **kwargs):
    raise AssertionError("loading a preset must not open a socket")


def load_offline(build):
    """Returns `build()`, run with `socket.socket` patched to fail."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "socket", _no_network)
        return build()
