"""The printed A4 notice, the kiosk screen and the Atom feed."""

from pathlib import Path

import pytest
from defusedxml import ElementTree
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db
STATIC = Path(settings.BASE_DIR) / "static"


def test_print_page_has_an_inline_qr_svg_to_the_notice_and_signature_lines(client, site):
    response = client.get(reverse("publicity:batch_print", args=[site.published.pk]))
    text = response.content.decode()
    assert "<svg" in text and 'class="qr"' in text
    assert f"http://testserver/batches/{site.published.pk}/" in text
    assert "签字" in text and "公示日期" in text
    assert "css/print.css" in text
    assert 'class="site-nav"' not in text and 'id="lang-select"' not in text
    assert "1,234.50" in text and "3,706.50" in text


def _path_data(svg: str) -> str:
    start = svg.index(' d="')
    return svg[start : svg.index('"', start + 4)]


def test_print_qr_code_encodes_the_batch_url(client, site):
    import segno

    url = f"http://testserver/batches/{site.published.pk}/"
    expected = segno.make(url, error="m", micro=False).svg_inline(scale=4, border=2)
    text = client.get(reverse("publicity:batch_print", args=[site.published.pk])).content.decode()
    assert _path_data(expected) in text


def test_print_stylesheet_sets_a4_margins_repeating_headers_and_page_breaks():
    css = (STATIC / "css" / "print.css").read_text()
    assert "size: A4" in css and "margin:" in css
    assert "table-header-group" in css
    assert "break-inside: avoid" in css and "page-break-inside: avoid" in css
    assert "@media print" in css and "display: none" in css


@pytest.mark.parametrize("which", ["batch", "village"])
def test_kiosk_has_the_scrolling_list_and_its_script_and_no_nav(client, site, which):
    pk = site.published.pk if which == "batch" else site.village.pk
    text = client.get(reverse(f"publicity:{which}_kiosk", args=[pk])).content.decode()
    assert 'id="kiosk-list"' in text and 'data-loops="0"' in text and 'data-speed="40"' in text
    assert "js/kiosk.js" in text and "css/kiosk.css" in text
    assert 'class="site-nav"' not in text
    assert "1,234.50" in text


def test_kiosk_honours_the_speed_parameter_and_clamps_nonsense(client, site):
    url = reverse("publicity:batch_kiosk", args=[site.published.pk])
    assert 'data-speed="120"' in client.get(url, {"speed": "120"}).content.decode()
    assert 'data-speed="40"' in client.get(url, {"speed": "fast"}).content.decode()
    assert 'data-speed="5000"' in client.get(url, {"speed": "99999999"}).content.decode()


def test_kiosk_script_is_self_contained_restarts_and_respects_reduced_motion():
    script = (STATIC / "js" / "kiosk.js").read_text()
    assert "kiosk-list" in script and "dataset.loops" in script
    assert "prefers-reduced-motion" in script
    assert "http" not in script and "import " not in script


def test_feed_lists_only_published_batches(client, site):
    response = client.get(reverse("publicity:feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    links = {e.find("a:link", ns).get("href") for e in root.findall("a:entry", ns)}
    assert links == {
        f"http://testserver/batches/{site.published.pk}/",
        f"http://testserver/batches/{site.final.pk}/",
    }
    assert site.head_id.encode() not in response.content
