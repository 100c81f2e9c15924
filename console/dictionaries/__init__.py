"""Data dictionaries: divisions and national codes every page picks its values from.

Seeded from committed files, edited with history, imported and exported, tenant-local where
a dictionary allows it, and cached per process for lookups.
"""
