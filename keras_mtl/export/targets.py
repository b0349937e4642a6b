"""The export formats `keras-mtl train` writes, as a table: `TARGETS`.

Each `ExportTarget` row names the format's key under the run config's
`output:`, the function that writes it and the parity check that runs what
was written on sample rows, as a server would, and compares its outputs with
the Keras model's. The command line loops over the table, so a new format is
one more row.

The ONNX row imports `keras_mtl.export.onnx_export` (and onnx, tf2onnx) only
when an ONNX export is asked for.
"""

import dataclasses
import os
import shutil
import typing

from keras_mtl.export import layout
from keras_mtl.export import saved_model_parity
from keras_mtl.export.saved_model import export_saved_model
from keras_mtl.export.serving_inputs import head

#: Sample rows the SavedModel's TF Serving warmup requests replay.
WARMUP_ROWS = 4


class ExportError(Exception):
    """A target cannot be written, or what it wrote disagrees with Keras."""


@dataclasses.dataclass(frozen=True)
class ExportTarget:
    """One export format of the command line: a row of `TARGETS`.

    Attributes:
        name: its key under the run config's `output:`, the path to write.
        title: how the command's output names the format.
        served_by: what runs the export in the parity check.
        write: `write(model, path, examples, keras_file=None)` writes `model`
            to `path` and returns what the format's export function returns
            (a SavedModel version folder, an `OnnxExport`). `examples` are
            `{input name: array}` sample rows; `keras_file` is the `.keras`
            file `model` was saved to, or None.
        parity: `parity(model, written, examples)` runs what `write` returned
            on `examples` and returns `{batch size: max |served - keras|}`
            over every output, at batch sizes 1 and all rows.
        describe: `describe(written)`: where the export went, as printed.
        default_path: its default under `output:` (`{dir}` is `output.dir`),
            or None: written only when the config names a path.

    `write` and `parity` raise `ExportError` when the format cannot be
    written or its outputs differ from Keras by more than its tolerance.
    """

    name: str
    title: str
    served_by: str
    write: typing.Callable
    parity: typing.Callable
    describe: typing.Callable
    default_path: typing.Optional[str] = None


def _write_saved_model(model, base_dir, examples, keras_file=None):
    """The next version under `base_dir`, with warmup requests and the Keras
    model bundled at `layout.BUNDLED_KERAS`."""

    def bundle(version_dir):  # inside the staged version, before it appears
        bundled = os.path.join(version_dir, layout.BUNDLED_KERAS)
        os.makedirs(os.path.dirname(bundled), exist_ok=True)
        if keras_file is not None:
            shutil.copyfile(keras_file, bundled)
        else:
            model.save(bundled)

    return export_saved_model(
        model, base_dir, examples=head(examples, WARMUP_ROWS), add_files=bundle
    )


def _saved_model_parity(model, version_dir, examples):
    try:
        return saved_model_parity.check_parity(model, version_dir, examples)
    except saved_model_parity.SavedModelParityError as error:
        raise ExportError(f"{error} The version is written: remove it.") from None


def _onnx_export():
    try:
        from keras_mtl.export import onnx_export
    except ImportError as error:  # the keras_mtl[onnx] extra is not installed
        raise ExportError(str(error)) from None
    return onnx_export


def _write_onnx(model, path, examples, keras_file=None):
    del keras_file  # the .onnx file holds the serving graph only
    onnx_export = _onnx_export()
    try:
        return onnx_export.export_onnx(model, path, examples=examples)
    except onnx_export.OnnxExportError as error:
        raise ExportError(str(error)) from None


def _onnx_parity(model, result, examples):
    onnx_export = _onnx_export()
    atol = onnx_export.parity_atol(model, result.table_dtype)
    try:
        return onnx_export.check_parity(model, result.path, examples, result.custom_ops, atol)
    except onnx_export.OnnxExportError as error:
        raise ExportError(str(error)) from None


TARGETS = (
    ExportTarget(
        name="saved_model",
        title="SavedModel",
        served_by="serving_default",
        write=_write_saved_model,
        parity=_saved_model_parity,
        describe=str,
        default_path="{dir}/saved_model",
    ),
    ExportTarget(
        name="onnx",
        title="ONNX",
        served_by="ONNX Runtime",
        write=_write_onnx,
        parity=_onnx_parity,
        describe=lambda result: f"{result.path}, opset {result.opset}",
    ),
)
