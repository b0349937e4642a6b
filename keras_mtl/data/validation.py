"""Checks of DataFrame contents, with errors that say what and where."""

import warnings

import numpy as np
import pandas as pd

UNUSED_COLUMNS = ("ignore", "warn", "error")


def _examples(series, mask):
    rows = list(series.index[mask][:3])
    values = [series.loc[r] for r in rows]
    return f"rows {rows} hold {values!r}"


def as_integers(name, series):
    """int64 values of a categorical column, or a clear error."""
    if series.isna().any():
        raise ValueError(
            f"Feature '{name}': expected integer values. Received "
            f"{int(series.isna().sum())} missing values ({_examples(series, series.isna())}); "
            "fill them (e.g. with an id the vocabulary does not hold, which maps "
            "to the OOV row)."
        )
    numeric = pd.to_numeric(series, errors="coerce")
    bad = numeric.isna() | (numeric != np.floor(numeric)) | (numeric.abs() >= 2.0**63)
    if bad.any():
        raise ValueError(
            f"Feature '{name}': expected integer values (the feature's dtype is "
            f"int64). Received column dtype {series.dtype}; {_examples(series, bad)}. "
            "Use a string feature (dtype='string') for these values."
        )
    return numeric.to_numpy(dtype="int64")


def as_floats(name, series, what="Feature"):
    """float32 values of a numeric column; NaN/inf and non-numbers are errors."""
    numeric = pd.to_numeric(series, errors="coerce")
    bad = numeric.isna() | ~np.isfinite(numeric.to_numpy(dtype="float64", na_value=np.nan))
    if bad.any():
        raise ValueError(
            f"{what} '{name}': expected finite numbers. Received "
            f"{int(bad.sum())} NaN, inf or non-numeric values ({_examples(series, bad)})."
        )
    return numeric.to_numpy(dtype="float32")


def check_finite(name, values):
    if not np.all(np.isfinite(values)):
        bad = np.argwhere(~np.isfinite(values))[:3, 0].tolist()
        raise ValueError(
            f"Feature '{name}': expected finite numbers. Received NaN or inf in rows {bad}."
        )
    return values


def check_binary_labels(task, values):
    """Labels of a binary task must be 0, 1 or NaN (missing)."""
    present = values[~np.isnan(values)]
    bad = present[(present != 0) & (present != 1)]
    if bad.size:
        raise ValueError(
            f"Task '{task}' is binary: expected labels in {{0, 1}} (NaN for "
            f"missing). Received {bad.size} other values, e.g. {bad[:3].tolist()}."
        )
    if np.isinf(values).any():
        raise ValueError(f"Task '{task}': expected finite labels. Received inf.")


def unused_columns(df, used, mode):
    """Columns neither features nor labels: ignored, warned about, or an error."""
    if mode not in UNUSED_COLUMNS:
        raise ValueError(f"expected unused_columns in {UNUSED_COLUMNS}. Received: {mode!r}")
    extra = [str(c) for c in df.columns if c not in used]
    if not extra or mode == "ignore":
        return
    message = (
        f"DataFrame columns {extra} are neither features nor labels and are not "
        "used (pass unused_columns='ignore' to silence this)."
    )
    if mode == "error":
        raise ValueError(message)
    warnings.warn(message, UserWarning, stacklevel=3)


def positive_int(name, value):
    """`value` when it is a positive integer (not a bool), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a positive integer. Received: {name}={value!r}")
    return value
