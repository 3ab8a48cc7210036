"""`python -m ganlab train|presets|bench` (see ganlab/cli.py)."""
from ganlab.cli.main import main

raise SystemExit(main())
