"""`keras-mtl train`: config in; trained, evaluated and exported model out."""

import contextlib
import json
import math
import os
import shutil
import types

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.cli import checks
from keras_mtl.cli import config as config_lib
from keras_mtl.cli import data_io
from keras_mtl.cli import inspect_command
from keras_mtl.cli import streams
from keras_mtl.cli.command_error import CommandError
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.evaluation import evaluate_tasks
from keras_mtl.evaluation import results_table
from keras_mtl.export import versions

#: Where `train` bundles the `.keras` model inside the SavedModel version
#: folder (TF Serving ignores assets.extra/ but for warmup requests), so
#: `plot-gates --model <savedmodel>` finds the layers the export drops.
BUNDLED_KERAS = inspect_command.BUNDLED_KERAS
PARITY_ROWS = 16


def _read_frames(cfg):
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
        df = data_io.read_table(path, cfg.data["format"][split], string_columns)
        _check_columns(cfg, split, path, df)
        frames[split] = data_io.with_list_cells(df, cfg.features, cfg.separators)
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


def _build(cfg, features):
    builder = getattr(keras_mtl.models, cfg.model.builder)
    try:
        model = builder(features, **cfg.model.kwargs)
    except (TypeError, ValueError) as error:
        message = str(error)
        if "task name" in message and not cfg.model.names_given:
            message += (
                " (model.task_names defaults to the names under tasks; a builder that "
                "adds outputs of its own, like ESMM's ctcvr, takes model.task_names, "
                "e.g. [ctr, cvr], while tasks lists the trained outputs and labels)"
            )
        raise ConfigError(checks.located(error, "model", cfg.model.kwargs), message) from None
    declared = {task.name: task for task in cfg.tasks}
    missing = [t for t in model.task_names if t not in declared]
    if missing:
        raise ConfigError(
            "tasks",
            f"builder {cfg.model.builder} trains tasks {list(model.task_names)}; "
            f"add a tasks entry (with its label column) for {missing}",
        )
    for task in cfg.tasks:
        if task.name not in model.task_names:
            raise ConfigError(
                f"{task.path}.name",
                f"task {task.name!r} is not trained by this "
                f"{cfg.model.builder}; its trained tasks are "
                f"{list(model.task_names)}",
            )
    return model


def _compile(cfg, model):
    optimizer = getattr(tf.keras.optimizers, config_lib.OPTIMIZERS[cfg.training.optimizer])(
        learning_rate=cfg.training.learning_rate
    )
    strategy = getattr(keras_mtl.weighting, cfg.weighting.strategy)(**cfg.weighting.kwargs)
    try:
        model.compile(optimizer=optimizer, weighting=strategy)
    except (TypeError, ValueError) as error:
        raise ConfigError("weighting", str(error)) from None


def _dataset(cfg, split, df, features, labels, model, shuffle=False):
    try:
        return keras_mtl.data.df_to_dataset(
            df,
            features,
            labels,
            batch_size=cfg.training.batch_size,
            shuffle=shuffle,
            seed=cfg.seed,
            task_types=model.task_types if labels else None,
        )
    except (KeyError, ValueError) as error:
        raise CommandError(f"data.{split} ({cfg.data[split]}): {error}") from None


