"""`python -m ganlab.theory`: an alias of `python -m ganlab theory`."""
import sys

from ganlab.cli.theory import main

sys.exit(main())
