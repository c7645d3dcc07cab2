"""Test support shared by the test layers and the benchmarks (never shipped in the package)."""
