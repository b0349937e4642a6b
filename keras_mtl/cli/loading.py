"""Everything the commands read: CSV / Parquet rows, trained models and
SavedModel versions. `train` reads its splits here; `inspect` and
`plot-gates` load a model and the rows to run it on."""

import os

import pandas as pd
import tensorflow as tf

import keras_mtl  # noqa: F401  (registers the layers load_model revives)
from keras_mtl.cli import cells
from keras_mtl.cli import config as config_lib
from keras_mtl.cli.command_error import CommandError
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.export import layout


def read_table(path, fmt, string_columns=()):
    """A DataFrame from a CSV or Parquet file.

    `string_columns` are read as text in CSV files (so "007" stays "007").
    """
    if fmt == "parquet":
        engine = config_lib.parquet_engine()
        if engine is None:
            raise CommandError(
                f"reading {path} needs a Parquet engine (pyarrow or fastparquet) and "
                "neither is installed: pip install pyarrow"
            )
        return pd.read_parquet(path, engine=engine)
    header = pd.read_csv(path, nrows=0)  # only the header, to type the string columns
    dtypes = {c: str for c in string_columns if c in header.columns}
    return pd.read_csv(path, dtype=dtypes)


def format_of(path):
    """ "csv" or "parquet" from a file name (for commands without a config)."""
    lower = path.lower()
    if lower.endswith(config_lib.PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(config_lib.CSV_SUFFIXES):
        return "csv"
    raise CommandError(
        f"cannot tell the format of {path!r} from its name: expected one of "
        f"{config_lib.CSV_SUFFIXES + config_lib.PARQUET_SUFFIXES}"
    )


def read_splits(cfg):
    """`{split: DataFrame or None}` of a run config's train / validation /
    test files, list cells split; every feature, weight and label column
    checked."""
    string_columns = [
        s.name
        for s in cfg.features
        if getattr(s, "dtype", None) == "string" or s.name in cfg.separators
    ]
    frames = {}
    for split in ("train", "validation", "test"):
        path = cfg.data[split]
        if path is None:
            frames[split] = None
            continue
        df = read_table(path, cfg.data["format"][split], string_columns)
        _check_columns(cfg, split, path, df)
        frames[split] = cells.with_list_cells(df, cfg.features, cfg.separators)
    return frames


def _check_columns(cfg, split, path, df):
    needed = [(spec.name, cfg.feature_paths[spec.name]) for spec in cfg.features]
    needed += [
        (spec.weight_name, cfg.feature_paths[spec.name] + ".weight_name")
        for spec in cfg.features
        if getattr(spec, "weight_name", None)
    ]
    needed += [(task.label, f"{task.path}.label") for task in cfg.tasks]
    for column, where in needed:
        if column not in df.columns:
            raise ConfigError(
                where,
                f"column {column!r} is not in data.{split} ({path}). Received "
                f"columns: {', '.join(map(str, df.columns))}",
            )


def resolve_version(path):
    """`(version folder, note)` for a SavedModel version folder or a base folder.

    A base folder (TF Serving's model folder) holds numbered versions; the
    newest is taken and the note says which (None for a version folder).
    """
    try:
        version_dir, versions = layout.resolve_version(path)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if versions is None:
        return version_dir, None
    return version_dir, (
        f"{path} holds versions {', '.join(map(str, versions))}; "
        f"showing the newest, {versions[-1]} ({version_dir})"
    )


def load_model(path, print_fn=print):
    """A `.keras` file, or the one `train` bundles in a SavedModel folder."""
    if os.path.isdir(path):
        version_dir, note = resolve_version(path)
        if note:
            print_fn(note)
        path = os.path.join(version_dir, layout.BUNDLED_KERAS)
        if not os.path.isfile(path):
            raise CommandError(
                f"{version_dir} is a SavedModel without a bundled Keras model "
                f"({layout.BUNDLED_KERAS}); a SavedModel keeps only the serving "
                "function, not the gate layers. Pass the .keras file instead "
                "(`keras-mtl train` writes it to output.keras_model)."
            )
    elif not path.endswith(".keras") or not os.path.isfile(path):
        raise CommandError(f"expected a .keras file or a SavedModel folder, got {path!r}")
    return tf.keras.models.load_model(path, compile=False)


def load_rows(model, data_path, separator="|"):
    """`(DataFrame, {input name: array})` of the CSV / Parquet rows at
    `data_path`, read as `model`'s inputs."""
    string_inputs = [
        name
        for name, t in model.input.items()
        if str(getattr(t.dtype, "name", t.dtype)) == "string"
    ]
    df = read_table(data_path, format_of(data_path), string_inputs)
    if len(df) == 0:
        raise CommandError(f"--data {data_path} has no rows")
    return df, cells.model_input_arrays(df, model, separator)
