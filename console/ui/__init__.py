"""Shared UI: the console shell, navigation and reusable components."""
