"""Simulators that run the real domain code on a virtual clock (benchmarks, what-ifs)."""
