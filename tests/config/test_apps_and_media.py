"""Unused apps are gone and Django never serves the media folder (issue #15.1)."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.urls import Resolver404, clear_url_caches, get_resolver
from django.views.static import serve


def test_the_unused_token_app_is_not_installed():
    assert not apps.is_installed("rest_framework.authtoken")


def test_media_is_not_served_even_with_debug_on(settings, tmp_path):
    """Error reports are downloaded only through the staff views that check permissions."""
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports" / "report.xlsx").write_bytes(b"secret")
    import config.urls

    try:
        clear_url_caches()
        importlib.reload(config.urls)
        resolver = get_resolver("config.urls")
        for path in ("/imports/report.xlsx", f"{settings.MEDIA_URL}imports/report.xlsx"):
            try:
                match = resolver.resolve(path if path.startswith("/") else "/" + path)
            except Resolver404:
                continue
            assert match.func is not serve, path
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
        clear_url_caches()
