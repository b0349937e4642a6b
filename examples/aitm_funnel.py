"""Train AITM on the synthetic conversion funnel and count rows out of funnel order.

    python examples/aitm_funnel.py                                # click → purchase
    python examples/aitm_funnel.py --tasks click action purchase --purchase-after-other-rate 0
    python examples/aitm_funnel.py --calibrator-alpha 0           # without the calibrator
    python examples/aitm_funnel.py --tasks click action --action-rate 0.99   # close steps

The data come from `keras_mtl.data.funnel_data` (seeded; no download): the
first 80% of the rows train, the rest test. Prints each step's test AUC and
how many test rows have a later step predicted likelier than the step before
(what the behavioral expectation calibrator penalises); rows out of order
are common when consecutive steps are close (`--action-rate 0.99`) and fewer
with the calibrator than with `--calibrator-alpha 0`.
"""

import os
import sys

import numpy as np

import keras_mtl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/, also under runpy
import _funnel_common


def main(argv=None):
    parser = _funnel_common.argument_parser(__doc__)
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=["click", "purchase"],
        help="funnel steps in order, among click, action, purchase",
    )
    parser.add_argument("--calibrator-alpha", type=float, default=0.6)
    parser.add_argument("--action-rate", type=float, default=0.3)
    parser.add_argument("--purchase-after-other-rate", type=float, default=0.03)
    args = parser.parse_args(argv)
    tasks = tuple(args.tasks)
    test_df, predictions = _funnel_common.run(
        args,
        lambda features: keras_mtl.AITM(
            features,
            task_names=tasks,
            tower_units=(64, 32),
            attention_units=32,
            calibrator_alpha=args.calibrator_alpha,
        ),
        list(tasks),
        action_rate=args.action_rate,
        purchase_after_other_rate=args.purchase_after_other_rate,
    )
    aucs = {t: keras_mtl.evaluation.roc_auc(test_df[t], predictions[t]) for t in tasks}
    for task, auc in aucs.items():
        print(f"test AUC {task}: {auc:.4f}")
    out_of_order = {
        f"{later}>{earlier}": int(np.sum(predictions[later] > predictions[earlier]))
        for earlier, later in zip(tasks[:-1], tasks[1:])
    }
    for pair, count in out_of_order.items():
        print(f"test rows with {pair}: {count} of {len(test_df)}")
    return {"auc": aucs, "out_of_order": out_of_order}


if __name__ == "__main__":
    main(sys.argv[1:])
