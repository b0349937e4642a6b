"""Train MetaHeac with its meta step on the synthetic funnel (click and purchase).

    python examples/metaheac_funnel.py
    python examples/metaheac_funnel.py --no-meta-learning      # the plain step, to compare

The data come from `keras_mtl.data.funnel_data` (seeded; no download): the
first 80% of the rows train, the rest test. `model.fit` runs MetaHeac's
meta step (support/query split of every batch, an inner step per task) with
no custom training loop. Prints each task's test AUC.
"""

import os
import sys

import keras_mtl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/, also under runpy
import _funnel_common

TASKS = ("click", "purchase")


def main(argv=None):
    parser = _funnel_common.argument_parser(__doc__)
    parser.add_argument("--inner-learning-rate", type=float, default=0.01)
    parser.add_argument("--no-meta-learning", dest="meta_learning", action="store_false")
    args = parser.parse_args(argv)
    test_df, predictions = _funnel_common.run(
        args,
        lambda features: keras_mtl.MetaHeac(
            features,
            task_names=TASKS,
            num_experts=4,
            expert_units=(64,),
            num_critics=3,
            critic_units=(32,),
            meta_learning=args.meta_learning,
            inner_learning_rate=args.inner_learning_rate,
        ),
        list(TASKS),
    )
    aucs = {t: keras_mtl.evaluation.roc_auc(test_df[t], predictions[t]) for t in TASKS}
    step = "meta" if args.meta_learning else "plain"
    for task, auc in aucs.items():
        print(f"test AUC {task} ({step} step): {auc:.4f}")
    return aucs


if __name__ == "__main__":
    main(sys.argv[1:])
