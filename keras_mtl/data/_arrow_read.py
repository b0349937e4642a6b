"""CSV and Parquet files read with pyarrow, in DataFrames of a fixed number of rows."""

import contextlib
import lzma
import re
import zipfile

import pandas as pd

from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat

_INTEGER = re.compile(r"[+-]?\d+")


def require_pyarrow():
    try:
        import pyarrow
        import pyarrow.csv
        import pyarrow.fs
        import pyarrow.parquet
    except ImportError:
        raise ImportError(
            "reading Parquet / CSV files needs pyarrow, which is not installed: pip install pyarrow"
        ) from None
    return pyarrow


def _opened(stack, file):
    """A local path as it is; a URI (gs://, s3://, hdfs://, file://) opened with
    pyarrow's file systems (closed with `stack`)."""
    if "://" not in file:
        return file
    filesystem, path = require_pyarrow().fs.FileSystem.from_uri(file)
    return stack.enter_context(filesystem.open_input_file(path))


def _parquet(stack, file):
    return stack.enter_context(require_pyarrow().parquet.ParquetFile(_opened(stack, file)))


def feature_columns(features):
    """The columns the features read: each name, and each sequence's weight column."""
    names = []
    for spec in features:
        names.append(spec.name)
        if getattr(spec, "weight_name", None) is not None:
            names.append(spec.weight_name)
    return names


def _list_columns(features):
    """`{column: (spec, is the weight column)}` of the columns holding lists."""
    out = {}
    for spec in features:
        if isinstance(spec, VarLenSparseFeat):
            out[spec.name] = (spec, False)
            if spec.weight_name is not None:
                out[spec.weight_name] = (spec, True)
        elif isinstance(spec, DenseFeat) and spec.dimension > 1:
            out[spec.name] = (spec, False)
    return out


def _csv_stream(stack, file, compression):
    """The file's CSV bytes, decompressed; closed with `stack`."""
    pa = require_pyarrow()
    if compression == "zip":
        archive = stack.enter_context(zipfile.ZipFile(_opened(stack, file)))
        members = [n for n in archive.namelist() if not n.endswith("/")]
        if len(members) != 1:
            raise ValueError(
                f"{file}: expected a zip archive holding one CSV file. Received {members}."
            )
        return stack.enter_context(archive.open(members[0]))
    if compression == "xz":
        return stack.enter_context(lzma.open(_opened(stack, file)))
    source = _opened(stack, file)
    return stack.enter_context(pa.input_stream(source, compression=compression))  # gzip, bz2


def _csv_reader(stack, file, compression, columns=None, text_columns=()):
    pa = require_pyarrow()
    options = pa.csv.ConvertOptions(
        column_types={name: pa.string() for name in text_columns},
        include_columns=list(columns or ()),
    )
    return pa.csv.open_csv(_csv_stream(stack, file, compression), convert_options=options)


def column_names(file, file_format, compression):
    """The column names of a CSV (its header) or Parquet file (its footer)."""
    with contextlib.ExitStack() as stack:
        if file_format == "parquet":
            return list(_parquet(stack, file).schema_arrow.names)
        return list(_csv_reader(stack, file, compression).schema.names)


def check_columns(file, columns, names):
    missing = [c for c in columns if c not in names]
    if missing:
        raise KeyError(
            f"{file}: expected columns {missing} (features and labels). Received "
            f"columns: {sorted(names)}"
        )


def parquet_rows(files):
    """The total row count of Parquet files, from their footers."""
    total = 0
    for file in files:
        with contextlib.ExitStack() as stack:
            total += _parquet(stack, file).metadata.num_rows
    return total


def _rechunked(batches, rows):
    """Record batches -> tables of `rows` rows (the last one may hold fewer)."""
    pa = require_pyarrow()
    pending, count = [], 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


def _cell_kind(spec, is_weight, cells):
    if is_weight or isinstance(spec, DenseFeat):
        return float
    if spec.dtype is not None:
        return int if spec.dtype == "int64" else str
    values = [v for cell in cells for v in cell]  # not adapted: ints when all look like ints
    return int if values and all(_INTEGER.fullmatch(v) for v in values) else str


def split_list_cells(df, features, separator_of):
    """Text cells of list columns ("3|5|8") -> lists, split at `separator_of(feature name)`."""
    for name, (spec, is_weight) in _list_columns(features).items():
        if name not in df.columns:
            continue
        separator = separator_of(spec.name)
        cells = [
            [] if not isinstance(v, str) else [p for p in v.split(separator) if p != ""]
            for v in df[name]
        ]
        kind = _cell_kind(spec, is_weight, cells)
        try:
            df[name] = pd.Series([[kind(p) for p in c] for c in cells], index=df.index)
        except ValueError as error:
            raise ValueError(
                f"column '{name}': expected {kind.__name__} values in its list cells, "
                f"separated by {separator!r}. Received {error}."
            ) from None
    return df


def chunks(file, file_format, compression, features, columns, rows, separator_of):
    """DataFrames of at most `rows` rows of `columns` of one CSV / Parquet file."""
    pa = require_pyarrow()
    with contextlib.ExitStack() as stack:
        if file_format == "parquet":
            parquet = _parquet(stack, file)
            check_columns(file, columns, parquet.schema_arrow.names)
            batches = parquet.iter_batches(batch_size=rows, columns=list(columns))
        else:
            lists = _list_columns(features)
            text = [s.name for s in features if getattr(s, "dtype", None) == "string"]
            try:
                batches = _csv_reader(stack, file, compression, columns, text + list(lists))
            except pa.ArrowKeyError:  # a column of `columns` is not in the header
                check_columns(file, columns, column_names(file, "csv", compression))
                raise
        for table in _rechunked(batches, rows):
            df = table.to_pandas()
            if file_format == "csv":
                try:
                    df = split_list_cells(df, features, separator_of)
                except ValueError as error:
                    raise ValueError(f"{file}: {error}") from None
            yield df
