"""Supervision statistics: dashboards, the stats API and reports."""
