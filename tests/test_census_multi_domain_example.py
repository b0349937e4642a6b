"""The multi-domain census example: STAR (and STAR+MAMDR) per class of worker, AUC per domain."""

import os
import runpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_census_multi_domain_example_scores_each_domain_and_exports(tmp_path):
    module = runpy.run_path(os.path.join(ROOT, "examples", "census_multi_domain.py"))
    table = module["main"](
        [
            "--epochs",
            "6",
            "--learning-rate",
            "0.003",
            "--mamdr",
            "--export-dir",
            str(tmp_path / "star"),
        ]
    )
    assert table.index[0] == "Not in universe" and table.index[-1] == "all"
    assert "(rare values: unknown domain)" in table.index  # served by shared weights
    overall = table.loc["all"]
    assert overall[("STAR", "income_auc")] > 0.8  # a constant predictor has 0.5
    assert overall[("STAR", "never_married_auc")] > 0.9
    # --mamdr reports the model trained by MAMDR beside it (income / never married
    # 0.842 / 0.924 on Keras 3, 0.841 / 0.899 on tf_keras when written)
    assert overall[("STAR+MAMDR", "income_auc")] > 0.8
    assert overall[("STAR+MAMDR", "never_married_auc")] > 0.85
    assert overall[("test rows", "")] == 1000
    assert os.path.isfile(tmp_path / "star" / "1" / "saved_model.pb")
