"""Bundle entry point of the command line (genre-tagger)."""

import sys

from desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
