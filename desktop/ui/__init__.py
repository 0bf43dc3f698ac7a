"""The PySide6 face: widgets and Qt models over the same services as the CLI."""
