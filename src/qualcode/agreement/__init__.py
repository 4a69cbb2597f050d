"""Agreement between coders: the statistics (percent, kappa, alpha, Fleiss), the units they are computed on (turns,
sentences, characters, interviews), the audit's rows and tables, disagreements, and review into consensus.

May import every package below it, up to `coding`.
"""
