"""ESCM²'s IPS, DR and imputation losses equal NumPy computations of their formulas."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.losses import DoublyRobustLoss
from keras_mtl.losses import ImputationLoss
from keras_mtl.losses import InversePropensityLoss

RNG = np.random.RandomState(7)
ROWS = 12
P_CTR = RNG.uniform(0.01, 0.9, ROWS).astype("float32")
P_CTR[[0, 5]] = 0.0  # clicked rows with a pCTR of 0: clipped, not divided by 0
P_CVR = RNG.uniform(0.05, 0.95, ROWS).astype("float32")
IMPUTED = RNG.uniform(0.0, 1.0, ROWS).astype("float32")
CLICK = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1], dtype="float32")
BUY = CLICK * np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0], dtype="float32")  # ctcvr
WEIGHT = np.array([1, 1, 2, 1, 0, 1, 1, 0.5, 1, 1, 1, 1], dtype="float32")  # row 4: masked
CLIP = 0.1


def inputs():
    y_pred = {
        "ctr": tf.constant(P_CTR[:, None]),
        "cvr": tf.constant(P_CVR[:, None]),
        "cvr_imputation": tf.constant(IMPUTED[:, None]),
    }
    labels = {"ctr": tf.constant(CLICK[:, None]), "ctcvr": tf.constant(BUY[:, None])}
    weights = {"ctr": tf.constant(WEIGHT), "ctcvr": tf.constant(WEIGHT)}
    return y_pred, labels, weights


def numpy_terms(weight):
    """The formulas of SPEC.md, by the impressions' weights w (Σ w = N)."""
    p = np.maximum(P_CTR.astype("float64"), CLIP)
    q = P_CVR.astype("float64")
    e = -(BUY * np.log(q) + (1 - BUY) * np.log(1 - q))  # the CVR error of a clicked row
    o, w, d = CLICK, WEIGHT.astype("float64"), IMPUTED.astype("float64")
    ips = weight * np.sum(w * o * e / p) / w.sum()
    dr = weight * np.sum(w * (d + o * (e - d) / p)) / w.sum()
    imputation = weight * np.sum(w * o * (e - d) ** 2 / p) / w.sum()
    return ips, dr, imputation


@pytest.mark.parametrize("weight", [1.0, 0.5])
def test_ips_dr_and_imputation_losses_equal_numpy(weight):
    ips, dr, imputation = numpy_terms(weight)
    kwargs = dict(weight=weight, propensity_clip=CLIP)
    assert float(InversePropensityLoss(**kwargs)(*inputs())) == pytest.approx(ips, rel=1e-5)
    assert float(DoublyRobustLoss(**kwargs)(*inputs())) == pytest.approx(dr, rel=1e-5)
    assert float(ImputationLoss(**kwargs)(*inputs())) == pytest.approx(imputation, rel=1e-5)


def test_propensity_clipping_at_zero_bounds_the_weight():
    y_pred, labels, weights = inputs()
    one = {
        "ctr": tf.constant([[0.0]]),
        "cvr": tf.constant([[0.5]]),
        "cvr_imputation": tf.constant([[0.0]]),
    }
    clicked = {"ctr": tf.constant([[1.0]]), "ctcvr": tf.constant([[1.0]])}
    ones = {"ctr": tf.ones(1), "ctcvr": tf.ones(1)}
    for clip in (0.05, 0.5, 1.0):
        value = float(InversePropensityLoss(propensity_clip=clip)(one, clicked, ones))
        assert value == pytest.approx(np.log(2) / clip, rel=1e-5)  # e / clip, finite
    with pytest.raises(ValueError, match=r"in \(0.0, 1.0\]. Received: propensity_clip=0"):
        InversePropensityLoss(propensity_clip=0)
    assert np.isfinite(float(DoublyRobustLoss()(y_pred, labels, weights)))


def test_gradients_are_stopped_where_the_formulas_say():
    y_pred, labels, weights = inputs()
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(list(y_pred.values()))
        ips = InversePropensityLoss()(y_pred, labels, weights)
        dr = DoublyRobustLoss()(y_pred, labels, weights)
        imputation = ImputationLoss()(y_pred, labels, weights)
    # the propensity never gets a gradient
    for term in (ips, dr, imputation):
        assert tape.gradient(term, y_pred["ctr"]) is None
    # DR trains the CVR tower, not the imputation; the imputation loss the opposite
    assert tape.gradient(dr, y_pred["cvr_imputation"]) is None
    assert tape.gradient(imputation, y_pred["cvr"]) is None
    # with δ̂ stopped, DR's gradient on pCVR is IPS's: o·∂e/∂q / (p̂·N) per row
    np.testing.assert_allclose(
        tape.gradient(dr, y_pred["cvr"]), tape.gradient(ips, y_pred["cvr"]), rtol=1e-6
    )
    p = np.maximum(P_CTR, 0.05)
    d_e = (P_CVR - BUY) / (P_CVR * (1 - P_CVR))  # ∂BCE/∂q
    expected = WEIGHT * CLICK * d_e / p / WEIGHT.sum()
    np.testing.assert_allclose(tape.gradient(ips, y_pred["cvr"])[:, 0], expected, rtol=1e-4)


def test_config_round_trip_and_bad_arguments():
    term = DoublyRobustLoss(
        click="click",
        conversion="buy",
        conversion_label="click_buy",
        imputation="err",
        weight=0.3,
        propensity_clip=0.2,
        name="dr",
    )
    config = tf.keras.utils.serialize_keras_object(term)
    clone = tf.keras.utils.deserialize_keras_object(config)
    assert type(clone) is DoublyRobustLoss and clone.get_config() == term.get_config()
    # without a name each term logs under its class's default_name
    defaults = [cls().name for cls in (InversePropensityLoss, DoublyRobustLoss, ImputationLoss)]
    assert defaults == ["cvr_ips_loss", "cvr_dr_loss", "imputation_loss"]
    assert ImputationLoss(name="imp").get_config()["name"] == "imp"
    with pytest.raises(ValueError, match="Received: weight=-1"):
        InversePropensityLoss(weight=-1)
    with pytest.raises(ValueError, match=r"outputs \['cvr_imputation'\] are not outputs"):
        DoublyRobustLoss().check_outputs(["ctr", "cvr", "ctcvr"])
    y_pred, labels, weights = inputs()
    with pytest.raises(ValueError, match="'click_buy' is not a trained task"):
        InversePropensityLoss(conversion_label="click_buy")(y_pred, labels, weights)
    assert keras_mtl.losses.InversePropensityLoss is InversePropensityLoss
