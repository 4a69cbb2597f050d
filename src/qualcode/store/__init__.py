"""The project file: opening it, its schema (registered migrations), the queries every package shares (which codings
are live, who the coders are), and the checks and backups of the whole file.

Imports only `qualcode.errors` and `qualcode.text` (which languages are known, for the check). Everything above goes
through `store.db.transaction` to write.
"""
