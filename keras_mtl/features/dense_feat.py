"""Spec of a numeric feature."""

import dataclasses
import math
from typing import Optional

from keras_mtl.features import names


@dataclasses.dataclass(frozen=True)
class DenseFeat:
    """A numeric feature of `dimension` float values per row.

    Optional in-graph preprocessing, applied in this order: `log1p`
    (sign(x)·log(1 + |x|), for heavy-tailed counts and amounts), then
    standardisation `(x - mean) / sqrt(variance)`. With `normalize=True` and no
    statistics given, `keras_mtl.features.adapt` computes them from training
    data; serving then takes the raw values.

    Args:
        name: input name (the DataFrame column and the serving input key);
            see `keras_mtl.features.names` for the characters it may hold.
        dimension: values per row; 1 means a scalar column.
        log1p: apply the signed log1p transform first.
        normalize: standardise with `mean` / `variance`.
        mean: per-feature mean (after log1p), or None until adapted.
        variance: per-feature variance (after log1p), or None until adapted.

    Example:
    >>> DenseFeat("age", normalize=True, mean=40.0, variance=100.0).dimension
    1
    """

    name: str
    dimension: int = 1
    log1p: bool = False
    normalize: bool = False
    mean: Optional[float] = None
    variance: Optional[float] = None

    def __post_init__(self):
        names.check_name(self.name)
        if not isinstance(self.dimension, int) or self.dimension < 1:
            raise ValueError(
                f"Feature '{self.name}': expected a positive integer. "
                f"Received: dimension={self.dimension!r}"
            )
        if (self.mean is None) != (self.variance is None):
            raise ValueError(
                f"Feature '{self.name}': expected both mean and variance or "
                f"neither. Received: mean={self.mean!r}, "
                f"variance={self.variance!r}"
            )
        if self.variance is not None:
            if not math.isfinite(self.variance) or self.variance < 0:
                raise ValueError(
                    f"Feature '{self.name}': expected a finite variance >= 0. "
                    f"Received: variance={self.variance!r}"
                )
            if not math.isfinite(self.mean):
                raise ValueError(
                    f"Feature '{self.name}': expected a finite mean. "
                    f"Received: mean={self.mean!r}"
                )
            object.__setattr__(self, "mean", float(self.mean))
            object.__setattr__(self, "variance", float(self.variance))
            object.__setattr__(self, "normalize", True)

    @property
    def is_adapted(self):
        """False while `normalize=True` still lacks its statistics."""
        return not self.normalize or self.mean is not None

    def replace(self, **changes):
        """A copy with `changes` applied (specs are immutable)."""
        return dataclasses.replace(self, **changes)

    def get_config(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)
