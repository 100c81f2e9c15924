"""Demo and synthetic data for newcomers, demos and benchmarks.

A demo province (counties as tenants, organisations, one account per built-in role) and a
province's log events, fed through the real ingestion.
"""
