"""Shared test settings: CI runs hypothesis derandomized, so a failure there reproduces exactly; and
the ``fake_gpu`` fixture, the GPU code path on an emulated device."""
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def fake_gpu(monkeypatch):
    """The 'cuda' device for one test, emulated by tests/fake_cupy.py in place of CuPy (see there): a
    strict stand-in that fails wherever minigan would hand a GPU array to NumPy. Yields the fake ``cupy``."""
    import fake_cupy

    import minigan.classifier
    import minigan.cuda

    fake_cupy.install(monkeypatch)
    yield fake_cupy.cupy
    # What outlives the test must not keep device arrays, nor the answer "CuPy is there".
    minigan.classifier._cache.clear()
    minigan.cuda.why_unavailable.cache_clear()
