"""Services over core and store: a scan, a tag write, an undo, a correction, a playlist."""
