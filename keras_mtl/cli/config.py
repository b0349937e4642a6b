"""Reads a `keras-mtl train` run config (YAML) and validates all of it.

`load_config(path, overrides)` returns a `types.SimpleNamespace` with
checked values, feature specs (not adapted yet) and absolute paths, or raises
a `ConfigError` at the first offending key. docs/cli.md lists the schema;
the defaults are written once, in `DEFAULTS` and the builders' signatures.
"""

import glob
import importlib.util
import inspect
import os
import types

import yaml

import keras_mtl
from keras_mtl.cli import checks
from keras_mtl.cli import feature_config
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.cli.overrides import apply_overrides
from keras_mtl.export.targets import TARGETS

TOP_KEYS = (
    "seed",
    "data",
    "features",
    "tasks",
    "model",
    "weighting",
    "training",
    "output",
    "vocabulary",
)
DEFAULTS = {
    "seed": 0,
    "data": {"validation": None, "test": None, "format": "auto", "stream": False},
    "training": {
        "optimizer": "adam",
        "learning_rate": 0.001,
        "batch_size": 256,
        "epochs": 10,
        "shuffle": True,
        "verbose": "auto",
        "early_stopping_patience": None,
    },
    "output": {
        "dir": "runs",
        # one key per export target, defaulting to its path (None: not written)
        **{target.name: target.default_path for target in TARGETS},
        "keras_model": "{dir}/model.keras",
        "history": "{dir}/history.json",
        "metrics": "{dir}/metrics.json",
    },
    "weighting": {"strategy": "FixedWeights"},
    # the refresh of a warm start (train --warm-start): budget and admission
    "vocabulary": {"max_tokens": None, "min_frequency": 1},
    "varlen_separator": "|",
}
OPTIMIZERS = {
    "adam": "Adam",
    "adamw": "AdamW",
    "sgd": "SGD",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "nadam": "Nadam",
    "adamax": "Adamax",
}
TASK_TYPES = ("binary", "regression")
# The file formats and suffixes are keras_mtl.data.DataSource's reader table.
FORMATS = keras_mtl.data.data_source.FORMATS
CSV_SUFFIXES = keras_mtl.data.DataSource.suffixes("csv")
PARQUET_SUFFIXES = keras_mtl.data.DataSource.suffixes("parquet")
TFRECORD_SUFFIXES = keras_mtl.data.DataSource.suffixes("tfrecord")
PARQUET_ENGINES = ("pyarrow", "fastparquet")


def builder_names():
    return tuple(keras_mtl.models.__all__)


def strategy_names():
    return tuple(n for n in keras_mtl.weighting.__all__ if n != "WeightingStrategy")


