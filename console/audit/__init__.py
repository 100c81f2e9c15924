"""Audit: the operation log of every write and every denial.

Entries are written in the caller's transaction and, once it commits, handed to subscribers
(the log lake's ``operation`` stream).
"""
