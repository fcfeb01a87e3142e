"""Benchmarks: Aura against a bare "floor" app doing the same work (`python -m bench.run`)."""
