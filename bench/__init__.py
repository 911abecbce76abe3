"""Benchmarks (not tests): `make bench` and the per-topic scripts report numbers, they assert nothing."""
