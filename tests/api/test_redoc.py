"""Redoc, the API's reading docs, is served from this site alone: no CDN, no web fonts."""

import json
import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


# Any scheme-relative or absolute URL: a host the browser would fetch from.
REMOTE_URL = re.compile(r"""(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,})""", re.IGNORECASE)


def test_redoc_loads_no_remote_fonts_or_assets(client):
    """The Redoc page links no external host (no Google Fonts), nor do its settings."""
    page = client.get("/api/redoc/").content.decode()
    assert "fonts.googleapis" not in page and "fonts.gstatic" not in page
    assert REMOTE_URL.findall(page) == []
    ui = settings.SPECTACULAR_SETTINGS.get("REDOC_UI_SETTINGS", {})
    assert REMOTE_URL.findall(json.dumps(ui)) == []
    # Redoc's own default fonts (Montserrat, Roboto) are named nowhere: system fonts only.
    assert "Montserrat" not in page and "Roboto" not in json.dumps(ui)
