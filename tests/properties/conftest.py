"""Hypothesis profiles for the hostile-input properties.

`ci` (the default) keeps the suite fast; `stress` is the documented long run:
`HYPOTHESIS_PROFILE=stress .venv/bin/pytest -q tests/properties` (or `nox -s stress`),
at least 10,000 cases per property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=60, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("stress", max_examples=10_000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
