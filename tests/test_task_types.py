"""The one place that says what a task type and a task name may be."""

import pytest

from keras_mtl import task_types


def test_task_types_are_checked_with_the_task_named():
    assert task_types.checked_task_types({"ctr": "binary", "dwell": "regression"}) == {
        "ctr": "binary",
        "dwell": "regression",
    }
    with pytest.raises(ValueError, match=r"Task 'ctr': expected a type in .*'ranking'"):
        task_types.checked_task_types({"ctr": "ranking"})
    with pytest.raises(ValueError, match="not an output"):
        task_types.checked_task_types({"ctr": "binary"}, outputs=["cvr"])
    with pytest.raises(ValueError, match="non-empty"):
        task_types.checked_task_types({})


def test_task_names_must_be_identifiers():
    task_types.check_task_name("ctr_1")
    for bad in ("2nd", "click rate", "naïve", 3):
        with pytest.raises(ValueError, match="identifiers"):
            task_types.check_task_name(bad)
