"""The MNIST judge and its scores: shipped weights, FID sanity (real << blurred << noise), class histogram,
conditional accuracy, and the Trainer evaluator."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from ganlab import quality
from ganlab.config import TrainConfig
from ganlab.data import Dataset
from ganlab.engine.trainer import Trainer
from ganlab.viz import image_gan as image_gan_viz


@pytest.fixture(scope="module")
def digits():
    quality.prepare()  # one-time: torchmetrics import (it pulls in torchvision) and the reference statistics
    x, y = (torch.from_numpy(a) for a in quality.embedded_digits())
    tr, te = quality.split_indices()
    return x[tr], y[tr], x[te], y[te]


def test_shipped_weights_small_safe_and_as_accurate_as_recorded(digits):
    assert quality.WEIGHTS.stat().st_size <= 2 * 2**20
    state = torch.load(quality.WEIGHTS, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    info = json.loads(quality.WEIGHTS.with_suffix(".json").read_text())
    _, _, x_te, y_te = digits
    acc = float((quality.predict(x_te) == y_te).float().mean())
    assert acc == pytest.approx(info["heldout_accuracy"], abs=1e-3) and acc >= 0.97


def test_split_is_fixed_stratified_and_disjoint():
    tr, te = quality.split_indices()
    _, y = quality.embedded_digits()
    assert len(tr) == 4000 and len(te) == 1000 and not set(tr) & set(te)
    assert np.bincount(y[te]).tolist() == [100] * 10
    np.testing.assert_array_equal(te, quality.split_indices()[1])


def test_fid_real_much_better_than_blurred_and_noise(digits):
    x_tr, _, x_te, _ = digits
    g = torch.Generator().manual_seed(0)
    real = quality.reference_fid(x_te)
    blurred = quality.reference_fid(F.avg_pool2d(x_te, 5, stride=1, padding=2, count_include_pad=False))
    noise = quality.reference_fid(torch.rand(1000, 1, 28, 28, generator=g) * 2 - 1)
    assert real < 5 and blurred > 20 * real and noise > 2 * blurred, (real, blurred, noise)
    # two disjoint real sets: small, and far below noise
    heldout_vs_train = quality.feature_fid(x_tr[::2], x_te)  # 200 of each class
    assert heldout_vs_train < 10 and noise > 50 * heldout_vs_train


def test_fid_matches_the_textbook_formula(digits):
    # torchmetrics does the matrix square root; check it against scipy's sqrtm on the same features
    x_tr, _, x_te, _ = digits
    a, b = x_tr[:600], x_te[:400]
    with torch.no_grad():
        fa, fb = (quality.feature_net()(x).double().numpy() for x in (a, b))
    mu_a, mu_b, s_a, s_b = fa.mean(0), fb.mean(0), np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    ref = ((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * scipy.linalg.sqrtm(s_a @ s_b).real)
    assert quality.feature_fid(a, b) == pytest.approx(ref, rel=1e-3, abs=1e-3)


def test_one_class_samples_show_one_class(digits):
    _, _, x_te, y_te = digits
    hist = quality.class_histogram(x_te[y_te == 3])
    assert hist.shape == (10,) and hist.sum() == pytest.approx(1.0)
    assert hist[3] >= 0.95 and quality.classes_present(hist) == 1
    assert quality.classes_present(quality.class_histogram(x_te)) == 10


def test_conditional_accuracy_of_real_digits(digits):
    _, _, x_te, y_te = digits
    overall, per = quality.conditional_accuracy(x_te, y_te)
    assert overall >= 0.9 and per.shape == (10,) and (per >= 0.9).all()
    s = quality.scores(x_te, y_te)  # the one-pass path the evaluator uses agrees with the separate functions
    assert s["cond_accuracy"] == overall and s["cond_per_class"] == per.tolist()
    np.testing.assert_allclose(s["class_hist"], quality.class_histogram(x_te))
    # asking for the wrong class scores near zero; classes never asked for are NaN
    wrong, per_wrong = quality.conditional_accuracy(x_te[y_te == 1], torch.full((100,), 7))
    assert wrong < 0.1 and math.isnan(per_wrong[0]) and not math.isnan(per_wrong[7])


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        quality.feature_fid(torch.zeros(10, 1, 8, 8), torch.zeros(10, 1, 8, 8))
    with pytest.raises(ValueError, match="at least 2"):
        quality.reference_fid(torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="labels"):
        quality.conditional_accuracy(torch.zeros(4, 1, 28, 28), torch.zeros(3))
    nan = torch.zeros(50, 1, 28, 28)
    nan[3] = float("nan")  # a diverged G: the score says NaN instead of crashing the run
    assert math.isnan(quality.reference_fid(nan))


def _digit_trainer(conditional: bool, data: str = "mnist") -> Trainer:
    x, y = (torch.from_numpy(a[:512]) for a in quality.embedded_digits())
    cfg = TrainConfig(data=data, model="mlp", conditional=conditional, z_dim=8, g_width=32, d_width=32,
                      batch_size=32, log_every=2, device="cpu", seed=0)
    return Trainer(cfg, dataset=Dataset(data, x, y, n_classes=10))


def test_evaluator_fills_columns_every_nth_interval():
    t = _digit_trainer(conditional=True)
    assert quality.attach(t, every=2, n=200)
    assert t.history.columns[-13:] == ("fid", "classes_present", *quality.CLASS_COLUMNS, "cond_acc")
    t.step(8)  # 4 logging intervals: scored at the 1st and 3rd
    h = t.history.arrays()
    assert np.isfinite(h["fid"][[0, 2]]).all() and np.isnan(h["fid"][[1, 3]]).all()
    assert (h["fid"][[0, 2]] > 50).all()  # an untrained G draws nothing like digits
    assert ((0 <= h["cond_acc"][[0, 2]]) & (h["cond_acc"][[0, 2]] <= 1)).all()
    assert set(h["classes_present"][[0, 2]]) <= set(range(11))
    shares = np.stack([h[c] for c in quality.CLASS_COLUMNS], 1)  # (rows, 10): the page's class histogram
    assert np.allclose(shares[[0, 2]].sum(1), 1.0, atol=1e-5) and np.isnan(shares[[1, 3]]).all()
    assert np.allclose(image_gan_viz.class_shares(h), shares[2])


def test_unscored_data_is_skipped_clearly():
    t = _digit_trainer(conditional=False, data="fashion-mnist")
    cols = t.history.columns
    assert quality.attach(t) is False and t.history.columns == cols and not t.evaluators
    assert quality.summary_metrics(t) is None
    assert not quality.applies_to("digits") and quality.applies_to("mnist", (1, 28, 28))


def test_summary_metrics_for_an_image_run():
    t = _digit_trainer(conditional=True)
    s = quality.summary_metrics(t, n=300)
    assert set(s) >= {"fid", "class_hist", "classes_present", "cond_accuracy", "cond_per_class", "n"}
    assert len(s["class_hist"]) == 10 and sum(s["class_hist"]) == pytest.approx(1.0)
    json.dumps(s)  # goes straight into the CLI's JSON summary


def test_adaptive_schedule_scores_rarely_when_training_is_cheap():
    # a tiny MLP trains a 2-step interval in milliseconds; scoring 200 samples costs far more than 10 % of
    # that, so after the first interval the evaluator waits >= 8 intervals (a power of two) before scoring again
    t = _digit_trainer(conditional=False)
    quality.attach(t, n=200)
    quality.attach(t, n=200)  # idempotent: still one evaluator
    assert sum(getattr(e, "ganlab_quality", False) for e in t.evaluators) == 1
    t.step(16)
    fid = t.history.arrays()["fid"]
    assert len(fid) == 8 and np.isfinite(fid[0]) and np.isnan(fid[1:]).all()
    assert quality._pow2_at_least(0.3) == 1 and quality._pow2_at_least(5) == 8
