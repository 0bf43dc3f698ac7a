"""The library database: SQLite through SQLAlchemy."""
