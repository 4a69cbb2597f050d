"""Reading and analysing text: YAML files with line numbers, the spaCy pipeline (blank, lookup lemmatiser,
sentencizer), and sentence boundaries.

Imports only `qualcode.errors`; knows nothing of projects.
"""
