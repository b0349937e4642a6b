"""Data larger than memory: TFRecord files in, tf.Example serving out.

    python examples/tfrecord_pipeline.py                 # 20k generated rows under /tmp
    python examples/tfrecord_pipeline.py --rows 2000 --dir /tmp/tfr

1. Generates ranking rows (user, item, country, price, history, click, buy)
   and writes them as TFRecord files of `tf.Example`
   (`keras_mtl.data.write_tfrecords`), as an existing TF pipeline has them.
2. Learns vocabularies, normalisation statistics and price quantile buckets
   in one streaming pass over the files (`keras_mtl.features.adapt(features,
   pattern)`); no DataFrame is needed from here on.
3. Trains an MMoE from the files (`keras_mtl.data.tfrecord_dataset`:
   interleaved reads, batch-then-parse, prefetch).
4. Exports a SavedModel with the `predict_examples` signature and serves the
   serialized records with it, checking the outputs against `serving_default`
   on the same rows.
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import pandas as pd
import tensorflow as tf

import keras_mtl


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--dir", default=None, help="where the files go (default: a temp folder)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    return parser.parse_args(argv)


def generate(rows, seed):
    rng = np.random.RandomState(seed)
    df = pd.DataFrame(
        {
            "user": rng.randint(0, 500, rows).astype("int64"),
            "item": [f"item{i}" for i in rng.zipf(1.5, rows) % 2000],
            "country": rng.choice(["DE", "FR", "US", "JP", None], rows),
            "price": rng.lognormal(2.0, 1.0, rows),
            "history": [
                [f"item{i}" for i in rng.randint(0, 50, rng.randint(0, 6))] for _ in range(rows)
            ],
        }
    )
    score = np.log(df["price"]) * -0.5 + (df["country"] == "US") * 1.0 + (df["user"] % 5 == 0)
    df["click"] = (score + rng.normal(size=rows) > -0.5).astype("float32")
    df["buy"] = ((score + rng.normal(size=rows) > 0.5) & (df["click"] > 0)).astype("float32")
    return df


FEATURES = [
    keras_mtl.SparseFeat("user", embedding_dim=8),
    keras_mtl.SparseFeat("item", embedding_dim=8),
    keras_mtl.SparseFeat("country", embedding_dim=4),
    keras_mtl.VarLenSparseFeat("history", maxlen=5, embedding_name="item", embedding_dim=8),
    keras_mtl.DenseFeat("price", log1p=True, normalize=True, buckets=8, bucket_embedding_dim=4),
]
LABELS = ["click", "buy"]


def main(argv=None):
    args = parse_args(argv)
    folder = args.dir or tempfile.mkdtemp(prefix="tfrecord_pipeline_")
    tf.keras.utils.set_random_seed(0)
    for split, rows, seed in (("train", args.rows, 0), ("test", max(args.rows // 5, 100), 1)):
        keras_mtl.data.write_tfrecords(
            generate(rows, seed),
            os.path.join(folder, split),
            FEATURES,
            LABELS,
            rows_per_file=max(rows // 4, 1),
        )
    train_files = os.path.join(folder, "train-*.tfrecord")
    test_files = os.path.join(folder, "test-*.tfrecord")

    features = keras_mtl.features.adapt(FEATURES, train_files, min_frequency=2)
    model = keras_mtl.MMoE(
        features, task_names=LABELS, num_experts=4, expert_units=(32,), tower_units=(16,)
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(0.003))
    train = keras_mtl.data.tfrecord_dataset(
        train_files,
        features,
        LABELS,
        batch_size=args.batch_size,
        shuffle=True,
        seed=0,
        num_rows=args.rows,
    )
    model.fit(train, epochs=args.epochs, verbose=2)

    test = keras_mtl.data.tfrecord_dataset(test_files, features, LABELS, batch_size=1024)
    truth = {
        task: np.concatenate([y[task] for _, y in test.as_numpy_iterator()]) for task in LABELS
    }
    predictions = model.predict(test, verbose=0)
    aucs = {task: keras_mtl.evaluation.roc_auc(truth[task], predictions[task]) for task in LABELS}
    print("test AUC: " + ", ".join(f"{task} {auc:.4f}" for task, auc in aucs.items()))

    path = keras_mtl.export.export_saved_model(
        model, os.path.join(folder, "ranker"), example_signature=True, features=features
    )
    loaded = tf.saved_model.load(path)
    records = next(iter(tf.data.TFRecordDataset(tf.io.gfile.glob(test_files)).batch(16)))
    by_examples = loaded.signatures["predict_examples"](examples=records)
    x = keras_mtl.data.parse_examples(records, features)
    by_tensors = loaded.signatures["serving_default"](**x)
    diff = max(float(np.max(np.abs(by_examples[t] - by_tensors[t]))) for t in LABELS)
    print(
        f"SavedModel {path}: predict_examples vs serving_default on 16 records: "
        f"max |diff| {diff:.1e}"
    )
    return {"auc": aucs, "max_abs_diff": diff, "path": path}


if __name__ == "__main__":
    main(sys.argv[1:])
