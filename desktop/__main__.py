"""`python -m desktop` starts the GUI."""

import sys

from desktop.ui.app import main

sys.exit(main())
