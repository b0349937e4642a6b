"""Imports of the packages behind keras_mtl's extras, with an error that names the extra.

`import keras_mtl` loads none of them: ONNX export (`keras_mtl[onnx]`: onnx, tf2onnx,
onnxruntime, onnxruntime-extensions) and gate plots (`keras_mtl[plot]`: matplotlib) import
theirs when first used.
"""

import importlib
from types import ModuleType


def optional_import(module: str, extra: str, purpose: str) -> ModuleType:
    """`module`, imported; an ImportError naming the extra to install when it is missing.

    Args:
        module: the module to import, e.g. `"onnx"` or `"matplotlib.pyplot"`.
        extra: the keras_mtl extra that installs it, e.g. `"onnx"`.
        purpose: what needs it, for the message, e.g. `"ONNX export"`.

    Example:
    >>> optional_import("json", "none", "a doctest").dumps([1])
    '[1]'
    >>> optional_import("no_such_module_xyz", "onnx", "ONNX export")
    Traceback (most recent call last):
    ...
    ImportError: ONNX export needs the package of module 'no_such_module_xyz', which is not \
installed. Install the extra: pip install "keras_mtl[onnx]"
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or not module.startswith(error.name):
            raise
        raise ImportError(
            f"{purpose} needs the package of module {module!r}, which is not installed. "
            f'Install the extra: pip install "keras_mtl[{extra}]"'
        ) from error
