"""``python -m cnncourse``: the ``cnncourse`` command, for when it is not on PATH."""
import sys

from .cli import main

sys.exit(main())
