"""ganlab/jobs/cost/eta.py: a run's expected speed at its share of the server, and steps to the first digits."""
import pytest

from ganlab.jobs.cost import eta
from ganlab.jobs.cost.model import Speed
from ganlab.presets import PRESETS

SPEED = Speed(mac_per_s=2e10, values_per_s=2e9, call_s=5e-6)  # a fixed machine: no calibration in the test


def test_share_of_a_worker():
    assert eta.share(1, 2) == 1.0  # a lone run is never slowed
    assert eta.share(2, 2) == 1.0
    assert eta.share(30, 2) == pytest.approx(1 / 15)
    assert eta.share(0, 0) == 1.0
    assert eta.useful_share(2, 2) == 1.0  # no sharing, no cost
    assert eta.useful_share(30, 2) == pytest.approx(eta.SHARED_EFFICIENCY / 15)
    assert eta.useful_share(30, 2, stacked=True) == pytest.approx(eta.STACKED_EFFICIENCY / 15)


def test_a_stacked_run_loses_less_to_sharing_than_one_in_the_servers_threads():
    mlp, dcgan = PRESETS["mnist-mlp"].config, PRESETS["mnist-dcgan"].config
    for config, lost in ((mlp, eta.STACKED_EFFICIENCY), (dcgan, eta.SHARED_EFFICIENCY),
                         (mlp.replace(data="fashion-mnist"), eta.SHARED_EFFICIENCY)):  # a data folder: not stacked
        alone = eta.eta(config, "", runs=1, workers=2, speed=SPEED)
        assert eta.eta(config, "", runs=30, workers=2, speed=SPEED).steps_per_s == pytest.approx(
            alone.steps_per_s * lost / 15)
    pair = eta.eta([mlp, mlp.replace(seed=1)], "", runs=30, workers=2, speed=SPEED)  # A and B: not stacked
    assert pair.steps_per_s == pytest.approx(eta.eta([mlp, mlp], "", runs=1, workers=2, speed=SPEED).steps_per_s
                                             * eta.SHARED_EFFICIENCY / 15)


def test_every_measured_preset_is_an_image_preset():
    assert eta.DIGITS_AT and all(name in PRESETS and not PRESETS[name].config.is_toy for name in eta.DIGITS_AT)
    assert all(0 < at <= PRESETS[name].config.steps for name, at in eta.DIGITS_AT.items())
    assert eta.LIGHT_PRESET in eta.DIGITS_AT


def test_digits_step_only_for_the_presets_own_setup():
    c = PRESETS["mnist-mlp"].config
    assert eta.digits_step("mnist-mlp", c) == eta.DIGITS_AT["mnist-mlp"]
    assert eta.digits_step("mnist-mlp", c.replace(seed=3, steps=50_000, device="cpu")) == eta.DIGITS_AT["mnist-mlp"]
    assert eta.digits_step("mnist-mlp", c.replace(g_width=64)) is None  # a changed network: not measured
    assert eta.digits_step("mnist-mlp", c.replace(data="digits")) is None
    assert eta.digits_step("(custom)", c) is None


def test_thirty_runs_take_fifteen_times_as_long_as_one_on_two_workers_and_what_sharing_costs():
    c = PRESETS["mnist-mlp"].config
    alone = eta.eta(c, "mnist-mlp", runs=1, workers=2, speed=SPEED)
    class30 = eta.eta(c, "mnist-mlp", runs=30, workers=2, speed=SPEED)
    assert not alone.measured and alone.digits_step == eta.DIGITS_AT["mnist-mlp"]
    slower = 15 / eta.STACKED_EFFICIENCY  # mnist-mlp trains stacked in the training process
    assert class30.steps_per_s == pytest.approx(alone.steps_per_s / slower)
    assert class30.to_digits_s == pytest.approx(slower * alone.to_digits_s)
    assert alone.to_end_s == pytest.approx(c.steps / alone.steps_per_s)


def test_a_measured_rate_replaces_the_model_and_counts_from_the_current_step():
    c = PRESETS["mnist-mlp"].config
    at = eta.DIGITS_AT["mnist-mlp"]
    e = eta.eta(c, "mnist-mlp", runs=30, workers=2, step=at - 100, rate=5.0, speed=SPEED)
    assert e.measured and e.steps_per_s == 5.0
    assert e.to_digits_s == pytest.approx(20.0) and e.to_end_s == pytest.approx((c.steps - at + 100) / 5.0)
    past = eta.eta(c, "mnist-mlp", runs=30, workers=2, step=at, rate=5.0)
    assert past.to_digits_s is None and not past.slow  # digits are there: no more waiting for them


def test_slow_means_longer_than_slow_s_to_the_first_digits():
    c = PRESETS["mnist-mlp"].config
    at = eta.DIGITS_AT["mnist-mlp"]
    assert eta.eta(c, "mnist-mlp", 30, 2, rate=at / (eta.SLOW_S + 10)).slow
    assert not eta.eta(c, "mnist-mlp", 30, 2, rate=at / (eta.SLOW_S - 10)).slow
    assert not eta.eta(c.replace(g_width=64), "mnist-mlp", 30, 2, rate=0.01).slow  # unknown: no claim


def test_runs_on_counts_the_job_about_to_start():
    assert eta.runs_on({"running": 29, "workers": 2}, starting=True) == 30
    assert eta.runs_on({"running": 30}, starting=False) == 30
    assert eta.runs_on({}, starting=True) == 1


@pytest.mark.parametrize("seconds, minutes", [(10, 1), (60, 1), (80, 1), (100, 2), (359, 6), (361, 6), (390, 7)])
def test_minutes_round_to_whole_minutes(seconds, minutes):
    assert eta.minutes(seconds) == minutes
