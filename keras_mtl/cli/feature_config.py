"""The `features:` section of a run config: specs from sparse / dense / varlen entries."""

import dataclasses

import keras_mtl
from keras_mtl.cli import checks
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.features.var_len_sparse_feat import POOLINGS

FEATURE_KINDS = {
    "sparse": keras_mtl.SparseFeat,
    "dense": keras_mtl.DenseFeat,
    "varlen": keras_mtl.VarLenSparseFeat,
}
_FEATURE_CHECKS = {  # field: check(path, value) -> value
    "name": checks.string,
    "vocabulary": lambda p, v: tuple(checks.listing(p, v)),
    "hash_bins": checks.positive_int,
    "vocabulary_size": checks.positive_int,
    "embedding_dim": checks.positive_int,
    "embedding_name": checks.string,
    "dtype": lambda p, v: checks.choice(p, v, ("string", "int64")),
    "dimension": checks.positive_int,
    "log1p": checks.boolean,
    "normalize": checks.boolean,
    "maxlen": checks.positive_int,
    "pooling": lambda p, v: checks.choice(p, v, POOLINGS),
    "weight_name": checks.string,
    "separator": checks.string,
}


def _feature_entries(path, raw):
    """`([(entry path, own keys)], defaults, defaults path)` of one kind: a
    list of entries, or `{defaults: {...}, columns: [...]}`."""
    defaults, columns_path = {}, path
    if isinstance(raw, dict):
        raw = checks.mapping(path, raw, ("defaults", "columns"), required=("columns",))
        defaults = raw.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise ConfigError(
                checks.join(path, "defaults"), f"expected a mapping, got {defaults!r}"
            )
        columns_path = checks.join(path, "columns")
        raw = raw["columns"]
    entries = []
    for i, entry in enumerate(checks.listing(columns_path, raw)):
        entry_path = checks.join(columns_path, i)
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise ConfigError(entry_path, f"expected a column name or a mapping, got {entry!r}")
        entries.append((entry_path, entry))
    return entries, defaults, checks.join(path, "defaults")


def features(raw, default_separator):
    """`(specs, {name: config path}, {name: list-cell separator})` of `features:`."""
    section = checks.mapping("features", raw, tuple(FEATURE_KINDS))
    specs, where, separators = [], {}, {}
    for kind, cls in FEATURE_KINDS.items():
        if section.get(kind) is None:
            continue
        allowed = tuple(f.name for f in dataclasses.fields(cls))
        if kind != "sparse":  # list cells in CSV files: "a|b|c"
            allowed += ("separator",)
        entries, defaults, defaults_path = _feature_entries(f"features.{kind}", section[kind])
        for entry_path, own in entries:
            args = {}
            for key, value in {**defaults, **own}.items():
                key_path = checks.join(entry_path if key in own else defaults_path, key)
                if key not in allowed:
                    raise ConfigError(
                        key_path,
                        f"unknown key {key!r} for a {kind} feature. Allowed keys: "
                        f"{', '.join(sorted(allowed))}",
                    )
                check = _FEATURE_CHECKS.get(key)
                args[key] = value if check is None or value is None else check(key_path, value)
            for field in dataclasses.fields(cls):  # name; maxlen for varlen
                required = field.default is dataclasses.MISSING
                if (
                    required
                    and field.default_factory is dataclasses.MISSING
                    and field.name not in args
                ):
                    raise ConfigError(
                        checks.join(entry_path, field.name), "required key is missing"
                    )
            name = args["name"]
            if name in where:
                raise ConfigError(
                    entry_path, f"feature {name!r} is declared twice (first at {where[name]})"
                )
            separator = args.pop("separator", default_separator)
            try:
                spec = cls(**args)
            except (TypeError, ValueError) as error:
                raise ConfigError(checks.located(error, entry_path, args), str(error)) from None
            if kind == "varlen" or (kind == "dense" and spec.dimension > 1):
                separators[name] = separator  # list cells
            specs.append(spec)
            where[name] = entry_path
    if not specs:
        raise ConfigError(
            "features", f"expected at least one feature under {', '.join(FEATURE_KINDS)}"
        )
    return specs, where, separators
