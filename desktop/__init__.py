"""Genre Tagger desktop application: core (no Qt, no database), store, services, CLI and UI."""

__version__ = "0.1.0"
APP_NAME = "genre-tagger"
