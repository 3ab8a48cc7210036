"""Issue 20, placement and admission: a share link with a field no widget shows cannot break classmates' stack
group (the stack key is made from the networks' shapes), and a run dearer than the class limit is refused at
Start with a message that says what to lower (ganlab/jobs/cost.py); the teacher can raise the limit."""
import time

import pytest
import torch

from ganlab.config import TrainConfig
from ganlab.engine.batched import ClassEngine, NotStackable, stack_key
from ganlab.engine.factory import make_trainer
from ganlab.jobs import cost
from ganlab.jobs import job_manager as jm
from ganlab.jobs.spec import RunSpec
from ganlab.presets import PRESETS
from ganlab.theory.config import TheoryConfig

RING = PRESETS["ring-collapse"].config
# what /?preset=ring-collapse&compare=0&g_widths=128 builds: G with ONE hidden layer of 128, D as the preset's
HIDDEN = RING.replace(g_widths="128")


# ---- the hidden-widths link ----------------------------------------------------------------------------------
def test_stack_key_is_made_from_the_shapes_the_networks_would_have():
    assert stack_key(HIDDEN) != stack_key(RING)  # g_widths changes G: another key
    assert stack_key(RING.replace(d_widths="128,64")) != stack_key(RING)
    # the same networks spelled two ways: one key (and one group)
    assert stack_key(RING.replace(g_widths="128,128", d_widths="128, 128")) == stack_key(RING)
    assert stack_key(RING.replace(g_width=64, g_depth=3)) == stack_key(RING.replace(g_widths="64,64,64"))
    why = stack_key(HIDDEN).diff(stack_key(RING))
    assert why == ["G's layers 64 -> 128 -> 2 vs 64 -> 128 -> 128 -> 2"]


def test_the_class_engine_refuses_a_member_of_other_shapes_and_keeps_the_group():
    small = RING.replace(batch_size=32, steps=20, log_every=10)
    eng = ClassEngine(stack_key(small))
    a = eng.add(small)
    with pytest.raises(NotStackable, match=r"G's layers 64 -> 128 -> 2 vs 64 -> 128 -> 128 -> 2"):
        eng.add(small.replace(g_widths="128"))
    b = eng.add(small.replace(seed=4))
    eng.step(20)
    assert len(eng) == 2 and eng.member(a).step_count == eng.member(b).step_count == 20


def _hidden_link_then_six_classmates(manager) -> list:
    steps = dict(steps=40, log_every=20)
    first = HIDDEN.replace(**steps)
    jobs = [manager.submit("hostile", RunSpec((first,)), "A")]
    for i in range(6):
        c = RING.replace(seed=i, **steps)
        jobs.append(manager.submit(f"student{i}", RunSpec((c,)), "A"))
    for j in jobs:
        assert j.join(120), j.status
    return [(j.status, j.error, j.progress()[0][0] if j.progress() else 0) for j in jobs]


def test_a_hidden_widths_run_first_then_six_classmates_all_train_in_process():
    m = jm.JobManager(workers=2, stacking=True)
    try:
        assert _hidden_link_then_six_classmates(m) == [("done", None, 40)] * 7
    finally:
        m.shutdown(10)


def test_a_hidden_widths_run_first_then_six_classmates_all_train_in_the_training_process():
    from ganlab.jobs.train_process.manager import ProcessJobManager

    m = ProcessJobManager(workers=2, snapshot_every_s=0.05)
    try:
        assert _hidden_link_then_six_classmates(m) == [("done", None, 40)] * 7
    finally:
        m.shutdown(10)


# ---- cost-aware admission -------------------------------------------------------------------------------------
# the largest toy run the Mode collapse lab's widgets accept
MAX_TOY = RING.replace(g_width=2048, g_depth=8, d_width=2048, d_depth=8, batch_size=4096, d_steps=20)


