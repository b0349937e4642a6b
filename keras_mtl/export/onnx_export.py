"""ONNX export through tf2onnx, tables streamed beside it, checked against Keras."""

import dataclasses
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf

from keras_mtl.export import onnx_conversion
from keras_mtl.export import onnx_external_data
from keras_mtl.export import onnx_parity
from keras_mtl.export import precision
from keras_mtl.export import versions
from keras_mtl.export.conversion_twin import conversion_twin
from keras_mtl.export.signature import serving_specs
from keras_mtl.export.staged_onnx_files import StagedOnnxFiles
from keras_mtl.export.table_source import TableSource
from keras_mtl.optional_import import optional_import

if TYPE_CHECKING:
    import onnxruntime

MAX_OPSET = 18  # the highest opset tf2onnx 1.17 writes

#: Tables of at most this many bytes in all go inline into the .onnx file
#: (one file to copy); larger ones to `<path>.data` (`external_data=None`).
INLINE_TABLE_BYTES = 64 << 20

#: Largest |onnx - keras| accepted with `table_dtype="float16"`: a float16
#: table keeps 11 significant bits (relative rounding <= 2^-11 of each value),
#: measured on the census model at < 3e-4 on its probabilities.
FLOAT16_ATOL = 2e-3

#: What ONNX Runtime must load to run a model with in-graph hashing.
EXTENSIONS_PACKAGE = "onnxruntime_extensions"

_TABLE_DTYPES = ("float32", "float16")


class OnnxExportError(ValueError):
    """The model cannot be exported to ONNX, or ONNX disagrees with Keras."""


@dataclasses.dataclass(frozen=True)
class OnnxExport:
    """What `export_onnx` wrote and how close ONNX Runtime is to Keras.

    Attributes:
        path: the .onnx file.
        opset: its ONNX opset (plus ai.onnx.ml 2 for lookups, and
            ai.onnx.contrib 1 with in-graph hashing).
        max_abs_diff: `{batch size: max |onnx - keras|}` over every output.
        external_data: the data file beside `path` (`<path>.data`) holding
            the tables (and any weight tf2onnx stored outside the graph), or
            None when everything is inside the .onnx file.
        tables: `{initializer name: (rows, dim)}`: every embedding table
            variable, named by its path (`<layer>/embeddings`). keras_mtl's
            builders stack all feature tables of one width into one
            variable (`StackedEmbedding`, `embedding_tables_<width>`), so
            there is one entry per width, each gathered once.
        table_dtype: how the tables are stored ("float32" or "float16").
        custom_ops: the package whose custom-op library ONNX Runtime must
            register (`EXTENSIONS_PACKAGE`, for `hash_bins=` features), or
            None: stock ONNX Runtime runs the model.
    """

    path: str
    opset: int
    max_abs_diff: dict[int, float]
    external_data: Optional[str] = None
    tables: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    table_dtype: str = "float32"
    custom_ops: Optional[str] = None

    def session_options(self) -> "onnxruntime.SessionOptions":
        """`onnxruntime.SessionOptions` that run this model (with the
        extensions' library registered when `custom_ops` says so)."""
        return session_options(self.custom_ops)


def session_options(custom_ops: Optional[str] = None) -> "onnxruntime.SessionOptions":
    """ONNX Runtime session options, registering `custom_ops`' library if any."""
    onnxruntime = optional_import("onnxruntime", "onnx", "ONNX export")

    options = onnxruntime.SessionOptions()
    if custom_ops == EXTENSIONS_PACKAGE:
        onnxruntime_extensions = optional_import(EXTENSIONS_PACKAGE, "onnx", "ONNX hashing")

        options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
    elif custom_ops is not None:
        raise ValueError(
            f"expected custom_ops None or {EXTENSIONS_PACKAGE!r}. Received: {custom_ops!r}"
        )
    return options


def _check_arguments(opset, table_dtype, external_data):
    if not isinstance(opset, int) or not 13 <= opset <= MAX_OPSET:
        raise ValueError(f"expected an opset in [13, {MAX_OPSET}]. Received: opset={opset!r}")
    if table_dtype not in _TABLE_DTYPES:
        raise ValueError(
            f"expected table_dtype in {_TABLE_DTYPES}. Received: table_dtype={table_dtype!r}"
        )
    if external_data not in (None, True, False):
        raise ValueError(
            f"expected external_data None, True or False. Received: external_data={external_data!r}"
        )


