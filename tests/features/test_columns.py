"""features.columns: the DataFrame column helpers adapt and keras_mtl.data share."""

import numpy as np
import pandas as pd
import pytest

from keras_mtl.features import columns


def test_column_dtype():
    assert columns.column_dtype(pd.Series([1, 2])) == "int64"
    assert columns.column_dtype(pd.Series([True])) == "int64"
    assert columns.column_dtype(pd.Series([1.5])) == "string"
    assert columns.column_dtype(pd.Series(["a"])) == "string"


def test_require_column_names_the_feature_and_the_columns():
    df = pd.DataFrame({"b": [1], "a": [2]})
    assert columns.require_column(df, "a").tolist() == [2]
    with pytest.raises(KeyError, match=r"Feature 'c' .* Received columns: \['a', 'b'\]"):
        columns.require_column(df, "c")


def test_batch_frame():
    # as tf.data's as_numpy_iterator gives them: strings as an object array of bytes
    x = {"city": np.array([b"r\xc3\xb6m", b""], object), "seq": np.array([[1, 2], [3, 0]])}
    df = columns.batch_frame((x, {"click": np.array([1.0, 0.0])}))  # labels are left out
    assert list(df.columns) == ["city", "seq"]
    assert df["city"].tolist() == ["röm", ""]
    assert [c.tolist() for c in df["seq"]] == [[1, 2], [3, 0]]
    with pytest.raises(TypeError, match="Received elements of type ndarray"):
        columns.batch_frame(np.zeros(2))
