"""PySide6 widgets, dialogs, the plan wizard and Qt models over service data.

Calls services and reports; must never import db or SQLAlchemy, and holds no clinical rules.
"""