def _write(staged, proto, entries, data):
    """Writes the staged .onnx, and its tables to the file `data` (or inline
    when `data` is None)."""
    if data is not None:
        onnx_external_data.write_data_file(data, entries)
    else:
        for tensor, chunks in entries:
            tensor.raw_data = b"".join(bytes(memoryview(c).cast("B")) for c in chunks)
    with open(staged, "wb") as out:
        out.write(proto.SerializeToString())


def export_onnx(
    model: tf.keras.Model,
    path: Union[str, os.PathLike],
    opset: int = MAX_OPSET,
    examples: Optional[Mapping[str, np.ndarray]] = None,
    atol: float = 1e-5,
    check_memory: bool = True,
    table_dtype: Literal["float32", "float16"] = "float32",
    external_data: Optional[bool] = None,
) -> OnnxExport:
    """Converts `model` to ONNX and checks it against Keras on sample rows.

    The serving function (`model(features, training=False)` on raw features
    by name) goes through tf2onnx, so both Keras versions convert the same
    way; inputs are named by feature, outputs by task. The feature embedding
    tables never go through tf2onnx: the model is traced with each table as
    an input, and each becomes an initializer named by its variable
    (`OnnxExport.tables`), written straight from the variable (or from its
    shards under `ParameterServerStrategy`) one block at a time, so the
    export needs about the model's memory plus 64x its non-table weights.
    Tables over `INLINE_TABLE_BYTES` in all go to `<path>.data`, ONNX's
    external-data format (also past protobuf's 2 GB limit); ONNX Runtime
    reads the pair from `path`; copy both files together.

    Every feature option converts: vocabularies (ONNX-ML `CategoryMapper`),
    pre-encoded ids, `buckets=` (standard ops, TF's bucket for a value on an
    edge) and `hash_bins=` (TF's farmhash in ONNX ops; these models need the
    onnxruntime-extensions library at serving, `OnnxExport.custom_ops`).
    Before anything is written in place, ONNX Runtime runs the staged files
    on the sample rows at batch size 1 and all rows; a difference above
    `atol` raises. The data file lands first, then the .onnx file, each by
    an atomic rename (an export replacing an earlier one in place gives its
    data file a fresh name, `OnnxExport.external_data`, and removes the old
    one after). `export_onnx_version` writes versions that appear whole.
    Feed ONNX Runtime strings as `str` (object arrays, as
    `features_to_arrays` gives them): it reads `bytes` as their repr.

    Args:
        model: a keras_mtl `MultiTaskModel` (any model with named inputs).
        path: the .onnx file to write.
        opset: ONNX opset, 13..18 (in-graph hashing needs 18).
        examples: `{input name: array}` rows, e.g.
            `keras_mtl.data.features_to_arrays(df.head(16), features)`; None
            draws 8 rows from the lookup vocabularies and random numbers.
        atol: largest accepted |onnx - keras| over every output. A model
            trained under a mixed precision policy converts as its float32
            twin (`keras_mtl.export.conversion_twin`) and is checked with at
            least `precision.MIXED_ATOL`; float16 tables with at least
            `FLOAT16_ATOL`.
        check_memory: refuse, with an `OnnxExportError` saying why and what
            to do, a conversion that would need more memory than is
            available (`onnx_external_data.conversion_bytes`).
        table_dtype: "float32", or "float16" to store the tables in half
            the bytes; the rows are cast to float32 after the gather.
        external_data: True or False to force the tables into `<path>.data`
            or into the .onnx file; None decides by `INLINE_TABLE_BYTES`.

    Returns:
        An `OnnxExport`.

    Example:
    >>> import tempfile
    >>> model = keras_mtl.MMoE([SparseFeat("color", vocabulary=("red", "blue"))],
    ...                        task_names=("ctr",), num_experts=2, expert_units=(4,))
    >>> result = export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    >>> sorted(result.max_abs_diff), result.max_abs_diff[8] < 1e-5, result.tables
    ([1, 8], True, {'embedding_tables_8/embeddings': (3, 8)})
    """
    _check_arguments(opset, table_dtype, external_data)
    tables = TableSource.of_model(model)
    specs = serving_specs(model)
    function, signature, rewrites = onnx_conversion.trace(
        conversion_twin(model), specs, tables, table_dtype
    )
    if check_memory:
        problem = onnx_external_data.check_memory(model, tables, rewrites.vocabulary_bytes())
        if problem:
            raise OnnxExportError(problem)
    proto, storage = onnx_conversion.convert(function, signature, rewrites, opset)
    onnx_conversion.fix_inputs(proto, specs, rewrites, tables)
    rewrites.finish(proto)
    if rewrites.hashes and opset < 18:
        raise OnnxExportError(
            f"In-graph hashing (hash_bins=) converts at opset 18 (bitwise "
            f"ops). Received: opset={opset}."
        )
    try:
        onnx_conversion.check_converted(proto, specs, rewrites, tables)
    except onnx_conversion.ConversionError as error:
        raise OnnxExportError(str(error)) from None
    if examples is None:
        examples = onnx_parity.synthetic_examples(specs, rewrites)
    missing = sorted(set(specs) - set(examples))
    if missing:
        raise ValueError(f"examples lack inputs {missing}. Expected: {sorted(specs)}.")
    atol = parity_atol(model, table_dtype, atol)
    entries = onnx_external_data.storage_entries(proto, storage) + [
        (tensor, table.blocks(table_dtype))
        for tensor, table in onnx_conversion.attach_tables(proto, tables, table_dtype)
    ]
    if external_data is None:
        external_data = (
            storage is not None or sum(t.nbytes(table_dtype) for t in tables) > INLINE_TABLE_BYTES
        )
    custom_ops = EXTENSIONS_PACKAGE if rewrites.hashes else None
    with StagedOnnxFiles(path) as staged:
        _write(staged.onnx, proto, entries, staged.data if external_data else None)
        del proto, entries
        try:
            diffs = check_parity(model, staged.onnx, examples, custom_ops, atol)
        except OnnxExportError as error:
            raise OnnxExportError(f"{error} Nothing was written.") from None
    return OnnxExport(
        path=path,
        opset=opset,
        max_abs_diff=diffs,
        external_data=staged.published_data,
        tables={t.name: t.shape for t in tables},
        table_dtype=table_dtype,
        custom_ops=custom_ops,
    )


