"""`python -m ganlab train|presets|bench` (see ganlab/cli.py)."""
from .cli import main

raise SystemExit(main())
