"""qualcode: terminal-first qualitative interview coding for evaluation teams."""

__version__ = "0.1.0"
