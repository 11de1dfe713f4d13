"""Hypothesis profiles: ``HYPOTHESIS_PROFILE=ci`` (500 examples per property, derandomized;
a few heavy properties ask for fewer with ``tests.strategies.at_most``) or ``dev`` (the
default: 50 examples, quick)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
