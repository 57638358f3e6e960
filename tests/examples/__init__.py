"""Tests of the scripts in examples/: their logic, never a full training.

examples/ is a folder of scripts, not a package (they import each other as
top-level modules, as when run): its path goes on `sys.path` here, before
any test module of this package imports them.
"""

import os
import sys

EXAMPLES_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"
)
if EXAMPLES_DIR not in sys.path:
    sys.path.insert(0, os.path.normpath(EXAMPLES_DIR))