@pytest.fixture
def class_manager(monkeypatch):
    """A manager with the server's default class limits (what jobs.manager() gets). Admitted jobs stay queued
    (no run may start: max_running_per_owner 0), so a test never trains a huge run."""
    for var in (cost.STEP_LIMIT_ENV, cost.IMAGE_STEP_LIMIT_ENV, cost.MEMORY_LIMIT_ENV):
        monkeypatch.delenv(var, raising=False)
    m = jm.JobManager(workers=1, stacking=False, max_running_per_owner=0)
    m.limits = cost.Limits.from_env()
    yield m
    m.shutdown(5)


def test_the_widgets_maximum_toy_run_is_refused_with_the_fields_to_lower(class_manager):
    with pytest.raises(jm.JobLimitError) as e:
        class_manager.submit("curious", RunSpec((MAX_TOY,)), "A")
    msg = str(e.value)
    assert "s per step on this server; the class limit is 0.05 s" in msg
    for label in ("G width", "D width", "Batch size", "D steps per G step"):
        assert label in msg, msg
    assert class_manager.all_jobs() == []  # nothing was queued
    # the A/B pair of it, a wide image run and a heavy 1-D game are refused too
    with pytest.raises(jm.JobLimitError, match="instead of A and B"):
        class_manager.submit("curious", RunSpec((MAX_TOY, RING)), "A vs B")
    dcgan = PRESETS["mnist-dcgan"].config.replace(dcgan_width=256, batch_size=4096)
    with pytest.raises(jm.JobLimitError, match="DCGAN width"):
        class_manager.submit("curious", RunSpec((dcgan,)), "A")
    with pytest.raises(jm.JobLimitError, match="class limit"):
        class_manager.submit("curious", RunSpec((TheoryConfig(g_width=512, g_depth=4, d_width=512, d_depth=4,
                                                              batch_size=8192, d_steps=50),)), "1-D")


def test_a_lowered_setup_the_cost_model_cannot_price_leaves_the_refusal_standing(class_manager, monkeypatch):
    from ganlab.jobs.cost import limits

    real = limits.estimate

    def picky(configs, *a, **kw):  # the model fails on one lowered setup (batch back at its default)
        if configs[0].batch_size != MAX_TOY.batch_size:
            raise RuntimeError("no such shape in the model")
        return real(configs, *a, **kw)

    monkeypatch.setattr(limits, "estimate", picky)
    with pytest.raises(jm.JobLimitError) as e:  # refused in words, never an exception out of Start
        class_manager.submit("curious", RunSpec((MAX_TOY,)), "A")
    assert "the class limit is 0.05 s" in str(e.value) and "Batch size" not in str(e.value)
    assert "G width" in str(e.value)


def test_a_wide_image_run_is_refused_for_its_memory():
    dcgan = PRESETS["mnist-dcgan"].config.replace(dcgan_width=256, batch_size=4096)
    limits = cost.Limits(step_s=None, image_step_s=None, memory_mb=cost.MEMORY_LIMIT_MB)
    msg = limits.refusal(RunSpec((dcgan,)))
    assert msg and "MB of memory" in msg and ("DCGAN width" in msg or "Batch size" in msg)
    assert cost.estimate(dcgan).bytes > 8 * 2**30  # activations of 4096 images through width-256 convolutions


def test_the_teachers_raised_limit_admits_it(class_manager):
    need = cost.estimate(MAX_TOY)
    class_manager.limits.step_s = need.seconds_per_step * 1.5  # what the Class page's teacher control sets
    class_manager.limits.memory_mb = need.bytes / 2**20 * 1.5
    job = class_manager.submit("curious", RunSpec((MAX_TOY,)), "A")
    assert job.status == "queued"
    job.stop()


def test_the_teachers_no_limit_lifts_the_step_limit_for_image_runs_too():
    """The Class page's "0 = no limit" sets step_s to None; image runs used to stay capped at 0.5 s."""
    slow = PRESETS["mnist-dcgan"].config.replace(dcgan_width=96, batch_size=512)
    need = cost.estimate(slow)
    assert need.seconds_per_step > cost.IMAGE_STEP_LIMIT_S and need.bytes < cost.MEMORY_LIMIT_MB * 2**20
    limits = cost.Limits(step_s=cost.STEP_LIMIT_S, image_step_s=cost.IMAGE_STEP_LIMIT_S,
                         memory_mb=cost.MEMORY_LIMIT_MB)
    assert "class limit" in limits.refusal(RunSpec((slow,)))
    limits.step_s = None  # what the teacher's 0 sets
    assert limits.refusal(RunSpec((slow,))) is None
    limits.step_s = need.seconds_per_step * 1.2  # raised above the image default: the higher one applies
    assert limits.refusal(RunSpec((slow,))) is None


