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
        "onnxruntime",
    ],
    extras_require={
        "test": ["pytest", "tf-keras", "scikit-learn"],
        "tfrs": ["tensorflow-recommenders", "tf-keras"],
    },
)
