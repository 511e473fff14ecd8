"""The language switch: Chinese by default, English on request, remembered across pages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Elements of base.html and the Chinese msgid each shows, checked once it has English.
KNOWN_STRINGS = (
    ("a.skip", "跳到正文"),
    ("footer.site-footer", "本站公开的姓名、身份证号、账号均已脱敏处理。"),
)


def _english(msgid: str) -> str:
    with translation.override("en"):
        return translation.gettext(msgid)


def test_site_is_chinese_by_default(page, site):
    page.goto(reverse("publicity:home"))

    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "阳光公示" in page.locator("header").inner_text()


def test_choosing_english_switches_the_page_and_stays_switched(page, site):
    """Picking English in select#lang-select reloads the same page in English."""
    page.goto(reverse("publicity:home"))
    with page.expect_navigation():
        page.locator("#lang-select").select_option("en")

    assert page.locator("html").get_attribute("lang") == "en"
    translated = [(sel, msgid, _english(msgid)) for sel, msgid in KNOWN_STRINGS]
    translated = [t for t in translated if t[2] != t[1]]
    if (settings.BASE_DIR / "locale" / "en").is_dir():
        assert translated, "the English catalogue translates none of base.html's strings"
    for selector, msgid, english in translated:
        text = page.locator(selector).first.inner_text()
        assert english in text and msgid not in text, (selector, text)
    page.goto(reverse("publicity:lookup"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#lang-select").input_value() == "en"
