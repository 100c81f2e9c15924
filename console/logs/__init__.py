"""The log lake: ingestion, durable storage, sealing, search and trace."""
