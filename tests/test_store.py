"""The run store (ganlab/store/): atomic checkpoints that survive a kill mid-save, the SQLite index, the disk
budget, corrupt or foreign files skipped with a log line, the CSV export."""
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from ganlab import checkpoint
from ganlab.config import TrainConfig
from ganlab.engine.trainer import Trainer
from ganlab.store import RunStore, export, files, owner_hash, paths
from ganlab.store import default as default_store
from ganlab.store import default_or_none as default_store_or_none

CFG = TrainConfig(data="ring", z_dim=2, g_width=16, d_width=16, batch_size=32, log_every=10, steps=40)


def blob(steps: int = 20, seed: int = 0) -> bytes:
    t = Trainer(CFG.replace(seed=seed))
    t.step(steps)
    return checkpoint.to_bytes(t)


def test_a_saved_run_is_listed_for_its_owner_only_and_loads_back(tmp_path):
    store = RunStore(tmp_path)
    key = store.create("cookie-a", "mode_collapse", "ring-fixed", "A", [CFG])
    other = store.create("cookie-b", "mode_collapse", "", "A", [CFG])
    assert key != other and files.run_dir(tmp_path, key) != files.run_dir(tmp_path, other)
    store.put(key, (blob(20),), 20, [{"modes_captured": 3.0}])
    assert store.flush(10)
    mine = store.runs(owner="cookie-a")
    assert [r.key for r in mine] == [key]
    rec = mine[0]
    assert rec.step == 20 and rec.budget == 40 and rec.preset == "ring-fixed" and rec.numbers[0]["modes_captured"] == 3
    assert rec.owner == owner_hash("cookie-a") and "cookie-a" not in rec.owner
    run = store.load(key, 0)
    assert run is not None and run.step == 20 and run.opt_g is not None  # optimiser states kept: a true resume
    assert store.load(other, 0) is None  # nothing saved yet: None, no error
    raw = (tmp_path / files.INDEX_NAME).read_bytes()
    assert b"cookie-a" not in raw  # the index never holds a cookie


def test_the_index_is_in_wal_mode(tmp_path):
    store = RunStore(tmp_path)
    assert store.index._exec("PRAGMA journal_mode")[0][0] == "wal"


def test_a_run_live_when_the_server_died_comes_back_paused_and_resumable(tmp_path):
    before = RunStore(tmp_path)
    key = before.create("s", "mode_collapse", "", "A", [CFG], status="running")
    before.write(key, (blob(20),), 20)
    assert not before.get(key).interrupted  # the same boot: live
    after = RunStore(tmp_path)  # a restart: another boot
    rec = after.get(key)
    assert rec.interrupted and rec.shown_status == "paused" and rec.resumable
    after.set_status(key, "done", step=40)
    assert not after.get(key).resumable


