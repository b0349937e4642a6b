"""refresh_vocabularies: kept ids keep their index, new ids are admitted, the budget holds."""

import pandas as pd
import pytest

from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from keras_mtl.features import VocabularyReport
from keras_mtl.features import adapt
from keras_mtl.features import refresh_vocabularies
from keras_mtl.features.serialization import deserialize_features
from keras_mtl.features.serialization import serialize_features


def _city(vocabulary=("a", "b", "c"), **kwargs):
    return SparseFeat("city", vocabulary=vocabulary, **kwargs)


def test_without_budget_new_ids_append_and_old_ones_stay():
    (city,), report = refresh_vocabularies([_city()], pd.DataFrame({"city": ["b", "d", "d", "e"]}))
    assert city.vocabulary == ("a", "b", "c", "d", "e")  # d before e: seen more often
    assert city.counts == (0, 1, 0, 2, 1)
    assert city.last_seen == (0, 1, 0, 1, 1)
    assert city.refreshes == 1
    assert city.refresh_counts == (3, 2, 0, 0)  # kept, admitted, evicted, rejected
    assert report.refresh == 1
    assert report.tables["city"] == dict(
        kept=3, admitted=2, evicted=0, rejected=0, rows=5, max_tokens=None
    )


def test_budget_evicts_least_recent_then_least_frequent_and_reuses_their_rows():
    spec = _city(("a", "b", "c", "d"), counts=(5, 1, 9, 2), last_seen=(1, 1, 0, 1), refreshes=1)
    df = pd.DataFrame({"city": ["x", "x", "x", "a", "y"]})
    (city,), report = refresh_vocabularies([spec], df, max_tokens=4)
    # ranking: seen now (refresh 2): a (6), x (3), y (1); then refresh 1: d (2), b (1);
    # then refresh 0: c. Top 4: a, x, d, y -> b and c evicted, x and y take their rows
    assert city.vocabulary == ("a", "x", "y", "d")
    assert city.counts == (6, 3, 1, 2)
    assert city.last_seen == (2, 2, 2, 1)
    assert report.tables["city"]["evicted"] == 2
    assert report.tables["city"]["admitted"] == 2
    assert report.tables["city"]["kept"] == 2
    assert len(city.vocabulary) <= 4


def test_kept_ids_never_move_and_the_budget_holds_over_many_refreshes():
    spec = _city(tuple(f"u{i}" for i in range(10)))
    for day in range(1, 8):
        ids = [f"u{i}" for i in range(day * 3, day * 3 + 12)] * 2
        (new,), report = refresh_vocabularies([spec], pd.DataFrame({"city": ids}), max_tokens=15)
        assert len(new.vocabulary) <= 15
        assert len(set(new.vocabulary)) == len(new.vocabulary)
        for i, value in enumerate(spec.vocabulary):
            if value in new.vocabulary:
                assert new.vocabulary.index(value) == i
        counts = report.tables["city"]
        assert counts["kept"] + counts["evicted"] == len(spec.vocabulary)
        assert counts["kept"] + counts["admitted"] == len(new.vocabulary)
        assert new.refreshes == day
        spec = new


def test_min_frequency_keeps_rare_new_ids_out():
    df = pd.DataFrame({"city": ["d", "d", "e", "a"]})
    (city,), report = refresh_vocabularies([_city()], df, min_frequency=2)
    assert city.vocabulary == ("a", "b", "c", "d")
    assert report.tables["city"]["rejected"] == 1


def test_a_smaller_budget_fills_holes_with_the_last_entries():
    spec = _city(("a", "b", "c", "d", "e"), last_seen=(1, 0, 1, 1, 1), refreshes=1)
    (city,), report = refresh_vocabularies([spec], pd.DataFrame({"city": ["e"]}), max_tokens=3)
    # ranking: e (now), then a, c, d (refresh 1, count 0, by value) -> keep e, a, c
    assert sorted(city.vocabulary) == ["a", "c", "e"]
    assert city.vocabulary[:1] == ("a",)
    assert report.tables["city"]["evicted"] == 2


def test_shared_tables_refresh_together_and_other_features_pass_through():
    specs = [
        SparseFeat("item", vocabulary=(1, 2)),
        VarLenSparseFeat("history", maxlen=3, vocabulary=(1, 2), embedding_name="item"),
        SparseFeat("user", hash_bins=7),
        DenseFeat("age"),
    ]
    df = pd.DataFrame(
        {
            "item": [3, 3],
            "history": [[2, 4, 0], [4, 0, 0]],
            "user": ["u", "v"],
            "age": [1.0, 2.0],
        }
    )
    out, report = refresh_vocabularies(specs, df)
    assert out[0].vocabulary == out[1].vocabulary == (1, 2, 3, 4)
    assert out[0].counts == out[1].counts == (0, 1, 2, 2)
    assert out[2] is specs[2] and out[3] is specs[3]
    assert set(report.tables) == {"item"}


def test_per_table_budgets_and_state_round_trip_through_configs():
    specs = [_city(), SparseFeat("shop", vocabulary=(1, 2, 3))]
    df = pd.DataFrame({"city": ["z"], "shop": [4]})
    out, _ = refresh_vocabularies(specs, df, max_tokens={"city": 3, "shop": None})
    assert len(out[0].vocabulary) == 3 and len(out[1].vocabulary) == 4
    assert deserialize_features(serialize_features(out)) == out


def test_the_report_prints_a_table():
    _, report = refresh_vocabularies([_city()], pd.DataFrame({"city": ["d"]}))
    assert isinstance(report, VocabularyReport)
    text = str(report).splitlines()
    assert text[0] == "vocabulary refresh 1"
    assert text[2].split("\t") == ["city", "3", "1", "0", "0", "4", "-"]


def test_ids_learned_by_adapt_refresh_from_a_dataframe_stream():
    (spec,) = adapt([SparseFeat("city")], pd.DataFrame({"city": ["a", "a", "b"]}))
    chunks = [pd.DataFrame({"city": ["c"]}), pd.DataFrame({"city": ["c", "a"]})]
    (city,), _ = refresh_vocabularies([spec], chunks)
    assert city.vocabulary == ("a", "b", "c")
    assert city.counts == (1, 0, 2)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        (dict(max_tokens=0), "max_tokens=0"),
        (dict(min_frequency=0), "min_frequency=0"),
        (dict(max_tokens={"nope": 3}), "['nope']"),
    ],
)
def test_bad_arguments_name_what_was_received(kwargs, received):
    with pytest.raises(ValueError, match=received.replace("[", r"\[").replace("]", r"\]")):
        refresh_vocabularies([_city()], pd.DataFrame({"city": ["a"]}), **kwargs)


def test_features_without_a_vocabulary_and_empty_data_are_refused():
    with pytest.raises(ValueError, match="adapt"):
        refresh_vocabularies([SparseFeat("city")], pd.DataFrame({"city": ["a"]}))
    with pytest.raises(ValueError, match="0 rows"):
        refresh_vocabularies([_city()], pd.DataFrame({"city": []}))


def test_state_fields_are_checked_against_the_vocabulary():
    with pytest.raises(ValueError, match="one integer >= 0 per vocabulary entry"):
        _city(counts=(1, 2))
    with pytest.raises(ValueError, match="<= refreshes=0"):
        _city(last_seen=(0, 0, 1))
    with pytest.raises(ValueError, match="without a vocabulary"):
        SparseFeat("city", hash_bins=4, counts=(1,))
