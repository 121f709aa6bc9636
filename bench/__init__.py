"""Benchmarks: ours against Debian libspandsp 0.0.6, side by side (see bench/README.md)."""
