"""Writing results: to stdout (a Rich table for people; JSON, CSV or Markdown for pipes) and to files (text, or an
.xlsx workbook).

Imports only `qualcode.errors`; knows nothing of projects, codes or interviews.
"""
