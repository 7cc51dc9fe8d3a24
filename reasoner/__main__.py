"""``python -m reasoner`` runs the spinekg command line."""

import sys

from .cli import main

sys.exit(main())
