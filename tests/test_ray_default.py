"""The default backend never pays for Ray: with GANLAB_BACKEND unset, neither the app's modules, nor a job,
nor the CLI import it (checked in a fresh interpreter, where an import could not hide behind an earlier one)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganlab import jobs

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import contextlib, io, json, sys
import ganlab.jobs, ganlab.jobs.classroom
import ganlab.ui.controls, ganlab.ui.session, ganlab.ui.sidebar
import ganlab.ui.mode_collapse.views, ganlab.ui.image_gan.views, ganlab.ui.theory.views
from ganlab import jobs, presets
from ganlab.cli.main import main

config = presets.get("ring-collapse").config.replace(steps=40, log_every=10, batch_size=64)
job = jobs.manager().submit("someone", jobs.RunSpec((config,)), label="default backend")
assert job.join(60) and job.status == "done", job.status
room = ganlab.jobs.classroom.classroom()
rows = room.rows(jobs.manager())
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main(["train", "--preset", "ring-collapse", "--steps", "20", "--json", "--quiet"])
jobs.manager().shutdown()
print(json.dumps({"ray": sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")),
                  "backend": sorted(m for m in sys.modules if "ray_backend" in m),
                  "manager": type(jobs.manager()).__name__, "room": type(room).__name__, "rows": len(rows),
                  "cli": json.loads(out.getvalue())["status"]}))
"""


def test_default_backend_imports_no_ray():
    env = {k: v for k, v in os.environ.items() if k not in ("GANLAB_BACKEND", "RAY_ADDRESS")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"ray": [], "backend": [], "manager": "ProcessJobManager", "room": "Classroom", "rows": 1,
                    "cli": "done"}


def test_backend_names(monkeypatch):
    monkeypatch.delenv("GANLAB_BACKEND", raising=False)
    assert jobs.backend() == "local"
    monkeypatch.setenv("GANLAB_BACKEND", " Ray ")
    assert jobs.backend() == "ray"
    monkeypatch.setenv("GANLAB_BACKEND", "dask")
    with pytest.raises(ValueError, match="GANLAB_BACKEND must be one of local, ray, got 'dask'"):
        jobs.manager()


def test_a_local_ray_is_started_on_a_thread_that_outlives_the_page():
    """Ray's processes die with the thread that started them; a Streamlit page's thread ends with its rerun."""
    import threading

    from ganlab.jobs.ray_backend.connect import _on_lasting_thread

    seen = []

    def start():
        seen.append(threading.current_thread())

    page = threading.Thread(target=_on_lasting_thread, args=(start,))
    page.start()
    page.join(10)
    assert not page.is_alive() and seen and seen[0] is not page and seen[0].is_alive() and seen[0].daemon
    _on_lasting_thread(start)  # from the main thread: right there
    assert seen[1] is threading.main_thread()

    def broken():
        raise RuntimeError("no Ray today")

    failures = []
    page = threading.Thread(target=lambda: failures.append(pytest.raises(RuntimeError, _on_lasting_thread, broken)))
    page.start()
    page.join(10)
    assert failures and "no Ray today" in str(failures[0].value)
