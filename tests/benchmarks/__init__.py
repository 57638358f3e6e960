"""Tests of the scripts in benchmarks/: correctness only, never timings.

benchmarks/ is a folder of scripts, not a package (they import each other
as top-level modules, as when run): its path goes on `sys.path` here,
before any test module of this package imports them.
"""

import os
import sys

BENCHMARKS_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"
)
if BENCHMARKS_DIR not in sys.path:
    sys.path.insert(0, os.path.normpath(BENCHMARKS_DIR))
