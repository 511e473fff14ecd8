"""Fixtures of the public-site tests."""

import pytest
from django.core.cache import cache

from tests.publicity.sitedata import make_site


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits live in the cache: each test starts with a clean budget."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site():
    """A township with villages, households and published batches (tests.publicity.sitedata)."""
    return make_site()