def _plain(value):
    """JSON-safe: NaN / inf become null, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _write_json(path, value):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_plain(value), f, indent=2)


def _export(cfg, model, examples, print_fn):
    """SavedModel (+ bundled .keras, parity check) and optional ONNX."""
    out = cfg.output
    saved_model = None
    if out.saved_model is not None:

        def bundle(version_dir):  # the .keras model inside the version, before it appears
            bundled = os.path.join(version_dir, BUNDLED_KERAS)
            os.makedirs(os.path.dirname(bundled), exist_ok=True)
            if out.keras_model is not None:
                shutil.copyfile(out.keras_model, bundled)
            else:
                model.save(bundled)

        saved_model = keras_mtl.export.export_saved_model(
            model,
            out.saved_model,
            examples={k: v[:4] for k, v in examples.items()},
            add_files=bundle,
        )
        serving = tf.saved_model.load(saved_model).signatures["serving_default"]
        served = serving(**{k: tf.constant(v) for k, v in examples.items()})
        expected = model({k: tf.constant(v) for k, v in examples.items()}, training=False)
        diff = max(
            float(np.max(np.abs(served[k].numpy() - np.asarray(v)))) for k, v in expected.items()
        )
        print_fn(
            f"SavedModel: {saved_model} (serving_default vs Keras on "
            f"{len(next(iter(examples.values())))} rows: max |diff| {diff:.2e})"
        )
    onnx = None
    if out.onnx is not None:
        try:
            onnx = keras_mtl.export.export_onnx(model, out.onnx, examples=examples)
        except keras_mtl.export.OnnxExportError as error:
            raise CommandError(f"output.onnx: {error}") from None
        print_fn(
            f"ONNX: {onnx.path} (opset {onnx.opset}, ONNX Runtime vs Keras max |diff| "
            f"{max(onnx.max_abs_diff.values()):.2e})"
        )
    return saved_model, onnx


def run_train(cfg, print_fn=print):
    """Trains, evaluates and exports as the validated config `cfg` says.

    Returns:
        A namespace with `model`, `features`, `history` (`{key: [per epoch]}`),
        `evaluation` (`{task: metrics}` or None), `eval_split`, `saved_model`
        (the version folder or None) and `onnx` (an `OnnxExport` or None).
    """
    tf.keras.utils.set_random_seed(cfg.seed)
    streamed = cfg.data["stream"]  # TFRecord, several files or data.stream: read in batches
    frames = None if streamed else _read_frames(cfg)
    features = (
        streams.adapt(cfg) if streamed else keras_mtl.features.adapt(cfg.features, frames["train"])
    )
    model = _build(cfg, features)
    _compile(cfg, model)
    labels = {task.name: task.label for task in cfg.tasks}

    def data(split, with_labels=True, shuffle=False):
        wanted = labels if with_labels else None
        if streamed:
            return streams.dataset(cfg, split, features, wanted, shuffle=shuffle)
        return _dataset(cfg, split, frames[split], features, wanted, model, shuffle=shuffle)

    train = data("train", shuffle=cfg.training.shuffle)
    validation = data("validation") if cfg.data["validation"] is not None else None
    callbacks = []
    if cfg.training.early_stopping_patience is not None and validation is not None:
        callbacks.append(
            tf.keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=cfg.training.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    size = (
        f"{len(frames['train'])} rows"
        if not streamed
        else f"{cfg.data['train']} (streamed, "
        + (f"{streams.batches(train)} batches)" if streams.batches(train) else "row count unknown)")
    )
    print_fn(
        f"training {cfg.model.builder} on {size} "
        f"({cfg.training.epochs} epoch{'s' if cfg.training.epochs > 1 else ''}, "
        f"batch {cfg.training.batch_size}, "
        f"weighting {cfg.weighting.strategy})"
    )
    with streams.guard(cfg, "train") if streamed else contextlib.nullcontext():
        history = model.fit(
            train,
            epochs=cfg.training.epochs,
            validation_data=validation,
            callbacks=callbacks,
            verbose=cfg.training.verbose,
            shuffle=False,
        )  # the dataset shuffles (training.shuffle)
    history = {k: [float(v) for v in values] for k, values in history.history.items()}

    eval_split = (
        "test"
        if cfg.data["test"] is not None
        else ("validation" if cfg.data["validation"] is not None else None)
    )
    evaluation = None
    if eval_split is None:
        print_fn("no data.test or data.validation: evaluation skipped")
    else:
        with streams.guard(cfg, eval_split) if streamed else contextlib.nullcontext():
            predictions = model.predict(data(eval_split, with_labels=False), verbose=0)
            if streamed:
                truth = streams.labels_of(data(eval_split))
            else:
                truth = keras_mtl.data.labels_to_arrays(frames[eval_split], labels)
        evaluation = evaluate_tasks(model.task_types, truth, predictions)
        print_fn(f"evaluation on data.{eval_split} ({len(next(iter(truth.values())))} rows)")
        print_fn(results_table(evaluation))

    out = cfg.output
    if out.keras_model is not None:
        with versions.replacing_file(out.keras_model) as temporary:  # appears whole
            model.save(temporary)
        print_fn(f"Keras model: {out.keras_model}")
    if out.history is not None:
        _write_json(out.history, history)
        print_fn(f"history: {out.history}")
    if out.metrics is not None and evaluation is not None:
        _write_json(out.metrics, {"split": eval_split, "tasks": evaluation})
        print_fn(f"metrics: {out.metrics}")
    sample_split = eval_split or "train"
    if streamed:
        examples = streams.first_rows(data(sample_split, with_labels=False), PARITY_ROWS)
    else:
        examples = keras_mtl.data.features_to_arrays(
            frames[sample_split].head(PARITY_ROWS), features
        )
    saved_model, onnx = _export(cfg, model, examples, print_fn)
    return types.SimpleNamespace(
        model=model,
        features=features,
        history=history,
        evaluation=evaluation,
        eval_split=eval_split,
        saved_model=saved_model,
        onnx=onnx,
    )
