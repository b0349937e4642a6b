"""Feature specs to and from JSON-ready configs (what a saved model keeps)."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Optional

from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_spec import FeatureSpec
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat

_CLASSES = {cls.__name__: cls for cls in (SparseFeat, VarLenSparseFeat, DenseFeat)}


def serialize_features(features: Sequence[FeatureSpec]) -> list[dict[str, Any]]:
    """`[{"class_name": ..., "config": ...}]`, one per spec, in order."""
    out = []
    for spec in features:
        if type(spec).__name__ not in _CLASSES:
            raise TypeError(
                f"expected SparseFeat, VarLenSparseFeat or DenseFeat specs. Received a "
                f"{type(spec).__name__}."
            )
        out.append({"class_name": type(spec).__name__, "config": spec.get_config()})
    return out


def deserialize_features(configs: Sequence[Mapping[str, Any]]) -> tuple[FeatureSpec, ...]:
    """The specs of `serialize_features`' output."""
    out = []
    for item in configs:
        cls = _CLASSES.get(item.get("class_name"))
        if cls is None:
            raise ValueError(
                f"expected a feature class among {sorted(_CLASSES)}. Received: "
                f"class_name={item.get('class_name')!r}"
            )
        out.append(cls.from_config(item["config"]))
    return tuple(out)


def as_features(value: Any) -> Optional[tuple[FeatureSpec, ...]]:
    """Specs, their configs (`serialize_features`) or None, as a tuple of specs or None."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            "expected features as a list of feature specs (or their configs). "
            f"Received a {type(value).__name__}."
        )
    if value and isinstance(value[0], Mapping):
        return deserialize_features(value)
    return tuple(value)
