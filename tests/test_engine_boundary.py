"""The engine boundary: `ganlab/` never imports Streamlit outside `ganlab/ui/` (the only UI code in the package).

Checked twice: statically (every import statement in the sources, including ones inside functions) and for
real (import every engine module in a fresh interpreter, then look for 'streamlit' in sys.modules, which also
catches an indirect import through another package).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "ganlab"


def engine_files() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "ui" not in p.relative_to(PKG).parts[:1])


def streamlit_imports(source: str) -> list[int]:
    """Line numbers of `import streamlit...` / `from streamlit... import ...` (also importlib by name)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "streamlit" for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit" and not node.level:
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and str(node.args[0].value).split(".")[0] == "streamlit"
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            lines.append(node.lineno)
    return lines


def test_scanner_finds_the_forms_we_forbid():
    src = "import os\nimport streamlit as st\nfrom streamlit.runtime import x\ndef f():\n    import streamlit\n" \
          "importlib.import_module('streamlit')\nfrom .ui import streamlit_thing\nimport streamlit_ext_like\n"
    assert streamlit_imports(src) == [2, 3, 5, 6]


def test_engine_sources_do_not_import_streamlit():
    files = engine_files()
    assert PKG / "engine" / "trainer.py" in files and PKG / "cli" / "main.py" in files
    assert not any("ui" in p.relative_to(PKG).parts[:1] for p in files)
    bad = {str(p.relative_to(REPO)): lines for p in files if (lines := streamlit_imports(p.read_text()))}
    assert bad == {}, f"streamlit imported outside ganlab/ui/: {bad}"


def test_importing_every_engine_module_leaves_streamlit_unloaded():
    modules = sorted(
        "ganlab" if p.name == "__init__.py" and p.parent == PKG else
        ".".join(p.relative_to(REPO).with_suffix("").parts[:-1] if p.name == "__init__.py"
                 else p.relative_to(REPO).with_suffix("").parts)
        for p in engine_files() if p.name != "__main__.py")
    code = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps({'loaded': [m for m in mods if m in sys.modules],\n"
        "                  'streamlit': sorted(k for k in sys.modules if k.split('.')[0] == 'streamlit')}))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(r["loaded"]) == set(modules) and "ganlab.cli.main" in modules and "ganlab.engine.trainer" in modules
    assert r["streamlit"] == [], f"importing the engine loaded {r['streamlit'][:5]}"