def test_the_cli_and_the_training_process_have_no_limit():
    assert not jm.JobManager(workers=1).limits.active  # the child's and Ray actors' managers are plain ones
    assert cost.Limits().refusal(RunSpec((MAX_TOY,))) is None


def test_every_preset_and_the_widget_defaults_are_admitted_under_the_default_limits(monkeypatch):
    for var in (cost.STEP_LIMIT_ENV, cost.IMAGE_STEP_LIMIT_ENV, cost.MEMORY_LIMIT_ENV):
        monkeypatch.delenv(var, raising=False)
    limits = cost.Limits.from_env()
    for name, preset in PRESETS.items():
        assert limits.refusal(RunSpec((preset.config,))) is None, name
    ring_fixed = PRESETS["ring-fixed"].config
    assert limits.refusal(RunSpec((RING, ring_fixed))) is None  # the lab's A/B default: collapse vs fixed
    assert limits.refusal(RunSpec((TrainConfig(),))) is None
    assert limits.refusal(RunSpec((TheoryConfig(),))) is None


def test_env_vars_set_the_class_limits(monkeypatch):
    monkeypatch.setenv(cost.STEP_LIMIT_ENV, "2.5")
    monkeypatch.setenv(cost.MEMORY_LIMIT_ENV, "0")
    limits = cost.Limits.from_env()
    assert limits.step_s == 2.5 and limits.memory_mb is None


def test_the_estimate_grows_with_width_batch_and_d_steps():
    def s(**kw):
        return cost.estimate(RING.replace(**kw)).seconds_per_step

    assert s(g_width=64, d_width=64) < s() < s(g_width=256, d_width=256) < s(g_width=1024, d_width=1024)
    assert s(batch_size=64) < s() < s(batch_size=1024) < s(batch_size=4096)
    assert s() < s(d_steps=2) < s(d_steps=5) < s(d_steps=20)
    assert s() < s(unrolled_steps=5) and s() < s(r1_gamma=1.0)
    w = cost.estimate(RING.replace(g_width=512, d_width=512))
    assert w.macs > 10 * cost.estimate(RING).macs  # 4x the width: ~16x the products of the hidden layers
    assert cost.estimate((RING, RING)).seconds_per_step == pytest.approx(2 * s())  # A and B add


def _measured_cpu_s(config: TrainConfig, steps: int) -> float:
    """CPU seconds of this thread per G step of a single-run Trainer (one torch thread, as the server)."""
    torch.set_num_threads(1)
    tr = make_trainer(config)
    tr.step(2)
    t0 = time.thread_time()
    tr.step(steps)
    return (time.thread_time() - t0) / steps


@pytest.mark.parametrize("config, steps", [(RING.replace(log_every=1000), 30),
                                           (RING.replace(g_width=512, d_width=512, batch_size=512,
                                                         log_every=1000), 5)])
def test_the_estimate_is_within_3x_of_the_measured_step(config, steps):
    est = cost.estimate(config).seconds_per_step
    got = _measured_cpu_s(config, steps)
    assert got / 3 < est < got * 3, (est, got)


def test_heaviest_admissible_toy_fits_the_limit_and_cannot_stack_with_ring_collapse():
    d = cost.heaviest_admissible_toy()
    c = TrainConfig(**d)
    limit = cost.Limits.from_env().step_s or cost.STEP_LIMIT_S
    est = cost.estimate(c).seconds_per_step
    assert est <= limit
    assert cost.estimate(c.replace(g_width=c.g_width + 16, d_width=c.d_width + 16)).seconds_per_step > limit or \
        c.g_width == 2048
    assert stack_key(c) != stack_key(RING)
    assert cost.Limits(step_s=limit).refusal(RunSpec((c,))) is None


