"""Interfaces: the registry, API keys, institution channels and sharing tasks, with their pages.

The registry is versioned and its endpoints are probed for health; channels follow their
state machine; sharing tasks run on schedules or by hand, every execution recorded.
"""
