"""`keras-mtl train`: config in; trained, evaluated and exported model out."""

import contextlib
import json
import math
import os
import types

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.cli import checks
from keras_mtl.cli import config as config_lib
from keras_mtl.cli import loading
from keras_mtl.cli import streams
from keras_mtl.cli.command_error import CommandError
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.evaluation import evaluate_tasks
from keras_mtl.evaluation import results_table
from keras_mtl.export import targets
from keras_mtl.export import versions

#: Sample rows (of the evaluation split) every export is checked on.
PARITY_ROWS = 16


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
    """`{target name: what it wrote, or None}`: every export target whose
    `output:` path is set, written and checked against Keras on `examples`."""
    rows = len(next(iter(examples.values())))
    written = {}
    for target in targets.TARGETS:
        path = getattr(cfg.output, target.name)
        if path is None:
            written[target.name] = None
            continue
        try:
            result = target.write(model, path, examples, keras_file=cfg.output.keras_model)
            diffs = target.parity(model, result, examples)
        except targets.ExportError as error:
            raise CommandError(f"output.{target.name}: {error}") from None
        print_fn(
            f"{target.title}: {target.describe(result)} ({target.served_by} vs Keras on "
            f"{rows} rows: max |diff| {max(diffs.values()):.2e})"
        )
        written[target.name] = result
    return written


def _carried(specs, previous):
    """The config's `specs` with what the previous model learned filled in:
    vocabularies and their refresh state, normalisation statistics and
    bucket edges (only where the config leaves them to be learned)."""
    names, old_names = [s.name for s in specs], [s.name for s in previous]
    if names != old_names:
        raise CommandError(
            f"--warm-start: the config's features {names} differ from the previous model's "
            f"{old_names}. Expected the same features in the same order."
        )
    out = []
    for spec, old in zip(specs, previous):
        if type(spec) is not type(old):
            raise CommandError(
                f"--warm-start: feature '{spec.name}' is a {type(spec).__name__} in the config "
                f"and a {type(old).__name__} in the previous model."
            )
        if isinstance(spec, keras_mtl.DenseFeat):
            learned = ("mean", "variance", "bucket_edges")
            spec = spec.replace(**{k: getattr(old, k) for k in learned if getattr(spec, k) is None})
        elif spec.encoding is None and old.encoding == "lookup":
            spec = spec.replace(
                **{
                    k: getattr(old, k)
                    for k in (
                        "vocabulary",
                        "dtype",
                        "counts",
                        "last_seen",
                        "refreshes",
                        "refresh_counts",
                    )
                }
            )
        out.append(spec)
    return out


def _refreshed(cfg, path, frames, streamed, print_fn):
    """`(previous model, features)`: the model at `path` (compiled, with its
    optimizer state) and the config's features on its refreshed vocabularies."""
    if not str(path).endswith(".keras") or not os.path.isfile(path):
        raise CommandError(f"--warm-start: expected an existing .keras file, got {path!r}")
    previous = tf.keras.models.load_model(path)
    if getattr(previous, "features", None) is None:
        raise CommandError(
            f"--warm-start: {path} records no feature specs (a keras_mtl MultiTaskModel "
            "built by a builder records them); train it again without --warm-start first."
        )
    specs = _carried(cfg.features, previous.features)
    data = streams.source(cfg, "train") if streamed else frames["train"]
    vocab = cfg.vocabulary
    with streams.guard(cfg, "train") if streamed else contextlib.nullcontext():
        features, report = keras_mtl.features.refresh_vocabularies(
            specs, data, max_tokens=vocab.max_tokens, min_frequency=vocab.min_frequency
        )
    print_fn(f"warm start from {path}")
    print_fn(str(report).replace("\t", "  "))
    return previous, features


def run_train(cfg, print_fn=print, warm_start_from=None):
    """Trains, evaluates and exports as the validated config `cfg` says.

    With `warm_start_from` (a `.keras` file of the previous run), the
    features take that model's vocabularies refreshed on data.train
    (`cfg.vocabulary`: `max_tokens`, `min_frequency`), and the new model
    starts from its variables and optimizer state
    (`keras_mtl.training.warm_start`); exports go to the same folders as
    the next version.

    Returns:
        A namespace with `model`, `features`, `history` (`{key: [per epoch]}`),
        `evaluation` (`{task: metrics}` or None), `eval_split`, and per
        export target (`keras_mtl.export.targets.TARGETS`) what it wrote or
        None: `saved_model` (the version folder), `onnx` (an `OnnxExport`).
    """
    tf.keras.utils.set_random_seed(cfg.seed)
    streamed = cfg.data["stream"]  # TFRecord, several files or data.stream: read in batches
    frames = None if streamed else loading.read_splits(cfg)
    previous = None
    if warm_start_from is not None:
        previous, features = _refreshed(cfg, warm_start_from, frames, streamed, print_fn)
    elif streamed:
        features = streams.adapt(cfg)
    else:
        features = keras_mtl.features.adapt(
            cfg.features,
            frames["train"],
            max_tokens=cfg.vocabulary.max_tokens,
            min_frequency=cfg.vocabulary.min_frequency,
        )
    model = _build(cfg, features)
    _compile(cfg, model)
    if previous is not None:
        try:
            carried = keras_mtl.training.warm_start(model, previous)
        except ValueError as error:
            raise CommandError(f"--warm-start {warm_start_from}: {error}") from None
        print_fn(
            f"carried over {carried['variables']} variables and {carried['slots']} optimizer "
            f"slots; training continues at step {carried['iterations']}"
        )
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
    exports = _export(cfg, model, examples, print_fn)
    return types.SimpleNamespace(
        model=model,
        features=features,
        history=history,
        evaluation=evaluation,
        eval_split=eval_split,
        **exports,
    )