def _writer_script(path, data_path) -> str:
    """A process that saves `data_path`'s bytes over `path` and stops inside the save (its fsync of the new temp
    file announces itself and waits for the SIGKILL)."""
    return (f"import os, sys, time; sys.path.insert(0, {str(os.getcwd())!r})\n"
            "from pathlib import Path\nfrom ganlab.store import files\n"
            "real = os.fsync\n"
            "def fsync(fd):\n"
            "    if os.readlink(f'/proc/self/fd/{fd}').endswith('.tmp'):\n"
            "        print('in-write', flush=True); time.sleep(30)\n"
            "    real(fd)\n"
            "os.fsync = fsync\n"
            f"files.write_atomic(Path({str(path)!r}), Path({str(data_path)!r}).read_bytes())\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_a_writer_killed_mid_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    """SIGKILL a process inside its save of a newer checkpoint (the new bytes written, not yet renamed): the
    previous checkpoint still loads; a save that completes replaces it."""
    store = RunStore(tmp_path)
    key = store.create("s", "mode_collapse", "", "A", [CFG])
    target = files.checkpoint_path(tmp_path, key, 0)
    store.write(key, (blob(20),), 20)
    newer = tmp_path / "newer.pt"
    newer.write_bytes(blob(30))
    for attempt in range(3):
        p = subprocess.Popen([sys.executable, "-c", _writer_script(target, newer)], stdout=subprocess.PIPE)
        assert p.stdout.readline().strip() == b"in-write"
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert list(target.parent.glob("*" + files.TMP_SUFFIX)), "the kill fell inside the save"
        assert checkpoint.load(target.read_bytes()).step == 20, attempt
    RunStore(tmp_path)  # a new store sweeps the temp files the killed writers left
    assert not list(target.parent.glob("*" + files.TMP_SUFFIX))
    files.write_atomic(target, newer.read_bytes())
    assert checkpoint.load(target.read_bytes()).step == 30


def test_a_corrupt_or_foreign_file_is_skipped_with_a_log_line(tmp_path, caplog):
    store = RunStore(tmp_path)
    key = store.create("s", "mode_collapse", "", "A", [CFG])
    store.write(key, (b"not a checkpoint at all",), 20)
    (tmp_path / "runs" / ("f" * 32)).mkdir()  # a folder the store never made
    (tmp_path / "runs" / "notes.txt").mkdir()
    with caplog.at_level(logging.WARNING, logger="ganlab.store"):
        assert store.load(key, 0) is None
        odd = store.scan()
    assert key in odd and "f" * 32 in odd and "notes.txt" in odd
    assert "not loadable" in caplog.text and "not a run this store made" in caplog.text


def test_a_foreign_index_file_is_moved_aside_not_a_crash(tmp_path, caplog):
    (tmp_path / files.INDEX_NAME).write_bytes(b"this is no sqlite database" * 100)
    with caplog.at_level(logging.WARNING, logger="ganlab.store"):
        store = RunStore(tmp_path)
    assert store.runs() == [] and "not a readable index" in caplog.text
    assert list(tmp_path.glob(files.INDEX_NAME + ".unreadable-*"))


def test_run_keys_never_become_paths_outside_the_store(tmp_path):
    with pytest.raises(ValueError):
        files.run_dir(tmp_path, "../../etc")


def test_the_budget_prunes_the_oldest_finished_runs_first_and_never_a_live_run(tmp_path):
    data = blob(20)
    store = RunStore(tmp_path, budget=int(2.5 * len(data)))
    old_done, new_done, live = (store.create("s", "mode_collapse", "", "A", [CFG]) for _ in range(3))
    for key in (old_done, new_done):
        store.write(key, (data,), 40)
        store.set_status(key, "done")
        time.sleep(0.01)
    store.set_status(live, "running")
    store.write(live, (data,), 20)  # 3 files > 2.5 budget: the oldest finished one goes
    assert store.get(old_done).pruned and not store.get(new_done).pruned and not store.get(live).pruned
    assert not files.run_dir(tmp_path, old_done).exists()
    tiny = RunStore(tmp_path, budget=1, boot=store.boot)  # even a budget of nothing keeps the live run's checkpoint
    tiny.prune()
    assert tiny.get(new_done).pruned and not tiny.get(live).pruned and tiny.load(live, 0) is not None
    assert [r.key for r in tiny.runs()] == [old_done, new_done, live]  # pruned runs stay listed


def test_the_default_store_follows_GANLAB_DATA_DIR_and_GANLAB_STORE(tmp_path, monkeypatch):
    monkeypatch.setenv("GANLAB_DATA_DIR", str(tmp_path / "data"))
    assert paths.default_root() == tmp_path / "data"
    assert default_store().root == tmp_path / "data"
    monkeypatch.setenv("GANLAB_STORE", "0")
    assert default_store() is None
    monkeypatch.delenv("GANLAB_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert paths.default_root() == tmp_path / "xdg" / "ganlab"
    monkeypatch.setenv("GANLAB_STORE_BUDGET_MB", "5")
    assert paths.budget_bytes() == 5 * 2**20


def test_nicknames_are_kept_per_hashed_owner(tmp_path):
    store = RunStore(tmp_path)
    store.set_nickname("cookie", "Ada")
    key = store.create("cookie", "mode_collapse", "", "A", [CFG])
    assert RunStore(tmp_path).nickname("cookie") == "Ada" and store.get(key).nickname == "Ada"
    store.set_nickname("cookie", "")
    assert store.nickname("cookie") is None


def test_the_csv_has_a_row_per_run_with_the_lessons_numbers(tmp_path):
    store = RunStore(tmp_path)
    store.set_nickname("c1", "=cmd")
    a = store.create("c1", "mode_collapse", "ring-fixed", "A vs B", [CFG, CFG.replace(pack=4)])
    store.write(a, (None, None), 40, [{"modes_captured": 3.0, "n_modes": 8.0}, {"modes_captured": 8.0}])
    store.set_status(a, "done")
    text = export.to_csv(store.runs())
    lines = text.strip().splitlines()
    assert lines[0].startswith("nickname,page,preset,run,data,model,loss,remedy,status,steps,budget")
    assert len(lines) == 3
    assert lines[1].startswith("'=cmd,mode_collapse,ring-fixed,A,ring,")  # never a spreadsheet formula
    assert "PacGAN 4" in lines[2] and "PacGAN" not in lines[1]
    row = dict(zip(export.COLUMNS, export.rows(store.runs())[0]))
    assert row["modes_captured"] == 3.0 and row["n_modes"] == 8.0 and row["steps"] == 40 and row["status"] == "done"


def test_a_nickname_outlives_a_restart_of_the_classroom(tmp_path):
    from ganlab.jobs.classroom import Classroom

    store = RunStore(tmp_path)
    Classroom(store).set_nickname("cookie", "Ada")
    other = Classroom(store)
    other.set_nickname("someone", "Ada")  # taken by someone else since the restart
    assert Classroom(RunStore(tmp_path)).nickname("cookie") == "Ada"
    restarted = Classroom(RunStore(tmp_path))
    restarted.set_nickname("x", "Bob")
    assert restarted.nickname("cookie") == "Ada" and restarted.has_nickname("cookie")
    assert Classroom().nickname("cookie").startswith("student ")  # no store: memory only, as before


def test_a_late_periodic_save_never_overwrites_the_status_a_run_ended_with(tmp_path):
    store = RunStore(tmp_path)
    key = store.create("s", "mode_collapse", "", "A", [CFG])
    store.write(key, (None,), 10, status="running")
    assert store.get(key).status == "running"
    store.set_status(key, "stopped")  # the manager, at the run's end
    store.write(key, (None,), 20, status="running")  # a save that was on its way
    assert store.get(key).status == "stopped" and store.get(key).step == 20


def test_the_newest_of_an_owners_runs_come_from_the_index_not_a_slice_of_them_all(tmp_path):
    store = RunStore(tmp_path)
    keys = []
    for _ in range(5):
        keys.append(store.create("s", "mode_collapse", "", "A", [CFG]))
        time.sleep(0.01)
    store.create("other", "mode_collapse", "", "A", [CFG])
    assert [r.key for r in store.runs(owner="s", newest=3)] == keys[-3:]  # the newest three, oldest first
    assert [r.key for r in store.runs(owner="s", newest=0)] == []
    assert [r.key for r in store.runs(owner="s")] == keys


def test_an_unusable_data_folder_means_no_store_and_a_log_line_not_a_crash(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GANLAB_DATA_DIR", str(blocker / "store"))
    monkeypatch.setenv("GANLAB_STORE", "1")
    with caplog.at_level(logging.ERROR, logger="ganlab.store"):
        assert default_store_or_none() is None
    assert "cannot open the store" in caplog.text
