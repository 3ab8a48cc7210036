"""`python -m ganlab.theory ...`: an alias of `python -m ganlab theory ...` (same options, output and errors)."""
import sys

from ganlab.cli.main import main

sys.exit(main(["theory", *sys.argv[1:]]))
