"""Shared UI below every domain: the shell, navigation and the widget kit.

Components and widgets for the pages, the list and form state mixins, and the bridge from
states to services; the signed-in session reaches it through the port IAM provides.
"""
