"""The bulk downloads page: fits a phone, passes axe, and its links download the files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.urls import reverse

from publicity import bulk
from tests.browser import test_accessibility as accessibility

# The accessibility tests' fixtures: a page that may inject axe, and axe itself.
tab, axe_script = accessibility.tab, accessibility.axe_script

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def built(site, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return bulk.build()


def test_the_bulk_page_fits_a_phone_and_passes_axe(tab, axe_script, built):
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(reverse("publicity:bulk"))
    width = tab.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 391, f"the bulk page is {width}px wide on a 390px phone"
    audit = accessibility.Audit(tab, axe_script)
    audit.check("bulk downloads")
    assert tab.locator("table.bulk-files a[download]").count() == len(built["files"])
    audit.assert_clean()


def test_a_file_link_downloads_the_file_of_the_manifest(tab, built):
    tab.goto(reverse("publicity:bulk"))
    entry = built["files"][0]
    with tab.expect_download() as info:
        tab.locator(f"a[download][href$='{entry['name']}']").click()
    data = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
