"""`python -m desktop.cli` runs the CLI."""

import sys

from desktop.cli import main

sys.exit(main())
