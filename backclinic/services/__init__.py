"""Use cases: each is one unit of work, one transaction and one audit entry; returns plain data.

May import db and domain; must not import ui, reports or Qt.
"""
