"""REFI-QDA exchange: codebooks (.qdc) and projects (.qdpx) with MAXQDA, ATLAS.ti, NVivo, QualCoder and others.

Every file read here is untrusted: XML is parsed without DTDs or entities, archives are read in memory with size
limits and no path leaves the archive.
"""
