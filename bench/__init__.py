"""Benchmarks that print figures (throughput, fan-out, memory) arrive with their issues."""
