"""Data dictionaries: divisions and national codes every page picks its values from."""
