"""axe-core on every public and staff page, at phone and desktop widths.

scripts/ensure-axe fetches the pinned axe-core from the npm registry into var/node/ (the test
command runs it; the fixture below runs it too when the file is missing). Each page gets
axe.min.js injected and fails on any violation of impact "serious" or "critical" — colour
contrast included. No rule is disabled. The auditors' Swagger UI (/api/docs/) is third-party
and out of scope.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from demo.rostergen import generate_roster
from funds.models import Batch, ImportJob
from tests.browser.conftest import VIEWPORTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENSURE_AXE = settings.BASE_DIR / "scripts" / "ensure-axe"
BLOCKING = ("serious", "critical")
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    helpUrl: v.helpUrl,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
    count: v.nodes.length,
    summary: (v.nodes[0] && v.nodes[0].failureSummary || "").replace(/\\s+/g, " "),
  }));
}"""


def _axe_path() -> Path:
    version = re.search(r"^VERSION=(\S+)$", ENSURE_AXE.read_text(), re.MULTILINE).group(1)
    return settings.BASE_DIR / "var" / "node" / f"axe-core-{version}" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """Return the pinned axe.min.js, fetching it first (scripts/ensure-axe) when missing."""
    path = _axe_path()
    if not path.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is missing: run scripts/ensure-axe to fetch axe-core")
        subprocess.run(["bash", str(ENSURE_AXE)], check=True)
    return path


@pytest.fixture
def tab(browser, live_server) -> Iterator:
    """Like conftest's page, but axe may be injected whatever Content-Security-Policy says."""
    from django.core.cache import cache

    cache.clear()
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORTS["phone"], locale="zh-CN", bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


