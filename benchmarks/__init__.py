"""Benchmarks of seatcalc against the tools a user would otherwise reach for."""
