"""Warm start: a model on refreshed features receives every variable of the model before it."""

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.layers.stacked_embedding import StackedEmbedding
from keras_mtl.training import loss_scaling
from keras_mtl.training import structure

_KINDS = {"lookup": "vocabulary", "hash": "hash_bins", "encoded": "vocabulary_size"}


def _spec_signature(spec):
    """What must agree between the two models' versions of a feature."""
    kind = getattr(spec, "encoding", None)
    out = {"class": type(spec).__name__}
    if kind is not None:
        out.update(
            encoding=_KINDS[kind],
            embedding_dim=spec.embedding_dim,
            embedding_name=spec.embedding_name,
            dtype=spec.dtype,
        )
        if kind != "lookup":
            out["rows"] = spec.num_embeddings
    else:
        out.update(dimension=spec.dimension, buckets=getattr(spec, "num_buckets", None))
    return out


def _check_features(model, previous):
    new, old = model.features, previous.features
    if new is None or old is None:
        return
    new_names, old_names = [s.name for s in new], [s.name for s in old]
    if new_names != old_names:
        raise ValueError(
            f"the models' features differ: {new_names} (this model) vs {old_names} (the "
            "previous one). Expected the same features in the same order."
        )
    for a, b in zip(new, old):
        sa, sb = _spec_signature(a), _spec_signature(b)
        diff = [k for k in sa if sa[k] != sb.get(k)]
        if diff:
            key = diff[0]
            raise ValueError(
                f"feature '{a.name}' differs in {key}: {sa[key]!r} (this model) vs "
                f"{sb.get(key)!r} (the previous one). Only vocabularies may change."
            )


def _check_layers(model, previous):
    """Same layer types in the same order (names may differ: Keras numbers
    unnamed layers per session)."""
    new = [type(layer).__name__ for layer in structure.all_layers(model.layers)]
    old = [type(layer).__name__ for layer in structure.all_layers(previous.layers)]
    if new != old:
        at = next((i for i, (a, b) in enumerate(zip(new, old)) if a != b), min(len(new), len(old)))
        here = new[at] if at < len(new) else "nothing"
        there = old[at] if at < len(old) else "nothing"
        raise ValueError(
            f"the models differ in architecture: layer {at} is {here} here and {there} in the "
            f"previous model ({len(new)} and {len(old)} layers). Expected the same builder and "
            "settings."
        )


def _stacks(model):
    return [
        layer for layer in structure.all_layers(model.layers) if isinstance(layer, StackedEmbedding)
    ]


def _vocabularies(model):
    """`{embedding_name: vocabulary}` of the model's lookup features."""
    return {
        spec.embedding_name: spec.vocabulary
        for spec in model.features or ()
        if getattr(spec, "encoding", None) == "lookup"
    }


def _table_rows(table, new_rows, old_rows, new_vocab, old_vocab):
    """`(destination rows, source rows)` of one table: by id, or all rows."""
    if table in new_vocab and table in old_vocab:
        old_index = {value: i + 1 for i, value in enumerate(old_vocab[table])}
        pairs = [(0, 0)] + [  # the OOV row, then every kept id
            (i + 1, old_index[value])
            for i, value in enumerate(new_vocab[table])
            if value in old_index
        ]
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    if new_rows != old_rows:
        raise ValueError(
            f"table '{table}' has {new_rows} rows here and {old_rows} in the previous model, "
            "and no vocabulary to map them by id (the models record no features). Expected "
            "models built by keras_mtl builders, or tables of equal size."
        )
    rows = np.arange(new_rows)
    return rows, rows


def _stack_pairs(model, previous):
    """`[(new stack, old stack, (dst rows, src rows))]` over whole stacks, and a report."""
    new_vocab, old_vocab = _vocabularies(model), _vocabularies(previous)
    pairs, report = [], {}
    for layer, old in zip(_stacks(model), _stacks(previous)):  # as many: _check_layers
        new_tables, old_tables = dict(layer.tables), dict(old.tables)
        if set(new_tables) != set(old_tables):
            raise ValueError(
                f"stack '{layer.name}' holds tables {sorted(new_tables)} here and "
                f"{sorted(old_tables)} in the previous model."
            )
        if layer.output_dim != old.output_dim:
            raise ValueError(
                f"stack '{layer.name}' has rows of width {layer.output_dim} here and "
                f"{old.output_dim} in the previous model."
            )
        dst, src = [], []
        for table, rows in new_tables.items():
            d, s = _table_rows(table, rows, old_tables[table], new_vocab, old_vocab)
            dst.append(d + layer.offsets[table])
            src.append(s + old.offsets[table])
            report[table] = {"copied": int(d.size), "fresh": int(rows - d.size)}
        pairs.append((layer, old, (np.concatenate(dst), np.concatenate(src))))
    return pairs, report


def _copy_rows(new_parts, old_parts, rows):
    """Rows `src` of the old value into rows `dst` of the new; other rows stay."""
    dst, src = rows
    value = keras_compat.rows_value(new_parts)
    value[dst] = keras_compat.rows_value(old_parts)[src]
    start = 0
    for part in new_parts:
        size = int(part.shape[0])
        part.assign(value[start : start + size])
        start += size


def _optimizer(model, variable):
    return loss_scaling.unwrapped(model.training_state.optimizer_of(variable))


