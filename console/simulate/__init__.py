"""Demo and synthetic data for newcomers, demos and benchmarks."""
