"""Use cases: each is one unit of work, one transaction and one audit entry; returns plain data.

May import db, domain and reports (to render documents); must not import ui or Qt.
"""
