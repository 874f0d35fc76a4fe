"""The clinical model: protocol files, scoring, screening, recommendation and scheduling.

Pure Python (stdlib only): it must not import Qt, SQLAlchemy, reportlab or any other layer.
"""
