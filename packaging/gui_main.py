"""Bundle entry point of the desktop application (genre-tagger-gui)."""

import sys

from desktop.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
