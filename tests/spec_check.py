"""Checks shared by the feature-spec tests (SparseFeat, VarLenSparseFeat, DenseFeat).

`check_invalid_arguments(subtests, make, name, cases)` asserts that
`make(name, **kwargs)` raises a ValueError matching each case's message and
naming the feature. `check_config_round_trip(subtests, specs)` asserts that
each spec's config has one key per dataclass field, is plain JSON, and
rebuilds an equal spec.
"""

import dataclasses
import json

import pytest


def check_invalid_arguments(subtests, make, name, cases):
    for kwargs, message in cases:
        with subtests.test(**kwargs):
            with pytest.raises(ValueError, match=message) as info:
                make(name, **kwargs)
            assert f"Feature '{name}'" in str(info.value)


def check_config_round_trip(subtests, specs):
    for spec in specs:
        with subtests.test(spec=spec.name):
            config = spec.get_config()
            assert set(config) == {f.name for f in dataclasses.fields(type(spec))}
            restored = type(spec).from_config(json.loads(json.dumps(config)))
            assert restored == spec
