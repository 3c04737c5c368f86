"""Hypothesis profiles for the hostile-input properties.

`ci` (the default) keeps the suite fast; `stress` is the documented long run,
HYPOTHESIS_EXAMPLES cases per property (default 10,000). `benchmarks/stress.py
--properties 10000` runs it in chunks of 1,000 per process with different seeds: one
process running 10,000 in-process commands grows to gigabytes of freed-but-kept heap
(glibc keeps it; `malloc_trim` gives it back, so it is not live objects).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=60, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("stress", max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "10000")), **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
