"""Train ESM² on the synthetic funnel: click, click-and-cart, click-and-buy over all impressions.

    python examples/esm2_funnel.py

The data come from `keras_mtl.data.funnel_data` (seeded; no download): the
first 80% of the rows train, the rest test. ESM² trains on ctr (label click),
ctavr (action) and ctcvr (purchase); it also predicts the post-click
conversion rate `cvr = p(buy | click)`, which no label supervises directly.
Prints the test AUC of each trained output and of cvr on the clicked rows.
"""

import os
import sys

import keras_mtl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/, also under runpy
import _funnel_common

LABELS = {"ctr": "click", "ctavr": "action", "ctcvr": "purchase"}


def main(argv=None):
    args = _funnel_common.argument_parser(__doc__).parse_args(argv)
    test_df, predictions = _funnel_common.run(
        args, lambda features: keras_mtl.ESM2(features, tower_units=(64, 32)), LABELS
    )
    aucs = {
        task: keras_mtl.evaluation.roc_auc(test_df[column], predictions[task])
        for task, column in LABELS.items()
    }
    clicked = (test_df["click"] == 1).to_numpy()
    aucs["cvr_on_clicks"] = keras_mtl.evaluation.roc_auc(
        test_df["purchase"][clicked], predictions["cvr"][clicked]
    )
    for name, auc in aucs.items():
        print(f"test AUC {name}: {auc:.4f}")
    return aucs


if __name__ == "__main__":
    main(sys.argv[1:])
