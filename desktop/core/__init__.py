"""Audio, model, tags and scanning: no Qt and no database here."""