def _parameters(fn):
    """`{name: default}` of the keyword parameters of `fn` (no *args/**kwargs)."""
    return {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in inspect.signature(fn).parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


# ---------------------------------------------------------------- sections


def _data_format(path, file_path, declared):
    if declared != "auto":
        return declared
    try:
        return keras_mtl.data.DataSource.detect(file_path)[0]
    except ValueError:
        raise ConfigError(
            path,
            f"cannot tell the format of {file_path!r} from its name (expected one of "
            f"{keras_mtl.data.DataSource.suffixes()}); set data.format to "
            "csv, parquet or tfrecord",
        ) from None


def parquet_engine():
    """The installed Parquet engine pandas can use, or None."""
    for engine in PARQUET_ENGINES:
        if importlib.util.find_spec(engine) is not None:
            return engine
    return None


def _data(raw, base_dir):
    section = checks.mapping(
        "data", raw, ("train", "validation", "test", "format", "stream"), required=("train",)
    )
    section = {**DEFAULTS["data"], **section}
    declared = checks.choice("data.format", section["format"], FORMATS)
    checks.boolean("data.stream", section["stream"])
    out = {"format": {}, "stream": section["stream"] or declared == "tfrecord"}
    for split in ("train", "validation", "test"):
        value = section.get(split)
        if value is None:
            out[split] = None
            continue
        path = f"data.{split}"
        file_path = os.path.join(base_dir, os.path.expanduser(checks.string(path, value)))
        matched = sorted(glob.glob(file_path)) if glob.has_magic(file_path) else [file_path]
        if not matched or not os.path.isfile(matched[0]):
            raise ConfigError(
                path,
                f"file not found: {file_path} (relative paths resolve against "
                f"the config's folder {base_dir}; a glob pattern must match files)",
            )
        fmt = _data_format(path, matched[0], declared)
        if len(matched) > 1 or fmt == "tfrecord":
            out["stream"] = True  # several files (or TFRecord) are always streamed
        if fmt == "parquet" and parquet_engine() is None:
            raise ConfigError(
                path,
                f"reading Parquet needs pyarrow or fastparquet and neither is "
                f"installed: pip install pyarrow (or save {value!r} as CSV)",
            )
        out[split] = file_path
        out["format"][split] = fmt
    return out


def _tasks(raw):
    tasks = []
    for i, entry in enumerate(checks.listing("tasks", raw)):
        path = checks.join("tasks", i)
        if isinstance(entry, str):
            entry = {"name": entry}
        entry = checks.mapping(path, entry, ("name", "type", "label"), required=("name",))
        name = checks.string(checks.join(path, "name"), entry["name"])
        if not name.isidentifier():
            raise ConfigError(
                checks.join(path, "name"),
                f"expected an identifier (it names outputs and metrics), got {name!r}",
            )
        if name in [t.name for t in tasks]:
            raise ConfigError(checks.join(path, "name"), f"task {name!r} is declared twice")
        tasks.append(
            types.SimpleNamespace(
                name=name,
                type=checks.choice(
                    checks.join(path, "type"), entry.get("type", "binary"), TASK_TYPES
                ),
                label=checks.string(checks.join(path, "label"), entry.get("label", name)),
                path=path,
            )
        )
    if not tasks:
        raise ConfigError("tasks", "expected at least one task")
    return tasks


def _model(raw, tasks):
    if not isinstance(raw, dict) or raw.get("builder") is None:
        raise ConfigError(
            "model.builder",
            f"required key is missing; available builders: {', '.join(builder_names())}",
        )
    builder = raw["builder"]
    if builder not in builder_names():
        raise ConfigError(
            "model.builder",
            f"unknown builder {builder!r}. Available builders: {', '.join(builder_names())}",
        )
    params = _parameters(getattr(keras_mtl.models, builder))
    params.pop("features")
    set_by_tasks = {"task_types"}
    for key in raw:
        if key in set_by_tasks:
            raise ConfigError(f"model.{key}", "set by tasks[].type; remove it here")
    allowed = ("builder",) + tuple(k for k in params if k not in set_by_tasks)
    checks.mapping("model", raw, allowed)
    kwargs = {}
    for key, value in raw.items():
        if key != "builder":
            kwargs[key] = checks.like_default(f"model.{key}", value, params[key], key)
    names_given = "task_names" in kwargs
    kwargs.setdefault("task_names", tuple(t.name for t in tasks))
    types_by_task = {t.name: t.type for t in tasks}
    if "task_types" in params:
        kwargs["task_types"] = tuple(types_by_task.get(t, "binary") for t in kwargs["task_names"])
    else:
        for task in tasks:
            if task.type != "binary":
                raise ConfigError(
                    checks.join(task.path, "type"),
                    f"builder {builder} trains binary tasks only, got {task.type!r}",
                )
    return types.SimpleNamespace(builder=builder, kwargs=kwargs, names_given=names_given)


def _weighting(raw, tasks):
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError("weighting", f"expected a mapping, got {raw!r}")
    raw = dict(raw or {})
    strategy = raw.pop("strategy", DEFAULTS["weighting"]["strategy"])
    if strategy not in strategy_names():
        raise ConfigError(
            "weighting.strategy",
            f"unknown strategy {strategy!r}. Available strategies: {', '.join(strategy_names())}",
        )
    cls = getattr(keras_mtl.weighting, strategy)
    params = _parameters(cls.__init__)
    checks.mapping("weighting", raw, ("strategy",) + tuple(params))
    kwargs = {}
    for key, value in raw.items():
        path = f"weighting.{key}"
        if key == "weights":  # FixedWeights: {task: weight}
            value = checks.mapping(path, value, tuple(t.name for t in tasks))
            value = {
                t: checks.number(checks.join(path, t), w, minimum=0.0) for t, w in value.items()
            }
        kwargs[key] = checks.like_default(path, value, params[key], key)
    try:
        cls(**kwargs)  # its own checks, before anything is read or trained
    except (TypeError, ValueError) as error:
        raise ConfigError(checks.located(error, "weighting", kwargs), str(error)) from None
    return types.SimpleNamespace(strategy=strategy, kwargs=kwargs)


def _training(raw):
    section = {
        **DEFAULTS["training"],
        **checks.mapping("training", raw, tuple(DEFAULTS["training"])),
    }
    checks.choice("training.optimizer", section["optimizer"], tuple(OPTIMIZERS))
    checks.number("training.learning_rate", section["learning_rate"], minimum=0, exclusive=True)
    checks.positive_int("training.batch_size", section["batch_size"])
    checks.positive_int("training.epochs", section["epochs"])
    checks.boolean("training.shuffle", section["shuffle"])
    checks.choice("training.verbose", section["verbose"], ("auto", 0, 1, 2))
    if section["early_stopping_patience"] is not None:
        checks.positive_int("training.early_stopping_patience", section["early_stopping_patience"])
    return types.SimpleNamespace(**section)


def _vocabulary(raw):
    section = {
        **DEFAULTS["vocabulary"],
        **checks.mapping("vocabulary", raw, tuple(DEFAULTS["vocabulary"])),
    }
    if section["max_tokens"] is not None:
        checks.positive_int("vocabulary.max_tokens", section["max_tokens"])
    checks.positive_int("vocabulary.min_frequency", section["min_frequency"])
    return types.SimpleNamespace(**section)


def _output(raw, base_dir):
    given = checks.mapping("output", raw, tuple(DEFAULTS["output"]))
    section = {**DEFAULTS["output"], **given}
    out_dir = os.path.join(base_dir, checks.string("output.dir", section["dir"]))
    paths = {"dir": out_dir}
    for key, value in section.items():
        if key == "dir":
            continue
        if value is None:
            paths[key] = None
        elif key in given:
            paths[key] = os.path.join(
                base_dir, os.path.expanduser(checks.string(f"output.{key}", value))
            )
        else:
            paths[key] = value.format(dir=out_dir)
    if paths["keras_model"] is not None and not paths["keras_model"].endswith(".keras"):
        raise ConfigError(
            "output.keras_model", f"expected a path ending in .keras, got {given['keras_model']!r}"
        )
    return types.SimpleNamespace(**paths)


def validate(raw, base_dir, config_path=None):
    """Checks a parsed config; returns the validated namespace."""
    raw = checks.mapping("", raw, TOP_KEYS, required=("data", "features", "tasks", "model"))
    seed = checks.non_negative_int("seed", raw.get("seed", DEFAULTS["seed"]))
    data = _data(raw["data"], base_dir)
    features, feature_paths, separators = feature_config.features(
        raw["features"], DEFAULTS["varlen_separator"]
    )
    tasks = _tasks(raw["tasks"])
    model = _model(raw["model"], tasks)
    weighting = _weighting(raw.get("weighting"), tasks)
    return types.SimpleNamespace(
        config_path=config_path,
        base_dir=base_dir,
        seed=seed,
        data=data,
        features=features,
        feature_paths=feature_paths,
        separators=separators,
        tasks=tasks,
        model=model,
        weighting=weighting,
        training=_training(raw.get("training")),
        output=_output(raw.get("output"), base_dir),
        vocabulary=_vocabulary(raw.get("vocabulary")),
    )


def load_config(path, overrides=()):
    """Reads, overrides (`--set`) and validates the YAML run config at `path`.

    Relative paths in it resolve against the config file's folder.
    """
    if not os.path.isfile(path):
        raise ConfigError("", f"config file not found: {path}")
    with open(path, encoding="utf-8") as f:
        try:
            raw = yaml.safe_load(f)
        except yaml.YAMLError as error:
            raise ConfigError("", f"{path} is not valid YAML: {error}") from None
    raw = apply_overrides(raw if raw is not None else {}, overrides)
    base_dir = os.path.dirname(os.path.abspath(path))
    return validate(raw, base_dir, os.path.abspath(path))
