"""BDC Console: operations and supervision console for real-estate registration."""

__version__ = "0.1.0"
