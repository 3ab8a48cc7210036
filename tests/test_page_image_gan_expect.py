"""AppTest of the Image GAN page's expectations (ganlab/ui/image_gan/expect.py): before Start and while a run
trains, how long this setup takes at its share of the server; in a full class the slow default preset says so
and offers the lighter preset (one click) and the bundled demo.

The server's load and speed are set by the test: the job manager's stats report N runs on 2 workers, and the
cost model's seconds per step are fixed per model, so the expected numbers are computed here exactly
(with eta.SHARED_EFFICIENCY when the runs outnumber the workers; eta.STACKED_EFFICIENCY for mnist-mlp, which
the class engine stacks).
"""
from types import SimpleNamespace

import pytest

from ganlab import jobs
from ganlab.jobs.cost import eta
from ganlab.presets import PRESETS

PAGE = "pages/image_gan.py"
STEP_S = {"dcgan": 0.05, "mlp": 0.003}  # seconds per G step of one run on one worker, by model


@pytest.fixture
def server(monkeypatch):
    """`server(running)`: the manager reports `running` runs training on 2 workers; fixed costs per model."""
    monkeypatch.setattr(eta, "estimate", lambda configs, speed=None: SimpleNamespace(
        seconds_per_step=sum(STEP_S[c.model] for c in configs)))

    def load(running: int):
        m = jobs.manager()
        real = m.stats
        monkeypatch.setattr(m, "stats", lambda: {**real(), "running": running + real()["running"], "workers": 2})

    return load


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _expectation(at) -> str:
    return next(c.value for c in at.caption if "first digits" in c.value or "budget takes" in c.value)


def _minutes(seconds: float) -> str:
    m = int(eta.minutes(seconds))
    return f"about {m} minute" + ("s" if m != 1 else "") if seconds >= 45 else "under a minute"


def test_a_full_class_sees_how_long_the_default_dcgan_takes_and_a_lighter_choice(app_test, server):
    server(29)  # 29 classmates train: pressing Start makes 30
    at = app_test(PAGE).run()
    _ok(at)
    assert at.selectbox(key="ig_preset").value == "mnist-dcgan"
    at_step = eta.DIGITS_AT["mnist-dcgan"]
    per_s = eta.SHARED_EFFICIENCY * (2 / 30) / STEP_S["dcgan"]
    text = _expectation(at)
    assert text.startswith(f"Expect the first digits in {_minutes(at_step / per_s)} (at step {at_step:,}), "
                           f"with 30 runs training on this server, at about {per_s:.1f} steps/s for this run.")
    (warning,) = [w.value for w in at.warning]
    light_s = eta.DIGITS_AT["mnist-mlp"] / (eta.STACKED_EFFICIENCY * (2 / 30) / STEP_S["mlp"])
    assert f"The lighter **mnist-mlp** draws its first digits in {_minutes(light_s)} here." in warning
    assert "[bundled demo](latent_space?source=mnist-dcgan)" in warning
    at.button(key="ig_use_light").click().run()  # one click: the lighter preset, ready to Start
    _ok(at)
    assert at.selectbox(key="ig_preset").value == "mnist-mlp"
    assert at.number_input(key="ig_g_width").value == PRESETS["mnist-mlp"].config.g_width
    assert not at.warning and "first digits in " + _minutes(light_s) in _expectation(at)


def test_a_quiet_server_gives_the_light_preset_no_warning(app_test, server):
    server(0)
    at = app_test(PAGE, query={"preset": "mnist-mlp"}).run()
    _ok(at)
    per_s = 1 / STEP_S["mlp"]
    assert _expectation(at).startswith("Expect the first digits in under a minute (at step 1,000), with 1 run "
                                       f"training on this server, at about {per_s:,.0f} steps/s")
    assert not at.warning and not [b for b in at.button if b.key == "ig_use_light"]


def test_a_changed_setup_gets_the_time_for_its_budget(app_test, server):
    server(9)
    at = app_test(PAGE, query={"preset": "mnist-mlp"}).run()
    at.number_input(key="ig_g_width").set_value(64)
    at.number_input(key="ig_steps").set_value(30_000).run()
    _ok(at)
    per_s = eta.STACKED_EFFICIENCY * (2 / 10) / STEP_S["mlp"]  # widths 64: still stacked
    assert _expectation(at) == (f"This setup's budget takes {_minutes(30_000 / per_s)}, with 10 runs training on "
                                f"this server, at about {per_s:.0f} steps/s for this run.")


def test_chinese(app_test, server):
    server(29)
    at = app_test(PAGE, query={"lang": "zh"}).run()
    _ok(at)
    assert any("第一批数字" in c.value for c in at.caption)
    assert at.warning and "latent_space?source=mnist-dcgan&lang=zh" in at.warning[0].value


def test_a_training_run_shows_what_is_left_at_its_own_pace(app_test, server, wait_until):
    """A custom run (8x8 digits, tiny MLPs) while it trains: the rest of its budget, at its share."""
    server(0)
    tiny = PRESETS["mnist-mlp"].config.replace(data="digits", z_dim=16, g_width=64, d_width=64, batch_size=32,
                                               steps=1_000_000, log_every=20, device="cpu")
    at = app_test(PAGE, query={"preset": "mnist-mlp", **tiny.to_query()}).run()
    _ok(at)
    at.button(key="ig_start").click().run()
    job = jobs.manager().get(at.session_state["ig_job"])
    wait_until(lambda: job.snapshots() and job.status == "running", 30, what="the run training")
    at.run()
    _ok(at)
    assert any(c.value.startswith("The rest of the budget takes ") and "with 1 run training on this server" in c.value
               for c in at.caption)
    job.stop()
