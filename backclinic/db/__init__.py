"""Persistence: SQLAlchemy 2 typed rows, engines with their pragmas, Alembic migrations.

May import the domain; must not import services, reports, ui or Qt.
"""
