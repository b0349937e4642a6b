"""keras_mtl weighting inside a TFRS model (tf_keras 2); the import error on Keras 3.

TensorFlow Recommenders imports only under `TF_USE_LEGACY_KERAS=1`, so the
tests below depend on the flavour of the run: the legacy run trains a tiny
retrieval + ranking model, the Keras 3 run checks the error that tells users
how to get there.
"""

import importlib.util
import os
import re

import numpy as np
import pytest
import tensorflow as tf

LEGACY_KERAS = tf.keras.__name__.startswith("tf_keras")

if not LEGACY_KERAS:

    def test_import_on_keras_3_says_how_to_enable_it():
        with pytest.raises(ImportError) as info:
            import keras_mtl.integrations.tfrs  # noqa: F401
        message = str(info.value)
        assert "TF_USE_LEGACY_KERAS=1" in message
        assert 'pip install "keras_mtl[tfrs]"' in message
        assert tf.keras.__name__ in message

else:
    import tensorflow_recommenders as tfrs

    import keras_mtl
    from keras_mtl.integrations.tfrs import MultiTaskRecommender

    TASK_TYPES = {"retrieval": "binary", "click": "binary", "rating": "regression"}
    BATCH = {
        "user_id": np.array([0, 1, 2, 3, 1, 2], dtype="int64"),
        "item_id": np.array([4, 0, 3, 1, 2, 0], dtype="int64"),
        "click": np.array([1, 0, 1, 1, 0, 1], dtype="float32"),
        "rating": np.array([4.0, 2.0, 5.0, 3.0, 1.0, 4.5], dtype="float32"),
    }

    class TinyRecommender(MultiTaskRecommender):
        """Shared embeddings → retrieval dot product + MMoE click / rating heads."""

        def __init__(
            self, shared_layers=("user_embedding", "item_embedding"), with_representation=True
        ):
            super().__init__(task_types=TASK_TYPES, shared_layers=shared_layers)
            self.with_representation = with_representation
            self.user_embedding = tf.keras.layers.Embedding(4, 3)
            self.item_embedding = tf.keras.layers.Embedding(5, 3)
            self.experts = keras_mtl.layers.ExpertLayer(2, (4,))
            self.gates = {
                t: keras_mtl.layers.GateLayer(2, name=f"gate_{t}") for t in ("click", "rating")
            }
            self.heads = {
                t: tf.keras.layers.Dense(1, name=f"head_{t}") for t in ("click", "rating")
            }
            self.retrieval_task = tfrs.tasks.Retrieval()
            self.click_task = tfrs.tasks.Ranking(
                tf.keras.losses.BinaryCrossentropy(from_logits=True)
            )
            self.rating_task = tfrs.tasks.Ranking(tf.keras.losses.MeanSquaredError())

        def call(self, features, training=False):
            user = self.user_embedding(features["user_id"])  # (B, 3)
            item = self.item_embedding(features["item_id"])  # (B, 3)
            z = tf.concat([user, item], axis=-1)  # (B, 6)
            experts = self.experts(z, training=training)  # (B, 2, 4)
            logits = {t: self.heads[t](self.gates[t]([z, experts])) for t in self.heads}
            return z, logits

        def compute_task_losses(self, features, training=False):
            z, logits = self(features, training=training)
            losses = {
                "retrieval": self.retrieval_task(z[:, :3], z[:, 3:]),
                "click": self.click_task(features["click"][:, None], logits["click"]),
                "rating": self.rating_task(features["rating"][:, None], logits["rating"]),
            }
            return (losses, z) if self.with_representation else losses

    def fit(model, weighting, epochs=1):
        model.compile(optimizer=tf.keras.optimizers.SGD(0.05), weighting=weighting)
        data = tf.data.Dataset.from_tensors(BATCH)  # one batch an epoch
        return model.fit(data, epochs=epochs, verbose=0).history

    def test_task_losses_match_a_hand_computation():
        model = TinyRecommender()
        z, logits = (tf.nest.map_structure(np.asarray, out) for out in model(BATCH))
        losses, _ = model.compute_task_losses(BATCH)
        user, item = z[:, :3].astype("float64"), z[:, 3:].astype("float64")
        scores = user @ item.T  # (B, B): in-batch softmax, row i's positive is i
        log_softmax = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        retrieval = -np.trace(log_softmax)  # TFRS sums over the batch
        p = 1.0 / (1.0 + np.exp(-logits["click"][:, 0].astype("float64")))
        y = BATCH["click"]
        click = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        rating = np.mean((BATCH["rating"] - logits["rating"][:, 0]) ** 2)
        np.testing.assert_allclose(
            [float(losses[t]) for t in ("retrieval", "click", "rating")],
            [retrieval, click, rating],
            rtol=1e-5,
        )
        assert np.isfinite(z).all() and all(np.isfinite(v).all() for v in logits.values())

    def test_fixed_weights_total_is_the_weighted_sum_of_logged_losses():
        weights = {"retrieval": 0.5, "click": 2.0, "rating": 1.5}
        model = TinyRecommender()
        expected = model.compute_task_losses(BATCH)[0]  # before the only step
        logs = fit(model, keras_mtl.weighting.FixedWeights(weights))
        for task, weight in weights.items():
            assert logs[f"weight_{task}"] == [weight]
            np.testing.assert_allclose(logs[f"{task}_loss"][0], float(expected[task]), rtol=1e-5)
        total = sum(weights[t] * logs[f"{t}_loss"][0] for t in weights)
        np.testing.assert_allclose(logs["loss"][0], total, rtol=1e-6)
        assert logs["regularization_loss"] == [0.0]
        # the compute_loss of TFRS' contract is the same combination, after the step
        after = model.compute_task_losses(BATCH)[0]
        np.testing.assert_allclose(
            float(model.compute_loss(BATCH)),
            sum(weights[t] * float(after[t]) for t in weights),
            rtol=1e-6,
        )

    def test_epoch_losses_weigh_batches_by_their_rows():
        model = TinyRecommender()
        model.compile(optimizer="sgd")
        first = {k: v[:4] for k, v in BATCH.items()}
        last = {k: v[4:] for k, v in BATCH.items()}
        per_batch = [model.compute_task_losses(b)[0] for b in (first, last)]
        logs = model.evaluate(
            tf.data.Dataset.from_tensor_slices(BATCH).batch(4), return_dict=True, verbose=0
        )
        for task in ("click", "rating"):  # means over rows: the 6-row batch's loss
            np.testing.assert_allclose(
                logs[f"{task}_loss"], float(model.compute_task_losses(BATCH)[0][task]), rtol=1e-5
            )
        expected = (4 * float(per_batch[0]["retrieval"]) + 2 * float(per_batch[1]["retrieval"])) / 6
        np.testing.assert_allclose(logs["retrieval_loss"], expected, rtol=1e-5)

    def test_uncertainty_weighting_total_has_its_closed_form_and_weights_move():
        strategy = keras_mtl.weighting.UncertaintyWeighting()
        logs = fit(TinyRecommender(), strategy, epochs=3)
        scale = {"retrieval": 1.0, "click": 1.0, "rating": 0.5}
        for epoch in range(3):
            # weight_k = c_k e^{-s_k}, total = Σ weight_k L_k + ½ s_k
            s = {t: -np.log(logs[f"weight_{t}"][epoch] / scale[t]) for t in scale}
            total = sum(
                logs[f"weight_{t}"][epoch] * logs[f"{t}_loss"][epoch] + 0.5 * s[t] for t in scale
            )
            np.testing.assert_allclose(logs["loss"][epoch], total, rtol=1e-5)
        assert [logs[f"weight_{t}"][0] for t in scale] == [1.0, 1.0, 0.5]
        for task in scale:
            assert logs[f"weight_{task}"][2] != logs[f"weight_{task}"][0]
            assert float(strategy.log_variances[task]) != 0.0

    def test_dwa_weights_follow_the_logged_epoch_losses():
        logs = fit(TinyRecommender(), keras_mtl.weighting.DWA(temperature=2.0), epochs=3)
        tasks = list(TASK_TYPES)
        assert all(logs[f"weight_{t}"][:2] == [1.0, 1.0] for t in tasks)
        ratio = np.array([logs[f"{t}_loss"][1] / logs[f"{t}_loss"][0] for t in tasks])
        expected = 3 * np.exp(ratio / 2.0) / np.exp(ratio / 2.0).sum()
        np.testing.assert_allclose([logs[f"weight_{t}"][2] for t in tasks], expected, rtol=1e-5)

    @pytest.mark.parametrize("name", ["PCGrad", "GradNorm", "MGDA"])
    def test_gradient_strategies_train_on_the_shared_layers(name):
        options = {"iterations": 5} if name == "MGDA" else {}  # Frank-Wolfe steps, traced
        strategy = getattr(keras_mtl.weighting, name)(**options)
        model = TinyRecommender()
        model(BATCH)
        before = model.user_embedding.embeddings.numpy()
        logs = fit(model, strategy, epochs=2)
        weights = np.array([logs[f"weight_{t}"][1] for t in TASK_TYPES])
        total = sum(w * logs[f"{t}_loss"][1] for w, t in zip(weights, TASK_TYPES))
        np.testing.assert_allclose(logs["loss"][1], total, rtol=1e-5)
        expected_sum = {"PCGrad": 3.0, "GradNorm": 3.0, "MGDA": 1.0}[name]
        np.testing.assert_allclose(weights.sum(), expected_sum, rtol=1e-5)
        after = model.user_embedding.embeddings.numpy()
        assert np.isfinite(after).all() and not np.allclose(after, before)

    def test_gradient_strategies_name_what_the_model_lacks():
        with pytest.raises(ValueError, match="shared_layers"):
            TinyRecommender(shared_layers=()).compile(weighting=keras_mtl.weighting.PCGrad())
        with pytest.raises(ValueError, match=r"\(task_losses, z\)"):
            fit(TinyRecommender(with_representation=False), keras_mtl.weighting.MGDA())
        with pytest.raises(ValueError, match="not a layer attribute"):
            fit(TinyRecommender(shared_layers=("towers",)), keras_mtl.weighting.PCGrad())

    def test_wrong_task_losses_are_reported():
        class Partial(TinyRecommender):
            def compute_task_losses(self, features, training=False):
                return {"click": super().compute_task_losses(features)[0]["click"]}

        with pytest.raises(ValueError, match=r"Received: \['click'\]"):
            fit(Partial(), keras_mtl.weighting.FixedWeights())

    def test_checkpoint_restores_outputs_and_strategy_state(tmp_path):
        model = TinyRecommender()
        fit(model, keras_mtl.weighting.UncertaintyWeighting(), epochs=2)
        path = model.save_weights(str(tmp_path / "ckpt")) or str(tmp_path / "ckpt")
        restored = TinyRecommender()
        restored(BATCH)
        restored.compile(
            optimizer=tf.keras.optimizers.SGD(0.05),
            weighting=keras_mtl.weighting.UncertaintyWeighting(),
        )
        restored.load_weights(path).expect_partial()
        for got, want in zip(tf.nest.flatten(restored(BATCH)), tf.nest.flatten(model(BATCH))):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        for task in TASK_TYPES:
            np.testing.assert_allclose(
                float(restored.weighting.log_variances[task]),
                float(model.weighting.log_variances[task]),
                rtol=1e-6,
            )
            assert float(model.weighting.log_variances[task]) != 0.0

    def test_example_trains_every_task():
        path = os.path.join(
            os.path.dirname(__file__), "..", "..", "examples", "tfrs_ranking_retrieval.py"
        )
        spec = importlib.util.spec_from_file_location("tfrs_ranking_retrieval", path)
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)
        logs = example.main(
            ["--rows", "3000", "--epochs", "2", "--num-users", "50", "--num-items", "60"]
        )
        top10 = logs["factorized_top_k/top_10_categorical_accuracy"]
        top50 = logs["factorized_top_k/top_50_categorical_accuracy"]
        assert 0.0 <= top10 <= top50 <= 1.0
        assert 0.5 < logs["click_auc"] <= 1.0
        assert np.isfinite(logs["rating_rmse"])

    def test_docs_example_runs():
        root = os.path.join(os.path.dirname(__file__), "..", "..")
        text = open(os.path.join(root, "docs", "tfrs.md"), encoding="utf-8").read()
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        assert len(blocks) == 1, "docs/tfrs.md should hold one python example"
        namespace = {}
        exec(compile(blocks[0], "docs/tfrs.md", "exec"), namespace)
        model = namespace["model"]
        assert {
            "loss",
            "retrieval_loss",
            "rating_loss",
            "weight_retrieval",
            "weight_rating",
        } <= set(namespace["history"].history)
        # evaluate holds the weights still: its loss is UW's closed form exactly
        logs = model.evaluate(namespace["data"], return_dict=True, verbose=0)
        s = {t: float(model.weighting.log_variances[t]) for t in ("retrieval", "rating")}
        scale = {"retrieval": 1.0, "rating": 0.5}
        for task in s:
            assert s[task] != 0.0
            np.testing.assert_allclose(
                logs[f"weight_{task}"], scale[task] * np.exp(-s[task]), rtol=1e-6
            )
        np.testing.assert_allclose(
            logs["loss"],
            sum(scale[t] * np.exp(-s[t]) * logs[f"{t}_loss"] + 0.5 * s[t] for t in s),
            rtol=1e-5,
        )
