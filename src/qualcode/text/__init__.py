"""Reading and analysing text: languages (which are known, detecting one), YAML files with line numbers, the spaCy
pipeline for a language (blank, lookup lemmatiser, sentencizer), and sentence boundaries.

Imports only `qualcode.errors`; knows nothing of projects.
"""
