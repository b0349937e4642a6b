"""What `adapt` reads data through when it is neither a DataFrame nor a tf.data.Dataset."""

from collections.abc import Iterable
from collections.abc import Sequence
from typing import Protocol
from typing import runtime_checkable

import pandas as pd

from keras_mtl.features.feature_spec import FeatureSpec


@runtime_checkable
class ChunkSource(Protocol):
    """Anything whose `chunks(features)` yields the training rows as DataFrames.

    `keras_mtl.data.DataSource` (files of any format the package reads) is
    one; `adapt(features, source)` takes any other object with this method
    too, without keras_mtl.features knowing where the rows come from.

    Example:
    >>> class Parts:
    ...     def chunks(self, features):
    ...         yield pd.DataFrame({"city": ["rome", "oslo"]})
    ...         yield pd.DataFrame({"city": ["rome"]})
    >>> isinstance(Parts(), ChunkSource)
    True
    >>> keras_mtl.features.adapt([SparseFeat("city")], Parts())[0].vocabulary
    ('rome', 'oslo')
    """

    def chunks(self, features: Sequence[FeatureSpec]) -> Iterable[pd.DataFrame]:
        """DataFrames holding (at least) the features' columns."""
        ...