def parity_atol(model, table_dtype="float32", atol=1e-5):
    """The largest |onnx - keras| `export_onnx` accepts for `model`: `atol`,
    raised to `precision.MIXED_ATOL` for a mixed precision model (it converts
    as its float32 twin) and to `FLOAT16_ATOL` for float16 tables."""
    if precision.is_mixed(model):  # converted in float32, checked against the mixed model
        atol = max(atol, precision.MIXED_ATOL)
    if table_dtype == "float16":
        atol = max(atol, FLOAT16_ATOL)
    return atol


def check_parity(model, path, examples, custom_ops=None, atol=1e-5):
    """ONNX Runtime running the .onnx file `path` against `model` on `examples`.

    Returns:
        `{batch size: max |onnx - keras|}` over every output, at batch sizes 1
        and all rows (`onnx_parity.max_abs_diff`).

    Raises:
        OnnxExportError: the outputs are not the model's, or differ by more
            than `atol`.
    """
    onnxruntime = optional_import("onnxruntime", "onnx", "ONNX export")

    session = onnxruntime.InferenceSession(
        path, session_options(custom_ops), providers=["CPUExecutionProvider"]
    )
    try:
        diffs = onnx_parity.max_abs_diff(model, session, serving_specs(model), examples)
    except ValueError as error:
        raise OnnxExportError(str(error)) from None
    worst = max(diffs.values())
    if not worst <= atol:  # NaN fails too
        raise OnnxExportError(
            f"ONNX Runtime differs from the Keras model by {worst:.3g} "
            f"(max |difference| by batch size: {diffs}); expected <= {atol}."
        )
    return diffs


def export_onnx_version(
    model: tf.keras.Model,
    base_dir: Union[str, os.PathLike],
    version: Optional[int] = None,
    filename: str = "model.onnx",
    **kwargs: Any,
) -> OnnxExport:
    """`export_onnx` into `base_dir/<version>/<filename>`, the version appearing whole.

    The layout of Triton's model repository (and of TF Serving's base path):
    the files are written into a hidden staging folder inside `base_dir`,
    flushed and renamed to the version (`keras_mtl.export.versions`), so a
    server polling `base_dir` never loads a partial version.

    Args:
        model: as `export_onnx`.
        base_dir: the model's folder.
        version: integer version; None takes the next free one.
        filename: the .onnx file's name inside the version.
        **kwargs: `export_onnx`'s other arguments.

    Returns:
        The `OnnxExport`, its paths inside the published version.
    """
    with versions.staged_version(base_dir, version) as staged:
        result = export_onnx(model, os.path.join(staged.path, filename), **kwargs)
    data = result.external_data
    return dataclasses.replace(
        result,
        path=os.path.join(staged.path, filename),
        external_data=None if data is None else os.path.join(staged.path, os.path.basename(data)),
    )
