"""Printed documents (reportlab) built from plain service data.

May import the domain; must not import db, services, ui or Qt.
"""
