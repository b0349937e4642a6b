"""The SavedModel parity check: the served outputs against Keras, by batch size."""

import numpy as np
import pytest

import keras_mtl
from keras_mtl.export import saved_model_parity
from tests.export import parity_cases


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = parity_cases.model()
    base = str(tmp_path_factory.mktemp("parity") / "ranker")
    return model, keras_mtl.export.export_saved_model(model, base)


def test_the_exported_model_matches_at_batch_one_and_all_rows(exported):
    model, path = exported
    diffs = saved_model_parity.check_parity(model, path, parity_cases.examples())
    assert sorted(diffs) == [1, parity_cases.ROWS]
    assert max(diffs.values()) <= saved_model_parity.ATOL
    assert sorted(saved_model_parity.max_abs_diff(model, path, parity_cases.examples(1))) == [1]


def test_a_moved_model_differs_by_what_it_moved(exported):
    model, path = exported
    moved = parity_cases.moved(model, 0.25)
    diffs = saved_model_parity.max_abs_diff(moved, path, parity_cases.examples())
    np.testing.assert_allclose([diffs[1], diffs[parity_cases.ROWS]], [0.25, 0.25], atol=1e-6)
    with pytest.raises(
        saved_model_parity.SavedModelParityError,
        match=r"serving_default of .*ranker.1 differs from the Keras model by 0\.25 "
        r".*expected <= 1e-05",
    ):
        saved_model_parity.check_parity(moved, path, parity_cases.examples())
    # a looser tolerance accepts it
    loose = saved_model_parity.check_parity(moved, path, parity_cases.examples(), atol=0.3)
    np.testing.assert_allclose(list(loose.values()), [0.25, 0.25], atol=1e-6)


def test_rows_and_outputs_are_checked(exported):
    model, path = exported
    rows = parity_cases.examples()
    del rows["tags"]
    with pytest.raises(ValueError, match=r"examples lack inputs \['tags'\]"):
        saved_model_parity.max_abs_diff(model, path, rows)
    one_task = keras_mtl.MMoE(
        parity_cases.FEATURES, task_names=("ctr",), num_experts=2, expert_units=(4,)
    )
    with pytest.raises(
        saved_model_parity.SavedModelParityError,
        match=r"returns \['ctr', 'spend'\]; expected the model's outputs \['ctr'\]",
    ):
        saved_model_parity.max_abs_diff(one_task, path, parity_cases.examples())
