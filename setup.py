"""Packaging for keras_mtl."""

import os

from setuptools import find_packages
from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "README.md"), encoding="utf-8") as readme:
    LONG_DESCRIPTION = readme.read()

setup(
    name="keras_mtl",
    version="0.1.0",
    description=(
        "Multi-task and multi-domain ranking models (MMoE, PLE, ESMM, ...) on "
        "tf.keras, for Keras 3 and tf_keras 2."
    ),
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_mtl", "keras_mtl.*"]),
    package_data={"keras_mtl.data": ["census_income_kdd/*"]},
    include_package_data=True,
    python_requires=">=3.9",
    install_requires=[
        "tensorflow>=2.16",
        "pandas",
        "tf2onnx",
        "onnx",
        "onnxruntime",
        # the ONNX of hash_bins= features reads string bytes with its StringSplit
        "onnxruntime-extensions",
        # the `keras-mtl` command line reads its run configuration from YAML
        "pyyaml",
        # streamed Parquet / CSV input (keras_mtl.data.parquet_dataset, csv_dataset)
        "pyarrow",
    ],
    entry_points={"console_scripts": ["keras-mtl = keras_mtl.cli.main:main"]},
    extras_require={
        # tensorflow-serving-api only parses the warmup records in the tests
        # (keras_mtl writes them without it): its wheels require the
        # `tensorflow` distribution, a second TensorFlow next to
        # tensorflow-cpu; there, install it with `pip install --no-deps`.
        "test": [
            "pytest",
            # the suite runs on every core, a test file per worker (pytest.ini)
            "pytest-xdist",
            "hypothesis",
            "tf-keras",
            "scikit-learn",
            "tensorflow-serving-api",
            "tensorflow-recommenders",
            "matplotlib",
        ],
        "tfrs": ["tensorflow-recommenders", "tf-keras"],
        # `keras-mtl plot-gates` draws its PNG with matplotlib
        "plot": ["matplotlib"],
    },
)
