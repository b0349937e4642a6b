"""A model's named inputs and the sample rows exports check and warm up with."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.export import serving_inputs


def test_named_inputs_of_a_dict_input_model():
    price = tf.keras.Input((1,), name="price")
    color = tf.keras.Input((), dtype="string", name="color")
    model = tf.keras.Model({"price": price, "color": color}, {"ctr": price})
    inputs = serving_inputs.named_inputs(model)
    assert sorted(inputs) == ["color", "price"] and inputs["price"] is model.input["price"]
    plain = tf.keras.Model(price, price)
    with pytest.raises(ValueError, match="expected a model with named inputs"):
        serving_inputs.named_inputs(plain)


def test_num_rows_and_head():
    rows = {"price": np.arange(5.0), "tags": np.zeros((5, 3), "int64")}
    assert serving_inputs.num_rows(rows) == 5
    first = serving_inputs.head(rows, 2)
    np.testing.assert_array_equal(first["price"], [0.0, 1.0])
    assert first["tags"].shape == (2, 3)
    assert serving_inputs.num_rows(serving_inputs.head(rows, 9)) == 5  # fewer rows than asked
    for bad, counts in (
        ({"price": np.arange(5.0), "tags": np.zeros(4)}, "{'price': 5, 'tags': 4}"),
        ({"price": np.zeros(0)}, "{'price': 0}"),
        ({}, "{}"),
    ):
        with pytest.raises(ValueError, match=re.escape(f"Received row counts {counts}")):
            serving_inputs.num_rows(bad)
