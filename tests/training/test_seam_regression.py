"""Training numbers equal those recorded before the training seam was reorganised.

`seam_reference.json` was written by `python -m tests.training.seam_reference`
on commit b6b599c (before `TrainingState`), once per Keras version, and
re-recorded after c714466, which stacks the tables of one width into one
variable (`StackedEmbedding`): the MMoE and PLE cases then have one weight
fewer (color's and item's tables are one) drawn differently at the start, so
their numbers moved; the TFRS cases, whose tables are their own, came out
as recorded on b6b599c (within this test's tolerance). Each case
trains a seeded model a few steps (MMoE and PLE under several weighting
strategies and optimizer groups; the TFRS example under tf_keras) and
records its logs, evaluation, predictions and the squared norm of every
weight after training, so a change to outputs, losses or gradients shows.
"""

import json
import os

import numpy as np
import pytest

from tests.training import seam_reference

with open(os.path.join(os.path.dirname(__file__), "seam_reference.json")) as _file:
    RECORDED = json.load(_file)[seam_reference.FLAVOUR]


def _close(actual, expected, where):
    np.testing.assert_allclose(actual, expected, rtol=2e-5, atol=1e-6, err_msg=where)


@pytest.mark.parametrize("case", sorted(seam_reference.cases()))
def test_training_numbers_are_unchanged(case):
    expected = RECORDED[case]
    actual = seam_reference.cases()[case]()
    for section in ("history", "evaluate", "predictions"):
        for key, values in expected.get(section, {}).items():
            assert key in actual[section], f"{case}: {section} lost {key!r}"
            _close(actual[section][key], values, f"{case} {section} {key}")
    _close(actual["weights_sq"], expected["weights_sq"], f"{case} weights")


def test_every_case_was_recorded():
    assert sorted(RECORDED) == sorted(seam_reference.cases())
