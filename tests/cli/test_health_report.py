"""The text lines of an expert-health report."""

from keras_mtl.cli import health_report

HEALTH = {
    "gates": [
        {"title": "mmoe gates", "rows": ["ctr", "cvr"], "normalized_entropy": [0.5, 0.125]},
    ],
    "experts": [
        {
            "title": "experts",
            "columns": ["expert 0", "expert 1"],
            "zero_fraction": [0.25, 1.0],
            "dead_fraction": [0.0, 0.75],
        }
    ],
}


def test_lines_per_gate_table_and_expert_group():
    assert health_report.gate_lines(HEALTH) == [
        "gate entropy (mmoe gates, 1 = uniform): ctr 0.50; cvr 0.12"
    ]
    assert health_report.expert_lines(HEALTH) == [
        "expert health (experts, zero outputs / dead units): expert 0 0.25/0.00; expert 1 1.00/0.75"
    ]
    assert health_report.gate_lines({"gates": [], "experts": []}) == []
