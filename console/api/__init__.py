"""The console's HTTP API (mounted into Reflex's backend through ``api_transformer``)."""
