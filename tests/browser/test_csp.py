"""No Content-Security-Policy violation on any kind of page, public or staff (issue #15.1).

An init script records every `securitypolicyviolation` event of each page before the page's own
scripts run; console errors naming the Content Security Policy are collected too.
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from funds.models import ImportJob
from tests.browser.test_clerk_loop import _roster, _sign_in, _submit, _upload
from tests.browser.test_pages import _key_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push([event.violatedDirective, event.blockedURI, event.sourceFile,
                               event.lineNumber, event.sample].join(" "));
});
"""


class Watch:
    """The violations seen so far, page by page."""

    def __init__(self, page):
        self.page = page
        self.found: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.found.append(f"console: {message.text}")

    def visit(self, name: str, url: str, *, ready: str | None = None, status: int = 200):
        response = self.page.goto(url)
        assert response.status == status, (name, response.status)
        assert "'unsafe-inline'" not in (response.headers.get("content-security-policy") or "")
        if ready:
            self.page.wait_for_selector(ready, timeout=30_000)
        self.page.wait_for_load_state("networkidle")
        self.collect(name)

    def collect(self, name: str):
        events = self.page.evaluate("window.__cspViolations || []")
        self.found += [f"{name}: {event}" for event in events]


def test_no_public_page_violates_the_policy(page, site, live_server):
    watch = Watch(page)
    assert page.goto("/").headers["content-security-policy"]
    pages = {
        **_key_pages(site),
        "township": reverse("publicity:township", args=[site.village.township_id]),
        "village notice": reverse(
            "publicity:village_notice", args=[site.batch.pk, site.village.pk]
        ),
        "batch kiosk": reverse("publicity:batch_kiosk", args=[site.batch.pk]) + "?speed=0",
        "search": reverse("publicity:search") + "?q=红星",
        "verify": reverse("publicity:verify"),
        "lookup": reverse("publicity:lookup"),
        "bulk downloads": reverse("publicity:bulk"),
    }
    for name, url in pages.items():
        watch.visit(name, url)

    # The lookup answered, the print buttons and the language menu used (their scripts run).
    page.goto(reverse("publicity:lookup"))
    page.fill("#id_name", site.lookup_name)
    page.fill("#id_id_number", site.lookup_id)
    with page.expect_navigation():
        page.locator("main form [type=submit]").first.click()
    watch.collect("lookup answer")
    page.goto(reverse("publicity:batch_print", args=[site.batch.pk]))
    page.evaluate("window.print = function () { window.__printed = true; }")
    page.click("[data-print]")
    assert page.evaluate("window.__printed === true"), "the print button works without onclick"
    page.goto(reverse("publicity:home"))
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.locator("html").get_attribute("lang") == "en", "the language menu still submits"
    watch.collect("language menu")

    # Not found, and the server-error page (served as Django would, with this site's policy).
    watch.visit("404", "/no-such-page/", status=404)
    policy = page.goto("/").headers["content-security-policy"]
    page.route(
        "**/boom/",
        lambda route: route.fulfill(
            status=500,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": policy},
            body=render_to_string("500.html"),
        ),
    )
    watch.visit("500", "/boom/", status=500)
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none", "its CSS loads"
    # The database-away page likewise (config.errors renders it without a request context).
    page.route(
        "**/db-away/",
        lambda route: route.fulfill(
            status=503,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": policy},
            body=render_to_string("503.html"),
        ),
    )
    watch.visit("503", "/db-away/", status=503)
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 0, "its CSS loads"

    # Downloads and the feed are files, not pages; they answer.
    for url in (
        reverse("publicity:batch_download", args=[site.batch.pk, "csv"]),
        reverse("publicity:village_download", args=[site.village.pk, "xlsx"]),
        reverse("publicity:feed"),
    ):
        assert page.request.get(url).status == 200, url

    # The API docs: Swagger UI and Redoc render the schema.
    watch.visit("swagger", "/api/docs/", ready=".swagger-ui .info")
    watch.visit("redoc", "/api/redoc/", ready="#redoc-container h1")
    assert not watch.found, "\n".join(watch.found)


def test_no_staff_page_violates_the_policy(page, staff_user, tmp_path, live_server):
    from tests.factories import make_program

    watch = Watch(page)
    watch.visit("admin login", reverse("admin:login"))
    _sign_in(page, staff_user)
    watch.collect("signed in")
    watch.visit("job list", reverse("funds:job_list"))
    watch.visit("upload", reverse("funds:upload"))
    program = make_program("耕地地力保护补贴（CSP）", slug="grain-csp", unit="亩")
    job = _upload(page, program, _roster(tmp_path, "三月.xlsx"))
    watch.collect("preview")
    watch.visit("preview again", reverse("funds:job_detail", args=[job.pk]))
    for box in page.locator("input[name=checked], input[name=new_township]").all():
        box.check()
    _submit(page, "form.confirm [type=submit]")
    watch.collect("confirmed")
    batch_id = ImportJob.objects.get(pk=job.pk).batch_id
    watch.visit("batch list", reverse("funds:batch_list"))
    watch.visit("batch page", reverse("funds:batch_detail", args=[batch_id]))
    watch.visit("publish", reverse("funds:batch_confirm", args=[batch_id, "publish"]))
    watch.visit("admin", reverse("admin:index"))
    watch.visit("admin batches", reverse("admin:funds_batch_changelist"))
    assert not watch.found, "\n".join(watch.found)
