"""Shared plumbing: settings, database, logging, errors, clock. Imports no domain."""
