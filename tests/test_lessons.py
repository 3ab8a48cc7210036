"""Lessons as data (ganlab/lessons/): the shipped lessons load, together cover every section of the five
tutorials, link to setups the pages themselves accept, state facts the code and presets agree with, and a
broken lesson file is refused with one readable line naming the file, the step and the field."""
from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab import lessons
from ganlab.cli.main import main as cli_main
from ganlab.config import TrainConfig
from ganlab.lessons import LessonError, links, loader, tutorials
from ganlab.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds")) if p.is_dir()), None)
FIRST = lessons.LESSONS_DIR / "01-the-game.toml"


def shipped_data() -> dict:
    with FIRST.open("rb") as f:
        return tomllib.load(f)


def refused(data: dict, name: str = "broken.toml") -> str:
    with pytest.raises(LessonError) as e:
        loader.parse(data, name)
    return str(e.value)


# ---- the shipped lessons ---------------------------------------------------------------------------------------
def test_every_shipped_lesson_loads_and_the_api_reads_it():
    found = lessons.all_lessons()
    assert [x.id for x in found] == ["the-game", "mode-collapse", "images-and-latent-space"]
    assert lessons.all_lessons()[0] is found[0]  # read once, cached
    for lesson in found:
        assert 5 <= len(lesson.steps) <= 8
        assert lessons.get(lesson.id) is lesson
        zh, en = lesson.text("zh"), lesson.text("en")
        assert zh.title == lesson.title.zh and en.title == lesson.title.en and zh.title != en.title
        for s, t in zip(lesson.steps, zh.steps):
            assert t.body == s.body.zh and t.options[t.correct] == s.question.answer.zh
            assert t.url == s.link.url("zh") and ("lang=zh" in t.url)
            assert "lang=" not in s.text("en").url
    assert lessons.get("the-game").text("zh_CN").title == lessons.get("the-game").title.zh  # locale spellings
    with pytest.raises(KeyError, match="the-game"):
        lessons.get("no-such-lesson")


def test_lessons_cover_every_section_of_the_five_tutorials():
    cited = set().union(*(x.sections for x in lessons.all_lessons()))
    missing = tutorials.uncovered(cited)
    assert not missing, "not taught by any step: " + ", ".join(f"{s.id} {s.en}" for s in missing)
    assert len(tutorials.tutorials()) == 5 and len(tutorials.leaves()) == 100


@pytest.mark.skipif(SEEDS is None, reason="the tutorials (../shared/seeds/) are not next to this checkout")
def test_the_section_list_is_the_tutorials_own_headings():
    for t in tutorials.tutorials():
        text = (SEEDS / t.file).read_text(encoding="utf-8")
        headings = [re.sub(r"\s+", "", line.lstrip("#")) for line in text.splitlines() if line.startswith("#")]
        for s in t.sections:
            want = re.sub(r"\s+", "", s.zh)
            assert any(want in h for h in headings), f"{t.file}: no heading {s.number} {s.zh!r}"
        listed = {re.sub(r"\s+", "", s.zh) for s in t.sections}
        if t.id == "t5":  # the outline: every chapter and section heading (## and ###) is listed
            for line in text.splitlines():
                if re.match(r"^#{2,3} ", line):
                    assert any(w in re.sub(r"\s+", "", line) for w in listed), line


