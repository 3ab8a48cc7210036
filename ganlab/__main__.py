"""`python -m ganlab train|presets|bench|latent|theory` (the parser is in ganlab/cli/main.py)."""
from ganlab.cli.main import main

raise SystemExit(main())
