"""Setup script for keras_lbie."""

import pathlib

from setuptools import find_packages
from setuptools import setup

HERE = pathlib.Path(__file__).parent
README = (HERE / "README.md").read_text(encoding="utf-8")

# The TensorFlow family is pinned to one minor version: tf-keras and
# tensorflow-text ship binaries built against an exact TensorFlow release.
TF_MINOR = "2.21"

setup(
    name="keras-lbie",
    version="0.1.0",
    description=(
        "Language-based image editing (Chen et al., CVPR 2018) as a Keras 3 "
        "model zoo."
    ),
    long_description=README,
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(exclude=("tests", "tests.*")),
    # Trained preset weights ship inside the package: no network at run time.
    package_data={
        "keras_lbie.models": ["weights/*.weights.h5"],
        "keras_lbie.studio": ["static/*"],
    },
    install_requires=[
        f"tensorflow=={TF_MINOR}.*",
        f"tf-keras=={TF_MINOR}.*",
        f"tensorflow-text=={TF_MINOR}.*",
        # examples/ log to TensorBoard; TF no longer pulls it in.
        f"tensorboard=={TF_MINOR}.*",
        "tensorflow-probability==0.25.*",
        "keras>=3.15,<4",
        "numpy",
        "pillow",
        # ReferIt masks and Oxford-102 labels are MATLAB .mat files.
        "scipy",
    ],
    extras_require={
        "test": [
            "pytest",
            "hypothesis",
            # .ci/run checks formatting: a new ruff may format differently.
            "ruff==0.17.*",
            # An independent reference for the sRGB <-> CIE Lab conversions.
            "scikit-image",
            f"tensorflow-serving-api=={TF_MINOR}.*",
            # The studio's HTTP tests (Starlette's TestClient) and its
            # browser test, which drives the OS's Chromium: no download.
            "httpx2",
            "playwright",
        ],
        "cv": ["keras-cv"],
        # gRPC requests (`keras_lbie.serving`); REST needs nothing extra.
        "serving": [f"tensorflow-serving-api=={TF_MINOR}.*"],
        # `lbie studio`: an ASGI app (Starlette) and its server (uvicorn).
        "studio": ["starlette>=1.0", "uvicorn>=0.30"],
    },
    entry_points={"console_scripts": ["lbie = keras_lbie.cli.main:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
