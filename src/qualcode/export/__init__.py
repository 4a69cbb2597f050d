"""What an evaluation publishes: the coded segments an export is built from, theme summaries, matrices, spreadsheet
tables, redaction, charts and the HTML report, each as file contents in its formats.

May import every package below it, up to `agreement`.
"""
