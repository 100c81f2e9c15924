"""The log lake: ingestion, durable storage, sealing, rollups, search, trace and retention.

Sealed days are chained with SM3 and checked; searches export as CSV, XLSX or Parquet; the
console's own operations and errors flow into the same lake.
"""
