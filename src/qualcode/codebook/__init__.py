"""The codebook: parsing and validating YAML codebooks, storing them in a project (changes applied in place by key),
the code tree, operations on it (rename, merge, move), and its export formats.

May import `store`, `output` and `text`.
"""
