"""System jobs: one registry that domains add their scheduled work to, one leader that runs it.

Domains declare jobs in their own ``scheduled.py`` with ``@scheduled(...)``; the app imports
those modules and starts the loop (the backend's lifespan, or ``python -m console scheduler``).
"""