@pytest.mark.skipif(SEEDS is None, reason="the tutorials (../shared/seeds/) are not next to this checkout")
def test_the_chinese_texts_are_our_own_words_not_the_tutorials():
    """No run of 12 Chinese characters of a lesson's prose appears verbatim in a tutorial (formulas, code names
    and Latin words are left out on both sides: they are the same in everyone's words)."""
    def chinese(text: str) -> str:
        return "".join(re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text))

    source = "".join(chinese(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt"))
    n = 12
    for lesson in lessons.all_lessons():
        for s in lesson.steps:
            for field in ("body", "look_for", "reveal"):
                text = chinese(getattr(s, field).zh)
                copied = [text[i:i + n] for i in range(len(text) - n + 1) if text[i:i + n] in source]
                assert not copied, f"{lesson.id} / {s.id} / {field}: copied {copied[0]!r}"


def test_links_parse_with_the_pages_own_url_parsing():
    from ganlab import latent_link
    from ganlab.theory import link as theory_link
    from ganlab.ui.image_gan import setup as ig
    from ganlab.ui.latent_space import views as lv
    from ganlab.ui.mode_collapse import setup as mc
    from ganlab.ui.theory import widgets as tw

    # the rules in ganlab/lessons/links.py are the pages' rules
    assert links.MC_KEYS == mc.LINK_KEYS and links.MC_RUN_FIELDS == mc.RUN_FIELDS
    assert links.IG_KEYS == ig.LINK_KEYS and set(links.IMAGE_PRESETS) == set(ig.PRESET_NAMES)
    assert set(links.TOY_PRESETS) == set(mc.TOY_PRESETS)
    assert set(links.LATENT_MODES) == set(lv.TOY_MODES) | set(lv.IMAGE_MODES) | set(lv.VAE_MODES)
    assert links.LATENT_KEYS == latent_link.LINK_KEYS and links.THEORY_KEYS == theory_link.LINK_KEYS
    assert tw.DEFAULTS == {tw.P + k: v for k, v in theory_link.DEFAULTS.items()}  # the page reads theory_link
    assert latent_link.DEFAULTS.items() <= lv.DEFAULTS.items()  # and the Latent page latent_link's keys
    pages = set()
    for lesson in lessons.all_lessons():
        for s in lesson.steps:
            q, where = s.link.query, f"{lesson.id}/{s.id}: {s.link.url()}"
            pages.add(s.link.page)
            if s.link.page == "":
                a, b, preset, compare, warnings = mc.restore(q)
                assert warnings == [], where
                assert preset == q.get("preset", mc.DEFAULT_PRESET) and compare == (q.get("compare") != "0"), where
                for key, value in q.items():
                    if key.startswith("b_"):
                        assert str(getattr(b, key[2:])) == value, where  # run B got the link's change
            elif s.link.page == "image_gan":
                c, preset, warnings = ig.restore(q)
                compare, b_preset, b_warnings = ig.restore_b(q, preset)
                assert warnings == [] and b_warnings == [], where
                assert c == PRESETS[q["preset"]].config and preset == q["preset"], where
                assert compare == ("compare" in q) and (b_preset == q["b_preset"] if compare else True), where
            elif s.link.page == "latent_space":
                source, mode, values, warnings = latent_link.restore(q)
                assert warnings == [] and source == q["source"] and mode == q["mode"] in lv.IMAGE_MODES, where
                for key, value in q.items():  # each view setting reached its widget
                    if key not in ("source", "mode"):
                        assert str(values[latent_link.VIEW[mode][key][0]]) == value, where
            elif s.link.page == "theory":
                values, warnings = theory_link.restore(q)
                assert warnings == [], where
                assert {k: str(values[k]) for k in q} == q, where  # every setting the link names is the page's
                theory_link.config(values)
            else:
                assert q == {}, where  # Class reads no parameters
    assert pages == set(links.PAGES)  # the lessons open every page


def test_the_lessons_describe_the_presets_as_they_are():
    """The step texts quote these settings (ganlab/lessons/data/*.toml); retuning a preset means rewriting them."""
    p = {name: preset.config for name, preset in PRESETS.items()}
    assert p["ring-collapse"].d_lr * 10 == pytest.approx(p["ring-collapse"].g_lr) and p["ring-collapse"].steps == 2000
    assert TrainConfig().unrolled_lr == 1e-2  # the unrolled step's B: ring-collapse with K = 5 at the default rate
    for name, steps in (("ring-fixed", 10_000), ("grid-fixed", 20_000)):  # D as fast as G, R1 with gamma 1
        f = p[name]
        assert (f.loss, f.d_lr, f.g_lr, f.r1_gamma, f.pack, f.unrolled_steps, f.steps) == (
            "non_saturating", 1e-3, 1e-3, 1.0, 1, 0, steps), name
    assert p["grid-collapse"].d_lr * 10 == pytest.approx(p["grid-collapse"].g_lr) and p["grid-collapse"].steps == 6000
    m = p["mnist-mlp"]
    assert (m.z_dim, m.hidden_widths("g"), m.hidden_widths("d"), m.activation, m.leaky_slope, m.real_label, m.g_lr,
            m.batch_size) == (100, (128, 128), (128, 128), "leaky_relu", 0.01, 0.9, 1e-3, 100)
    k = p["mnist-mlp-bn"]
    assert (k.hidden_widths("g"), k.hidden_widths("d"), k.g_batchnorm, k.d_dropout, k.optimizer, k.g_lr, k.d_lr,
            k.batch_size) == ((128, 256, 512, 1024), (1024, 512, 256), True, 0.3, "rmsprop", 2e-4, 4e-4, 128)
    d = p["mnist-dcgan"]
    assert (d.model, d.g_lr, d.loss, d.pack) == ("dcgan", 5e-4, "hinge", 4)
    w = p["mnist-wgan"]
    assert (w.loss, w.clip_value, w.optimizer, w.g_lr, w.d_steps) == ("wgan", 0.01, "rmsprop", 5e-5, 5)
    g = p["mnist-wgan-gp"]
    assert (g.loss, g.gp_weight, g.beta1, g.beta2, g.d_steps, g.d_lr, g.g_lr) == ("wgan_gp", 10.0, 0.5, 0.9, 1, 1e-3,
                                                                                 3e-4)
    assert (p["mnist-vae"].model, p["mnist-vae"].z_dim, p["mnist-cgan"].conditional) == ("vae", 8, True)


def test_the_numbers_the_reveals_state():
    from ganlab import losses

    # Lesson 1, non-saturating: with d = D(G(z)) = 0.01 the gradient per unit of D's logit is -0.01 vs -0.99
    s = torch.logit(torch.tensor([[0.01]], dtype=torch.float64)).requires_grad_(True)
    sat = torch.autograd.grad(losses.minimax_g(s), s)[0].item()
    nonsat = torch.autograd.grad(losses.non_saturating_g(s), s)[0].item()
    assert sat == pytest.approx(-0.01) and nonsat == pytest.approx(-0.99)
    # Lesson 1, D* and the JS identity on two densities on a grid: V(D*, G) = -log 4 + 2 JSD; D* = 1/4 where p_g = 3 p
    x = np.linspace(-6, 6, 4001)
    dx = x[1] - x[0]
    p = np.exp(-0.5 * (x - 1) ** 2) / np.sqrt(2 * np.pi)
    q = np.exp(-0.5 * ((x + 0.5) / 1.3) ** 2) / (1.3 * np.sqrt(2 * np.pi))
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)  # densities on the grid: each integrates to 1
    d_star, m = p / (p + q), (p + q) / 2
    v = np.sum(p * np.log(d_star) + q * np.log(1 - d_star)) * dx
    jsd = 0.5 * np.sum(p * np.log(p / m) + q * np.log(q / m)) * dx
    assert v == pytest.approx(-np.log(4) + 2 * jsd, abs=1e-9) and -np.log(4) == pytest.approx(-1.386, abs=1e-3)
    assert 1 / (1 + 3) == 0.25
    # Lesson 3, interpolation: the lerp midpoint of two independent z in 100-d has norm about sqrt(50) ~ 7.07
    z = np.random.default_rng(0).standard_normal((2, 20_000, 100))
    assert np.linalg.norm(z[0], axis=1).mean() == pytest.approx(10, abs=0.1)
    assert np.linalg.norm((z[0] + z[1]) / 2, axis=1).mean() == pytest.approx(7.07, abs=0.1)


# ---- a broken lesson file ----------------------------------------------------------------------------------------
def test_a_missing_chinese_text_names_file_step_and_field(tmp_path):
    text = FIRST.read_text(encoding="utf-8")
    second_step = text.index("[[step]]", text.index("[[step]]") + 1)
    broken = text[:second_step] + re.sub(r'\nlook_for\.zh = ".*"\n', "\n", text[second_step:], count=1)
    path = tmp_path / "my-lesson.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(LessonError) as e:
        lessons.load_file(path)
    assert str(e.value) == f"{path}: step 2 'training-loop', look_for.zh: missing the Chinese text"
    assert (e.value.step, e.value.step_id, e.value.field) == (2, "training-loop", "look_for.zh")


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["step"][0]["body"].update(zh="  "), "step 1 'two-players', body.zh: empty; write the text"),
    (lambda d: d["step"][1]["reveal"].update(zh="More D steps: closer."),
     "step 2 'training-loop', reveal.zh: has no Chinese characters"),
    (lambda d: d["step"][2]["question"]["option"][1].update(correct=True),
     "step 3 'value-function', question.option: options 1, 2 are all marked correct; exactly one may be"),
    (lambda d: d["step"][2]["question"]["option"][0].pop("correct"),
     "step 3 'value-function', question.option: no option is marked correct = true"),
    (lambda d: d["step"][0]["question"].update(option=d["step"][0]["question"]["option"][:1]),
     "step 1 'two-players', question.option: 1 option(s); a question has 2 to 5"),
    (lambda d: d["step"][3]["sections"].append("t9.9"),
     "step 4 'optimal-d', sections: unknown tutorial section 't9.9'"),
    (lambda d: d["step"][3]["sections"].append("t3.2"),
     "step 4 'optimal-d', sections: 't3.2' is a chapter with sections; cite them instead: t3.2.1, t3.2.2, t3.2.3"),
    (lambda d: d["step"][4].update(link="image_gan?preset=ring-collapse"),
     "step 5 'jensen-shannon', link: preset 'ring-collapse' is not an Image GAN preset"),
    (lambda d: d["step"][4].update(link="theory?loss=wgan"),
     "step 5 'jensen-shannon', link: loss 'wgan' is not a minimax game; choose one of minimax, non_saturating"),
    (lambda d: d["step"][4].update(link="theory?g_lr=0.003"),
     "step 5 'jensen-shannon', link: g_lr: '0.003' is not one of the page's learning rates"),
    (lambda d: d["step"][4].update(link="theory?loss_fn=minimax"),
     "step 5 'jensen-shannon', link: the Theory page does not read loss_fn; it reads d_lr, d_steps, data,"),
    (lambda d: d["step"][4].update(link="class?lesson=the-game"),
     "step 5 'jensen-shannon', link: the Class page does not read lesson; it takes no parameters"),
    (lambda d: d["step"][4].update(link="latent_space?source=/etc/passwd&mode=sliders"),
     "step 5 'jensen-shannon', link: source '/etc/passwd' is not a bundled demo"),
    (lambda d: d["step"][4].update(link="latent_space?source=mnist-dcgan&mode=encode"),
     "step 5 'jensen-shannon', link: mode 'encode' is not a mode of mnist-dcgan"),
    (lambda d: d["step"][4].update(link="latent_space?mode=sliders&seed_a=3"),
     "step 5 'jensen-shannon', link: ignored seed_a: not settings of the sliders view"),
    (lambda d: d["step"][4].update(link="?preset=ring-collapse&b_pack=0"),
     "step 5 'jensen-shannon', link: pack must be between 1 and 16, got 0"),
    (lambda d: d["step"][4].update(link="?preset=ring-collapse&b_pakc=4"),
     "step 5 'jensen-shannon', link: the Mode collapse lab page does not read b_pakc"),
    (lambda d: d["step"][4].update(link="?preset=ring-collapse&lang=zh"),
     "step 5 'jensen-shannon', link: leave 'lang' out"),
    (lambda d: d["step"][4].update(link="latent_space?mode=walk"),
     "step 5 'jensen-shannon', link: mode 'walk' is not a Latent space mode"),
    (lambda d: d["step"][4].update(link="training"), "step 5 'jensen-shannon', link: unknown page 'training'"),
    (lambda d: d.update(step=d["step"][:4]), "broken.toml: step: 4 step(s); a lesson has 5 to 8"),
    (lambda d: d.update(step=d["step"] * 2), "broken.toml: step: 14 step(s); a lesson has 5 to 8"),
    (lambda d: d["step"][5].update(id="optimal-d"),
     "step 6 'optimal-d', id: step id 'optimal-d' is already step 4's"),
    (lambda d: d["step"][5]["title"].update(en="the $D^* formula"), "step 6 'non-saturating', title.en: an odd number"),
    (lambda d: d["step"][0].update(hint={"en": "x", "zh": "x"}), "step 1 'two-players': unknown key(s) hint"),
    (lambda d: d.pop("summary"), "broken.toml: missing summary"),
    (lambda d: d.update(id="The Game"), "broken.toml: id: 'The Game' is not an id"),
])
def test_a_broken_lesson_is_refused_with_a_readable_line(change, expected):
    data = copy.deepcopy(shipped_data())
    change(data)
    message = refused(data)
    assert message.startswith("broken.toml: ") and expected in message and "\n" not in message


