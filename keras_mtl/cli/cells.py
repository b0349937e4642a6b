"""Table cells as the model takes them: list cells ("a|b|c" in CSV text,
lists in Parquet) split and typed, columns turned into input arrays."""

import numpy as np
import pandas as pd

from keras_mtl.cli.command_error import CommandError


def _cell_values(cell, separator):
    """A list cell as a list: lists/arrays as they are, text split."""
    if cell is None:
        return []
    if isinstance(cell, str):
        return [v for v in cell.split(separator) if v != ""]
    if np.ndim(cell) == 0:
        return [] if pd.isna(cell) else [cell]
    return list(np.asarray(cell).ravel())


def _typed(values, kind):
    if kind == "float":
        return [float(v) for v in values]
    if kind == "int":
        return [int(v) for v in values]
    return [str(v) for v in values]


def _looks_integer(cells):
    values = [v for cell in cells for v in cell]
    try:
        return bool(values) and all(float(v) == int(float(v)) and "." not in str(v) for v in values)
    except (TypeError, ValueError):
        return False


def list_column(series, separator, kind=None):
    """A column of list cells; `kind` "int" / "float" / "string", or None to
    take ints when every value is an integer."""
    cells = [_cell_values(cell, separator) for cell in series]
    if kind is None:
        kind = "int" if _looks_integer(cells) else "string"
    try:
        return pd.Series([_typed(c, kind) for c in cells], index=series.index, dtype=object)
    except ValueError as error:
        raise CommandError(
            f"column {series.name!r}: expected {kind} values in its list cells. Received {error}"
        ) from None


def with_list_cells(df, specs, separators):
    """`df` with text list cells of VarLenSparseFeat / multi-dim DenseFeat
    (and sequence weight) columns split into lists."""
    df = df.copy()
    for spec in specs:
        if spec.name not in separators or spec.name not in df.columns:
            continue
        separator = separators[spec.name]
        if hasattr(spec, "maxlen"):
            kind = {"string": "string", "int64": "int"}.get(spec.dtype)
            df[spec.name] = list_column(df[spec.name], separator, kind)
            if spec.weight_name is not None and spec.weight_name in df.columns:
                df[spec.weight_name] = list_column(df[spec.weight_name], separator, "float")
        elif spec.dimension > 1:
            df[spec.name] = list_column(df[spec.name], separator, "float")
    return df


def model_input_arrays(df, model, separator="|"):
    """`{input name: array}` for a trained model's named inputs, from `df`.

    Used where the feature specs are not at hand (a loaded `.keras` model):
    each input's dtype and shape say how to read its column.
    """
    arrays = {}
    for name, tensor in model.input.items():
        if name not in df.columns:
            raise CommandError(
                f"the model takes input {name!r} but the data has no such column. "
                f"Received columns: {sorted(map(str, df.columns))}"
            )
        dtype = str(getattr(tensor.dtype, "name", tensor.dtype))
        kind = "string" if dtype == "string" else "int" if "int" in dtype else "float"
        numpy_dtype = {"string": object, "int": "int64", "float": "float32"}[kind]
        series = df[name]
        if len(tensor.shape) == 1:
            if kind == "string":
                arrays[name] = series.map(lambda v: "" if pd.isna(v) else str(v)).to_numpy(object)
            else:
                arrays[name] = series.to_numpy(numpy_dtype)
            continue
        width = int(tensor.shape[1])
        pad = {"string": "", "int": 0, "float": 0.0}[kind]
        out = np.full((len(df), width), pad, dtype=numpy_dtype)
        for row, cell in enumerate(list_column(series, separator, kind)):
            out[row, : min(width, len(cell))] = cell[:width]
        arrays[name] = out
    return arrays
