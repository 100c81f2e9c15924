"""Tenants (one per county/district, plus the province) and the data-scope helper."""