def test_invalid_toml_and_duplicate_lesson_ids(tmp_path):
    (tmp_path / "bad.toml").write_text('id = "x"\ntitle = { en = "a"\n', encoding="utf-8")
    with pytest.raises(LessonError, match=r"bad\.toml: not valid TOML"):
        lessons.load_file(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").unlink()
    for name in ("01-a.toml", "02-b.toml"):
        (tmp_path / name).write_bytes(FIRST.read_bytes())
    with pytest.raises(LessonError, match=r"02-b\.toml: id: lesson id 'the-game' is already .*01-a\.toml's"):
        lessons.load_dir(tmp_path)


# ---- the CLI -------------------------------------------------------------------------------------------------
def test_cli_lists_and_validates_the_lessons(capsys):
    assert cli_main(["lessons", "--steps"]) == 0
    out = capsys.readouterr().out
    for lesson in lessons.all_lessons():
        assert lesson.id in out and lesson.title.en in out
    assert "/?preset=ring-collapse&compare=0" in out and "/theory" in out
    assert "3 lesson(s) valid; they teach 100 of the tutorials' 100 sections" in out and "not covered" not in out
    assert cli_main(["lessons", "--lang", "zh"]) == 0
    assert lessons.get("mode-collapse").title.zh in capsys.readouterr().out


def test_cli_exits_2_with_one_line_on_an_invalid_file(tmp_path, capsys):
    text = FIRST.read_text(encoding="utf-8").replace('link = "theory"', 'link = "theory?data=trimodl"', 1)
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    assert cli_main(["lessons", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {path}: step 1 'two-players', link: data 'trimodl' is not a Theory density; choose one "
                   "of gaussian, bimodal, trimodal, skewed, custom")
    assert cli_main(["lessons", str(FIRST)]) == 0


def test_cli_lessons_has_help_and_runs_as_a_module(capsys):
    import subprocess
    import sys

    with pytest.raises(SystemExit) as e:
        cli_main(["lessons", "--help"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("usage: python -m ganlab lessons")
    done = subprocess.run([sys.executable, "-m", "ganlab", "lessons", "nowhere.toml"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("error: nowhere.toml: cannot be read") and done.stderr.count("\n") == 1