def warm_start(model: tf.keras.Model, previous: tf.keras.Model) -> Mapping[str, Any]:
    """Gives `model` (built on refreshed features, compiled) every variable of `previous`.

    The models must come from the same builder with the same settings and
    features; only the vocabularies (and so the tables' rows) may differ
    (`keras_mtl.features.refresh_vocabularies`). Everything is checked
    before anything is copied, and `previous` is only read.

    - Dense variables, and the weighting strategy's (uncertainty weights,
      DWA's history), are copied as they are.
    - Embedding tables are copied row by row, by id: each id in both
      vocabularies gets its old row, the OOV row its old OOV row; rows of
      newly admitted ids keep their fresh initial values (as a new table's
      would be) and evicted ids' rows are dropped. Hashed, pre-encoded and
      bucket tables are copied whole.
    - Optimizer slots (Adam's and LazyAdam's moments, Adagrad's
      accumulators, any slot kept per variable) follow the same rows; new
      rows' slots start at zero. Each optimizer's step count continues from
      the previous model's.

    Works with stacked tables (`StackedEmbedding`), also when they are
    sharded by rows under `ParameterServerStrategy` (each table's whole
    value is read from its shards, remapped and written back shard by
    shard; run it on the coordinator, inside the strategy's scope).

    Args:
        model: the new model, compiled (its optimizers built).
        previous: yesterday's model (e.g. `tf.keras.models.load_model`),
            compiled or loaded with its optimizer state.

    Returns:
        `{"tables": {table: {"copied", "fresh"}}, "variables": n,
        "slots": n, "iterations": previous step count}`.

    Raises:
        ValueError: the models differ in architecture,
            feature names or types, or embedding widths; the message names
            the first difference. Nothing was copied.
    """
    for name, m in (("model", model), ("previous", previous)):
        if getattr(m, "training_state", None) is None:
            raise ValueError(
                f"expected {name} compiled (its optimizers hold the state to carry over). "
                f"Received an uncompiled {type(m).__name__}; call compile() (or load the "
                "previous model with compile=True)."
            )
    _check_features(model, previous)
    _check_layers(model, previous)
    new_weighting = model.training_state.weighting
    old_weighting = previous.training_state.weighting
    if type(new_weighting) is not type(old_weighting):
        raise ValueError(
            f"the models are compiled with other weighting strategies: "
            f"{type(new_weighting).__name__} (this model) vs {type(old_weighting).__name__} "
            "(the previous one). Expected the same strategy, whose state carries over."
        )
    stacks, tables = _stack_pairs(model, previous)
    in_stacks = {  # a stack's variable, or its shards, whichever `weights` lists
        id(v)
        for layer, old, _ in stacks
        for table in (layer.embeddings, old.embeddings)
        for v in [table] + keras_compat.shards(table)
    }
    new_vars = [
        v for v in list(model.weights) + list(new_weighting.weights) if id(v) not in in_stacks
    ]
    old_vars = [
        v for v in list(previous.weights) + list(old_weighting.weights) if id(v) not in in_stacks
    ]
    if len(new_vars) != len(old_vars):
        raise ValueError(
            f"the models hold {len(new_vars)} and {len(old_vars)} variables besides their "
            "tables. Expected the same builder and settings."
        )
    for new, old in zip(new_vars, old_vars):
        if tuple(new.shape) != tuple(old.shape):
            raise ValueError(
                f"variable '{new.name}' has shape {tuple(new.shape)} here and "
                f"{tuple(old.shape)} in the previous model."
            )
    trained = {id(v) for v in model.training_state.trained_variables(model)}
    optimizers, copies, row_copies = {}, [], []
    variables, slots = len(new_vars), 0
    for new, old in zip(new_vars, old_vars):
        copies.append((new, old))
        if id(new) in trained:
            new_opt, old_opt = _optimizer(model, new), _optimizer(previous, old)
            optimizers[id(new_opt)] = (new_opt, old_opt)
            new_slots = keras_compat.slot_variables(new_opt, new)
            old_slots = keras_compat.slot_variables(old_opt, old)
            names = sorted(set(new_slots) & set(old_slots))
            copies += [(new_slots[k], old_slots[k]) for k in names]
            slots += len(names)
    for layer, old, rows in stacks:
        new_parts = keras_compat.shards(layer.embeddings)
        old_parts = keras_compat.shards(old.embeddings)
        row_copies.append((new_parts, old_parts, rows))
        variables += len(new_parts)
        new_opt, old_opt = _optimizer(model, new_parts[0]), _optimizer(previous, old_parts[0])
        optimizers[id(new_opt)] = (new_opt, old_opt)
        new_slots = [keras_compat.slot_variables(new_opt, p) for p in new_parts]
        old_slots = [keras_compat.slot_variables(old_opt, p) for p in old_parts]
        names = sorted(set(new_slots[0]) & set(old_slots[0]))
        row_copies += [([s[k] for s in new_slots], [s[k] for s in old_slots], rows) for k in names]
        slots += len(names)
    # everything is checked: copy
    for new, old in copies:
        new.assign(np.asarray(old.numpy()))
    for new_parts, old_parts, rows in row_copies:
        _copy_rows(new_parts, old_parts, rows)
    steps = 0
    for new_opt, old_opt in optimizers.values():
        steps = int(old_opt.iterations.numpy())
        new_opt.iterations.assign(steps)
    return {
        "tables": tables,
        "variables": variables,
        "slots": slots,
        "iterations": steps,
    }
