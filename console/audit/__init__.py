"""Audit: the operation log (interim DB sink until the log lake takes it over)."""