def test_the_teacher_raises_the_class_limit_on_the_class_page_and_the_maximum_run_is_admitted(app_test, monkeypatch):
    from ganlab import jobs
    from ganlab.jobs import classroom
    from ganlab.ui import teacher

    monkeypatch.setenv(teacher.ENV, "open sesame")
    teacher.forget_tries()
    classroom._CLASSROOM = None
    m = jobs.manager()
    saved = m.limits
    m.limits = cost.Limits.from_env()
    try:
        assert m.limits.refusal(RunSpec((MAX_TOY,))) is not None
        at = app_test("pages/class_view.py").run()
        assert "class_step_limit" not in [n.key for n in at.number_input]  # a student sees no limit control
        at.text_input(key="class_passcode").input("open sesame")
        next(b for b in at.button if b.label == "Unlock").click().run()
        assert at.number_input(key="class_step_limit").value == pytest.approx(cost.STEP_LIMIT_S)
        assert at.number_input(key="class_memory_limit").value == cost.MEMORY_LIMIT_MB
        at.number_input(key="class_step_limit").set_value(3600.0)  # the widest run: ~540 s a step here
        at.number_input(key="class_memory_limit").set_value(8192.0)
        next(b for b in at.button if b.label == "Set the limit").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert (m.limits.step_s, m.limits.memory_mb) == (3600.0, 8192.0)
        assert any("Class limit set" in s.value for s in at.success)
        assert m.limits.refusal(RunSpec((MAX_TOY,))) is None
    finally:
        m.limits = saved
        classroom._CLASSROOM = None


def test_start_on_the_lab_with_every_field_at_its_maximum_shows_the_refusal(app_test, monkeypatch):
    from ganlab import jobs

    for var in (cost.STEP_LIMIT_ENV, cost.IMAGE_STEP_LIMIT_ENV, cost.MEMORY_LIMIT_ENV):
        monkeypatch.delenv(var, raising=False)
    m = jobs.manager()
    saved, m.limits = m.limits, cost.Limits.from_env()
    try:
        at = app_test(query=dict(preset="ring-collapse", compare="0", g_width="2048", g_depth="8", d_width="2048",
                                 d_depth="8", batch_size="4096", d_steps="20")).run()
        assert not at.exception, [e.value for e in at.exception]
        at.button(key="mc_start").click().run()
        errors = [e.value for e in at.error]
        assert any("the class limit is 0.05 s" in e and "G width" in e and "Batch size" in e for e in errors), errors
        assert not [j for j in m.all_jobs() if j.active]
    finally:
        m.limits = saved


def test_a_live_change_cannot_make_a_running_run_dearer_than_start_allows(app_test, monkeypatch, wait_until):
    """D steps and unrolled steps change while a run trains: 20 unrolled steps (~3x the limit) are not sent."""
    from ganlab import jobs

    for var in (cost.STEP_LIMIT_ENV, cost.IMAGE_STEP_LIMIT_ENV, cost.MEMORY_LIMIT_ENV):
        monkeypatch.delenv(var, raising=False)
    m = jobs.manager()
    saved, m.limits = m.limits, cost.Limits.from_env()
    try:
        at = app_test(query=dict(preset="ring-collapse", compare="0")).run()
        at.button(key="mc_start").click().run()
        job = m.get(at.session_state["mc_job"])
        wait_until(lambda: job.snapshots() and job.snapshots()[0].step > 0, 30, what="the run to train")
        at.number_input(key="mc_a_unrolled_steps").set_value(20).run()
        errors = [e.value for e in at.error]
        assert any("the class limit is 0.05 s" in e and "Unrolled D steps" in e for e in errors), errors
        at.run()
        assert job.active and job.snapshots()[0].config.unrolled_steps == 0
        at.number_input(key="mc_a_unrolled_steps").set_value(2).run()  # within the limit: sent, the error goes
        assert not at.error, [e.value for e in at.error]
        wait_until(lambda: job.snapshots()[0].config.unrolled_steps == 2, 30, what="the live change")
        job.stop()
    finally:
        m.limits = saved
