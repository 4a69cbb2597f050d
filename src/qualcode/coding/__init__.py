"""Coding: applying and removing codes (batches, undo, history), the coding session's engine and screens' data,
retrieval and search, coding files, and merging another project's codings.

May import every package below it: `store`, `output`, `text`, `codebook`, `ingest`, `suggest`.
"""
