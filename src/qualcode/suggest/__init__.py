"""Code suggestions: scoring turns with the codebook's patterns and the text classifier, training that classifier,
evaluating suggestions against a coder's decisions, and exporting what a coder would see.

May import `store`, `output`, `text`, `codebook` and `ingest`.
"""
