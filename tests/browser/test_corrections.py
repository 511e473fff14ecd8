"""The correction loop as a township clerk clicks it, and what villagers then see.

A clerk finds 王小明 by real name, corrects his area (10 亩 → 9.4086 亩), previews, confirms and
publishes the correction; the original notice then marks the row 已更正 under a banner, and the
village page shows him once, at the net amount, with the history folded under it.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from funds.models import Batch, Disbursement
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REAL_NAME, REAL_ID = "王小明", unique_id_number(601)


def _go(page, action) -> None:
    with page.expect_navigation():
        action()


def _digits(text: str) -> str:
    return re.sub(r"(?<=\d)[,，](?=\d)", "", text)


@pytest.fixture
def notice(township_clerk, townships) -> Batch:
    village = make_village("前进村", "东乡镇")
    rows = [
        (REAL_NAME, REAL_ID, Decimal("825.69")),
        *[(person_name(n), unique_id_number(n), Decimal("100.00")) for n in range(610, 614)],
    ]
    batch = make_batch(make_program("耕地地力保护补贴", slug="gengdi", unit="亩"), village, rows)
    Disbursement.objects.filter(batch=batch).update(quantity=Decimal("10"), rate=Decimal("82.569"))
    return batch


def test_a_clerk_corrects_an_area_and_villagers_see_the_correction(page, notice, township_clerk):
    page.goto(reverse("admin:login") + "?next=" + reverse("funds:batch_correct", args=[notice.pk]))
    page.fill("#id_username", township_clerk.username)
    page.fill("#id_password", "clerk-pass-123")
    _go(page, lambda: page.locator("#login-form [type=submit]").click())

    # Search by real name: found, and the name is nowhere in the address or the page.
    page.fill("#correction-search [name=q]", REAL_NAME)
    _go(page, lambda: page.locator("#correction-search [type=submit]").click())
    assert REAL_NAME not in page.url and REAL_NAME not in page.content()
    found = page.locator(".correction-search tbody tr")
    assert found.count() == 1 and "825.69" in found.inner_text()
    found.locator("input[type=checkbox]").check()
    _go(page, lambda: page.get_by_role("button", name="选定勾选的记录").click())

    # Correct the area only; the amount is recomputed in the preview.
    page.locator(".correction [name$='-quantity']").fill("9.4086")
    page.fill("#id_reason", f"{REAL_NAME}实际种植面积为 9.4086 亩")
    _go(page, lambda: page.get_by_role("button", name="预览更正").click())
    preview = page.locator(".correction-lines").inner_text()
    assert "776.86" in preview and "-825.69" in preview and "-48.83" in preview
    assert REAL_NAME not in page.content()
    _go(page, lambda: page.get_by_role("button", name="确认，生成更正批次").click())

    correction = Batch.objects.get(corrects=notice)
    assert correction.title.startswith("更正公示：")
    # Publishing has a second look: its own page, then the confirmation.
    _go(page, lambda: page.get_by_role("link", name=re.compile("发布")).first.click())
    _go(page, lambda: page.get_by_role("button", name="确认发布").click())
    correction.refresh_from_db()
    assert correction.status == Batch.Status.PUBLICITY

    # The original notice: the row is marked 已更正, linking the correction, under a banner.
    page.goto(reverse("publicity:batch", args=[notice.pk]))
    banner = page.locator("#corrected-banner").inner_text()
    assert f"本批次有 1 条记录已更正，见更正公示 #{correction.pk}" in banner
    mark = page.locator("#entries a.corrected")
    assert mark.count() == 1
    _go(page, lambda: mark.click())
    assert page.url.endswith(reverse("publicity:batch", args=[correction.pk]))
    assert "更正公示" in page.locator("h1").inner_text()
    assert "实际种植面积" in page.locator("#correction-facts").inner_text()
    assert REAL_NAME not in page.content()

    # The village page: 王小明 once, at 776.86, the history folded under the row.
    village = notice.disbursements.first().village
    page.goto(reverse("publicity:village", args=[village.pk]))
    rows = page.locator("#entries tbody tr")
    assert rows.count() == 5
    fixed = rows.filter(has=page.locator("details.correction-history"))
    assert fixed.count() == 1 and "776.86" in fixed.inner_text()
    history = fixed.locator("details.correction-history")
    assert not history.locator("ol").is_visible()
    history.locator("summary").click()
    told = _digits(history.inner_text())
    assert "825.69" in told and "-825.69" in told and "776.86" in told and "实际种植面积" in told
    assert "1176.86" in _digits(page.locator("#totals").inner_text())
