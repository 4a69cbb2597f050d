"""Getting transcripts into a project: one parser per format (`transcripts/`), the importer, participants and
interviews as stored, and re-anchoring codings when an edited transcript is imported again.

May import `store`, `output`, `text` and `codebook`.
"""
