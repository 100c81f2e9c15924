"""Shared plumbing below everything else; imports no domain.

Settings, the config database, SM cryptography, masking, identifier checks, errors, clock and
working days, paging, exports, uploads, download tickets and logging.
"""
