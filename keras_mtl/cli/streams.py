"""Streamed input for `keras-mtl train`: TFRecord, Parquet and CSV files read in
batches (`keras_mtl.data.tfrecord_dataset` / `parquet_dataset` /
`csv_dataset`), never a whole file in memory."""

import contextlib

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.cli.command_error import CommandError


def source(cfg, split):
    """The `keras_mtl.data.DataSource` of `split`: its format (data.format, or
    by suffix), and each list feature's separator."""
    try:
        return keras_mtl.data.DataSource(
            cfg.data[split], format=cfg.data["format"][split], list_separator=cfg.separators
        )
    except (ValueError, FileNotFoundError) as error:
        raise CommandError(f"data.{split} ({cfg.data[split]}): {error}") from None


def adapt(cfg):
    """The config's features adapted in one streaming pass over data.train."""
    train = source(cfg, "train")
    with guard(cfg, "train"):
        return keras_mtl.features.adapt(
            cfg.features,
            train,
            max_tokens=cfg.vocabulary.max_tokens,
            min_frequency=cfg.vocabulary.min_frequency,
        )


def dataset(cfg, split, features, labels, shuffle=False):
    """The batched dataset of `split` (labels None: features only)."""
    fmt = cfg.data["format"][split]
    kwargs = dict(batch_size=cfg.training.batch_size, shuffle=shuffle, seed=cfg.seed)
    try:
        if fmt == "tfrecord":
            return keras_mtl.data.tfrecord_dataset(cfg.data[split], features, labels, **kwargs)
        if fmt == "parquet":
            return keras_mtl.data.parquet_dataset(cfg.data[split], features, labels, **kwargs)
        return keras_mtl.data.csv_dataset(
            cfg.data[split], features, labels, list_separator=cfg.separators, **kwargs
        )
    except (KeyError, ValueError, FileNotFoundError) as error:
        raise CommandError(f"data.{split} ({cfg.data[split]}): {error}") from None


def batches(ds):
    """A batched dataset's length in batches when known, else None."""
    batches = int(ds.cardinality())
    return None if batches < 0 else batches


def labels_of(ds):
    """`{task: float32 array}` of a `(features, labels)` dataset, in order."""
    parts = {}
    for _, y in ds.as_numpy_iterator():
        for task, values in y.items():
            parts.setdefault(task, []).append(values)
    return {task: np.concatenate(values) for task, values in parts.items()}


def first_rows(ds, count):
    """`{input: array}` of the first `count` rows of a features dataset."""
    x = next(iter(ds))
    x = x[0] if isinstance(x, tuple) else x
    return {name: value.numpy()[:count] for name, value in x.items()}


@contextlib.contextmanager
def guard(cfg, split):
    """Bad records met while streaming -> a CommandError naming the file."""
    try:
        yield
    except tf.errors.DataLossError as error:
        where = cfg.data[split]
        if cfg.data["format"][split] == "tfrecord":
            try:
                keras_mtl.data.check_tfrecords(where)
            except keras_mtl.data.CorruptRecordError as named:
                raise CommandError(f"data.{split}: {named}") from None
        raise CommandError(f"data.{split} ({where}): {error.message.strip()}") from None
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as error:
        message = error.message.strip().split("\n")[0]
        raise CommandError(f"data.{split} ({cfg.data[split]}): {message}") from None
