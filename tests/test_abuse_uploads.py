"""Issue 20, "Uploads that cannot cost more than their size": crafted checkpoints and CSV points a curious
student could upload. Each is refused with one clear, translated line, and loading it costs < 50 MB of RSS.

The crafted files are built in benchmarks/crafted_uploads.py (benchmarks/upload_rss.py uploads them through a
real server). `-s` prints the RSS each costs to load (test_rss_of_crafted_files).
"""
from __future__ import annotations

import contextlib
import gc
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.crafted_uploads import (
    BOMB_BYTES,
    CFG,
    crafted,
    fixed_z_rows,
    fixed_z_zero_stride,
    garbage_pickle,
    good_state,
    many_entries,
    many_unknown_columns,
    names_past_the_pickle_cap,
    one_column_repeated,
    random_bytes,
    saved,
    step,
    weight_in_a_big_storage,
    zip_bomb,
)
from ganlab import checkpoint, i18n
from ganlab.checkpoint import CheckpointError
from ganlab.config import TrainConfig
from ganlab.data.toy import parse_csv_points
from ganlab.engine.trainer import BASE_COLUMNS, TOY_COLUMNS, Trainer

TORCH_WORDS = ("Unpickl", "weights_only", "Please file an issue", "torch", "Error", "Traceback")


@pytest.fixture(scope="module")
def good() -> dict:
    return good_state()


def refused(data: bytes, match: str | None = None) -> str:
    """The one-line reason load gives; never torch's words."""
    with pytest.raises(CheckpointError, match=match) as e:
        checkpoint.load(data)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) < 300 and not any(w in msg for w in TORCH_WORDS), msg
    return msg



# ---- one test per finding --------------------------------------------------------------------------------
def test_history_columns_must_be_known_and_few(good):
    refused(many_unknown_columns(good), "columns ganlab does not write")
    refused(one_column_repeated(good), "repeated")
    refused(names_past_the_pickle_cap(good))
    cols = list(BASE_COLUMNS + TOY_COLUMNS)
    rows = {**good["history"], "columns": cols, "data": torch.zeros(5000, len(cols))}
    refused(saved({**good, "history": rows}), "5000 rows")


def test_fixed_z_must_have_the_documented_shape(good):
    refused(fixed_z_rows(good, 65), r"64 x 4")
    refused(fixed_z_rows(good, 1), r"64 x 4")
    refused(fixed_z_zero_stride(good), "not stored the way ganlab saves tensors")
    refused(saved({**good, "fixed_z": torch.randn(64, CFG.z_dim, dtype=torch.float64)}), r"64 x 4 float32")


def test_every_tensor_owns_exactly_its_numbers(good):
    assert "g_state" in refused(weight_in_a_big_storage(good), "not stored the way ganlab saves tensors")
    h = {**good["history"], "data": torch.zeros(1000, good["history"]["data"].shape[1])[:2]}
    refused(saved({**good, "history": h}), "not stored the way")


def test_optimizer_moments_have_their_weights_shapes(good):
    """Adam's moments sit beside each weight; a misshapen one would broadcast or fail at the resumed run's step."""
    opt = good["opt_g"]
    first = opt["state"][0]
    bad = {**opt, "state": {**opt["state"], 0: {**first, "exp_avg": torch.zeros(3)}}}
    refused(saved({**good, "opt_g": bad}), "generator optimiser state does not fit")
    extra = {**opt, "state": {**opt["state"], 99: dict(first)}}
    refused(saved({**good, "opt_g": extra}), "generator optimiser state does not fit")


def test_step_within_the_budget(good):
    refused(step(good, -5), "between 0 and the run's 60 steps")
    refused(step(good, 61), "between 0 and the run's 60 steps")
    assert checkpoint.load(step(good, 60)).step == 60


def test_zip_bomb_is_refused_before_it_inflates(good, tmp_path):
    bomb = zip_bomb(good, tmp_path)
    assert len(bomb) < 200_000
    refused(bomb, "unpacks to more than 20 MB")


def test_zip_of_many_entries_is_refused(good):
    refused(many_entries(good), r"far more parts than any ganlab checkpoint \(10\d\d\d, at most 4096\)")


def test_entry_larger_than_it_declares_is_refused(good, tmp_path):
    """The zip directory declares a small size, the deflated data inflates to BOMB_BYTES: counted, refused."""
    bomb = bytearray(zip_bomb(good, tmp_path))
    with zipfile.ZipFile(io.BytesIO(bytes(bomb))) as z:
        info = next(i for i in z.infolist() if i.file_size == BOMB_BYTES)
    at = -1  # its central directory record: "PK\1\2", uncompressed size at +24, name length at +28, name at +46
    while True:
        at = bomb.index(b"PK\x01\x02", at + 1)
        n = int.from_bytes(bomb[at + 28: at + 30], "little")
        if bomb[at + 46: at + 46 + n] == info.filename.encode():
            break
    bomb[at + 24: at + 28] = (1024).to_bytes(4, "little")
    with zipfile.ZipFile(io.BytesIO(bytes(bomb))) as z:
        assert sum(i.file_size for i in z.infolist()) < 2**20  # what the directory now declares
    refused(bytes(bomb), "damaged")


