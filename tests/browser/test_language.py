"""The language switch: Chinese by default, English on request, remembered across pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chinese msgids from base.html and the lookup page, whichever have English yet.
KNOWN_MSGIDS = ("阳光公示", "跳到正文", "查询")


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
    chinese = page.locator("body").inner_text()
    with page.expect_navigation():
        page.locator("#lang-select").select_option("en")
    english = page.locator("body").inner_text()

    assert page.locator("html").get_attribute("lang") == "en"
    for msgid in KNOWN_MSGIDS:
        translated = _english(msgid)
        if translated != msgid and msgid in chinese:
            assert translated in english and msgid not in english, msgid
    page.goto(reverse("publicity:lookup"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#lang-select").input_value() == "en"
