"""Benchmarks and the synthetic scan corpus they (and the tests) use."""