def test_random_bytes_get_a_readable_translated_message(good):
    for data in (random_bytes(), garbage_pickle(good), b"PK\x03\x04" + random_bytes(200)):
        msg = refused(data, "not a readable ganlab checkpoint|damaged")
        with i18n.using("zh"):
            with pytest.raises(CheckpointError) as e:
                checkpoint.load(data)
        zh = str(e.value)
        assert zh != msg and re.search(r"[\u4e00-\u9fff]", zh), zh


def test_memory_error_gets_a_readable_message(good, monkeypatch):
    data = saved(good)

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(torch, "load", no_memory)  # while torch inflates the file
    refused(data, "out of memory")
    monkeypatch.undo()
    from ganlab.engine.history import History

    monkeypatch.setattr(History, "from_state", no_memory)  # after torch.load, while the checks build things
    refused(data, "out of memory")
    with i18n.using("zh"):
        with pytest.raises(CheckpointError) as e:
            checkpoint.load(data)
    assert re.search(r"[\u4e00-\u9fff]", str(e.value))


def test_latent_upload_turns_memory_error_into_a_message(good, monkeypatch):
    """Latent space builds G and renders once after the checks: a MemoryError there is a message too."""
    from ganlab.ui.latent_space import source

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(checkpoint.Run, "make_generator", no_memory)
    with pytest.raises(ValueError, match="out of memory"):
        source.load_upload(saved(good), "run.pt")


def test_csv_values_must_fit_float32():
    rows = "\n".join(f"{i},{i % 3}" for i in range(20))
    with pytest.raises(ValueError, match=r"line 21: values must lie between -3\.4e\+38 and 3\.4e\+38"):
        parse_csv_points(rows + "\n1e39,0\n")
    with pytest.raises(ValueError, match="line 1: values must lie between"):
        parse_csv_points("-1e39,1\n" + rows)
    big = parse_csv_points("\n".join(f"{3e38 if i % 2 else -3e38},{i}" for i in range(20)))
    assert big.dtype == np.float32 and np.isfinite(big).all()  # fit float32, and so do their mean and spread


def _tensors_in(obj, depth: int = 0) -> int:
    """How many tensors / modules hang off obj (dataclass fields, dicts, lists, tuples)."""
    if isinstance(obj, (torch.Tensor, torch.nn.Module)):
        return 1
    if depth > 6:
        return 0
    if isinstance(obj, dict):
        return sum(_tensors_in(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensors_in(v, depth + 1) for v in obj)
    if hasattr(obj, "__dataclass_fields__"):
        return sum(_tensors_in(getattr(obj, f), depth + 1) for f in obj.__dataclass_fields__)
    return 0


def test_image_gan_page_keeps_only_what_it_shows(app_test):
    """After a good upload the Image GAN page's session state holds its summary, none of the file's tensors;
    removing the file drops it."""
    from ganlab.ui.image_gan import checkpoint as ick

    cfg = TrainConfig(data="digits", model="mlp", z_dim=8, g_width=16, d_width=16, batch_size=16, steps=40,
                      log_every=5, device="cpu")
    t = Trainer(cfg)
    t.step(10)
    at = app_test("pages/image_gan.py").run()
    at.file_uploader(key=ick.UPLOAD_KEY).set_value(("run.pt", checkpoint.to_bytes(t), "application/octet-stream"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("10 steps" in m.value for m in at.markdown)
    kept = at.session_state[ick.GOOD]
    assert kept is not None and _tensors_in(kept) == 0
    assert sum(_tensors_in(at.session_state[k]) for k in at.session_state.to_dict()) == 0
    at.file_uploader(key=ick.UPLOAD_KEY).set_value(None)
    at.run()
    assert not at.exception and at.session_state[ick.GOOD] is None
    assert not any(b.key == "ig_resume" for b in at.button)


def test_latent_upload_keeps_its_generator_not_the_file(good):
    from ganlab.ui.latent_space import source

    src = source.load_upload(saved(good), "run.pt")
    assert _tensors_in(src.extra) == 0 and "12 steps" in src.describe()


def test_demo_and_round_trip_checkpoints_still_load(good):
    for path in sorted(Path(checkpoint.__file__).resolve().parents[1].joinpath("assets").glob("demo-*.pt")):
        run = checkpoint.load(path)
        assert run.fixed_z is None or tuple(run.fixed_z.shape) == (64, run.config.z_dim)
    run = checkpoint.load(saved(good))
    assert run.step == 12 and run.opt_g is not None and run.make_trainer("cpu").step_count == 12


# ---- the cost of each crafted file ---------------------------------------------------------------------------
def _kb(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc/self/clear_refs")
def test_rss_of_crafted_files(good, tmp_path):
    """Peak RSS while loading each crafted file stays within 50 MB of the RSS before it (VmHWM, reset per file
    through /proc/self/clear_refs)."""
    files = crafted(good, tmp_path)
    checkpoint.load(saved(good))  # warm: lazy imports, the meta device, the catalogs
    with contextlib.suppress(CheckpointError):
        checkpoint.load(files["step -5"])  # and the way to a refusal (translations, the checks' imports)
    growth, accepted = {}, []
    for name, data in files.items():
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        except OSError:
            pytest.skip("/proc/self/clear_refs is not writable here")
        before = _kb("VmRSS")
        try:
            run = checkpoint.load(data)
            accepted.append(name)
            del run
        except CheckpointError:
            pass
        growth[name] = (_kb("VmHWM") - before) / 1024
        print(f"RSS growth loading {name} ({len(data) / 1024:.0f} KB): {growth[name]:.1f} MB")
    assert not accepted and max(growth.values()) < 50, (accepted, growth)
