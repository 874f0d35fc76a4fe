"""Case files (``backclinic-case/1``) as plain data: read a document, word its errors, write one.

Pure Python (jsonschema at most): no Qt, no database; the case service stores and loads.
"""