class Audit:
    """Run axe on pages as they are reached; collect the blocking violations of all of them."""

    def __init__(self, page, script: Path):
        self.page = page
        self.script = script
        self.audited: list[str] = []
        self.problems: list[str] = []

    def goto(self, name: str, url: str, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response.status == status, (name, url, response.status)
        self.check(name)

    def check(self, name: str) -> None:
        """Audit the current page at each width, restoring the phone width afterwards."""
        page = self.page
        for width, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.add_script_tag(path=str(self.script))
            for v in page.evaluate(RUN_AXE):
                if v["impact"] in BLOCKING:
                    self.problems.append(
                        f"{name} ({width}, {page.url}): {v['id']} [{v['impact']}] "
                        f"on {v['count']} node(s) {v['targets']}\n    {v['summary']}\n"
                        f"    {v['helpUrl']}"
                    )
        page.set_viewport_size(VIEWPORTS["phone"])
        self.audited.append(name)

    def assert_clean(self) -> None:
        assert not self.problems, "accessibility violations:\n" + "\n".join(self.problems)


@pytest.fixture
def audit(tab, axe_script) -> Audit:
    return Audit(tab, axe_script)


def _submit(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def test_the_audit_reports_low_contrast_with_its_details(audit):
    """The check itself works: red text on dark grey (the old error-report button) fails."""
    audit.page.set_content(
        '<html lang="zh-hans"><head><title>t</title></head><body><main><h1>t</h1>'
        '<a href="#" style="color: #8c1d18; background: #555">下载校验结果</a></main></body></html>'
    )
    audit.check("sample")

    assert len(audit.problems) == 2, audit.problems  # at phone and at desktop width
    assert all("color-contrast [serious]" in p and "1.22" in p for p in audit.problems)
    assert "dequeuniversity.com/rules/axe" in audit.problems[0]


def test_public_pages_have_no_serious_violations(audit, site):
    """Every public page, in the states a villager meets, passes axe at both widths."""
    page = audit.page
    site.batch.publicity_start = timezone.localdate() - timedelta(days=1)
    site.batch.publicity_end = timezone.localdate() + timedelta(days=6)
    site.batch.save()
    village, batch = site.village, site.batch

    audit.goto("home", reverse("publicity:home"))
    audit.goto("township index", reverse("publicity:township_index"))
    audit.goto("township", reverse("publicity:township", args=[village.township_id]))
    audit.goto("village", reverse("publicity:village", args=[village.pk]))
    audit.goto("village (bad filter)", reverse("publicity:village", args=[village.pk]) + "?year=x")
    assert page.locator("p.error").count() == 1
    audit.goto("household", reverse("publicity:household", args=[site.household.pk]))
    audit.goto("program", reverse("publicity:program", args=[site.grain.slug]))
    audit.goto("batch notice", reverse("publicity:batch", args=[batch.pk]))
    audit.goto("print", reverse("publicity:batch_print", args=[batch.pk]))
    kiosk = "?speed=0"
    audit.goto("village kiosk", reverse("publicity:village_kiosk", args=[village.pk]) + kiosk)
    audit.goto("batch kiosk", reverse("publicity:batch_kiosk", args=[batch.pk]) + kiosk)
    audit.goto("search", reverse("publicity:search"))
    audit.goto("search results", reverse("publicity:search") + "?q=红星")
    audit.goto("404", "/no-such-page/", status=404)
    audit.goto("404 (draft batch)", reverse("publicity:batch", args=[site.draft.pk]), status=404)

    # The objection form on a notice in its publicity period, sent empty: errors shown.
    page.goto(reverse("publicity:batch", args=[batch.pk]) + "#objection")
    _submit(page, "#objection [type=submit]")
    assert page.locator("#objection .error").count() >= 1
    audit.check("objection form with errors")

    audit.goto("lookup", reverse("publicity:lookup"))
    _submit(page, "#lookup-form [type=submit]")
    assert page.locator("#lookup-form .error").count() >= 1
    audit.check("lookup with errors")
    page.fill("#id_name", site.lookup_name)
    page.fill("#id_id_number", site.lookup_id)
    _submit(page, "#lookup-form [type=submit]")
    assert page.locator("section#lookup-result").count() == 1
    audit.check("lookup result")
    page.fill("#id_name", site.names[1])
    page.fill("#id_id_number", site.lookup_id)
    _submit(page, "#lookup-form [type=submit]")
    assert page.locator("section#lookup-none").count() == 1
    audit.check("lookup no match")

    # The same site in English: lang="en" and the longer texts.
    page.goto(reverse("publicity:home"))
    with page.expect_navigation():
        page.locator("#lang-select").select_option("en")
    audit.check("home (English)")
    audit.goto("batch notice (English)", reverse("publicity:batch", args=[batch.pk]))

    audit.assert_clean()
    assert len(audit.audited) == 22


def _roster(tmp_path: Path, name: str, **options) -> Path:
    path = tmp_path / name
    generate_roster(path, fmt="xlsx", rows=12, seed=11, villages=["红星村", "向阳村"], **options)
    return path


def _upload(page, program, path: Path) -> None:
    page.goto(reverse("funds:upload"))
    page.select_option("#id_program", str(program.pk))
    page.fill("#id_period", "2026-03")
    page.set_input_files("#id_file", str(path))
    _submit(page, ".staff-form [type=submit]")


def test_staff_pages_have_no_serious_violations(audit, site, staff_user, tmp_path):
    """Sign-in, upload, every job state, batches and corrections pass axe at both widths."""
    page = audit.page
    audit.goto("sign-in", reverse("admin:login") + "?next=" + reverse("funds:job_list"))
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", "staff-pass-123")
    _submit(page, "#login-form [type=submit]")
    assert page.url.endswith(reverse("funds:job_list"))
    audit.check("import list (empty)")

    audit.goto("upload", reverse("funds:upload"))
    page.fill("#id_period", "2026-13")
    _submit(page, ".staff-form [type=submit]")
    assert page.locator(".has-error").count() >= 1
    audit.check("upload with errors")

    # A roster with errors: rejected, errors listed, the error-report button offered.
    _upload(page, site.grain, _roster(tmp_path, "错误花名册.xlsx", errors={"check_digit": 2}))
    assert page.locator("#job-status").inner_text() == ImportJob.Status.REJECTED.label
    report_button = page.locator("a.button.secondary[href$='errors.xlsx']")
    assert report_button.count() == 1
    audit.check("job rejected")
    screenshot(page, "a11y-job-rejected")

    # A clean roster: ready, with its preview and the confirm form.
    _upload(page, site.grain, _roster(tmp_path, "花名册.xlsx"))
    assert page.locator("#job-status").inner_text() == ImportJob.Status.READY.label
    audit.check("job ready (preview)")
    # The site already publishes this program's March: the roster repeats it, so confirming
    # asks why (and rows needing a yes are ticked one by one).
    for box in page.locator("input[name=checked], input[name=new_township]").all():
        box.check()
    if page.locator("#id_override_reason").count():
        page.fill("#id_override_reason", "第二批补发")
    _submit(page, "form.confirm [type=submit]")
    assert page.locator("#job-status").inner_text() == ImportJob.Status.IMPORTED.label
    audit.check("job imported")
    imported = ImportJob.objects.get(status=ImportJob.Status.IMPORTED).batch

    running = ImportJob.objects.create(
        program=site.grain,
        period="2026-04",
        original_name="正在检查.xlsx",
        sha256="0" * 64,
        status=ImportJob.Status.PARSING,
        progress=40,
        message="正在读取",
    )
    audit.goto("job parsing", reverse("funds:job_detail", args=[running.pk]))
    audit.goto("import list", reverse("funds:job_list"))

    audit.goto("batch list", reverse("funds:batch_list"))
    audit.goto("batch detail (draft)", reverse("funds:batch_detail", args=[imported.pk]))
    audit.goto("batch detail (publicity)", reverse("funds:batch_detail", args=[site.batch.pk]))
    for action in ("publish", "withdraw"):
        audit.goto(f"confirm {action}", reverse("funds:batch_confirm", args=[imported.pk, action]))
    audit.goto("confirm finalise", reverse("funds:batch_confirm", args=[site.batch.pk, "finalize"]))

    # Corrections: search, select a row, change its amount, preview.
    audit.goto("correction form", reverse("funds:batch_correct", args=[site.batch.pk]))
    page.locator("input[name=sel]").first.check()
    _submit(page, ".correction-search form:not(.search) [type=submit]")
    audit.check("correction form with a row")
    page.locator(".correction input[name$='-amount']").first.fill("-1")
    _submit(page, ".correction [type=submit]")
    audit.check("correction form with errors")
    page.locator(".correction input[name$='-amount']").first.fill("99.00")
    page.fill("#id_reason", "面积核实有误")
    _submit(page, ".correction button[type=submit]")
    assert page.locator("form.confirm").count() == 1
    audit.check("correction preview")

    audit.assert_clean()
    assert len(audit.audited) == 19
    assert Batch.objects.filter(status=Batch.Status.DRAFT, pk=imported.pk).exists()
