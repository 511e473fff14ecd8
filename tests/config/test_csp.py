"""The Content-Security-Policy header: on every kind of answer, nothing inline allowed (#15.1).

tests/browser/test_csp.py loads every kind of page in Chromium and fails on any violation; this
checks the header itself and that no template carries inline script, style or handlers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/lookup/",
        "/no-such-page/",
        "/api/docs/",
        "/api/redoc/",
        "/api/v1/programs/",
        "/admin/login/",
        "/staff/imports/",
    ],
)
def test_every_kind_of_answer_carries_the_policy(client, url):
    response = client.get(url)
    directives = _directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["script-src"] == ["'self'"]
    if url == "/api/redoc/":
        # Redoc alone: a per-answer nonce and fixed hashes for its own <style> elements, and
        # its search worker from blob: (api/docs.py says why).
        assert directives["style-src"][0] == "'self'"
        assert directives["style-src"][1].startswith("'nonce-")
        assert all(source.startswith("'sha256-") for source in directives["style-src"][2:])
        assert directives["worker-src"] == ["'self'", "blob:"]
        assert response["Cache-Control"] == "no-store"
    else:
        assert directives["style-src"] == ["'self'"]
        assert "worker-src" not in directives
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_the_redoc_nonce_is_fresh_on_every_answer_and_handed_to_redoc(client):
    first, second = client.get("/api/redoc/"), client.get("/api/redoc/")
    nonces = [_directives(r)["style-src"][1][len("'nonce-") : -1] for r in (first, second)]
    assert nonces[0] != nonces[1]
    assert f'data-nonce="{nonces[0]}"' in first.content.decode()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "script"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_style_or_handlers():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_no_python_code_writes_a_style_attribute():
    """Charts and QR codes are SVG with presentation attributes, which the policy allows."""
    found = []
    for package in ("privacy", "villages", "funds", "publicity", "api", "config"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if re.search(r"""\sstyle=\\?["']""", text):
                found.append(str(path.relative_to(ROOT)))
    assert not found, found
