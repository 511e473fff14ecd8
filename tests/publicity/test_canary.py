"""The canary: unique personal values go in, a crawl of every public surface finds none.

Seeded persons carry names, ID numbers, bank accounts and phone numbers (in 备注) that
occur nowhere else. The crawler walks every page and download reachable from the home
page (plus the contract's known URLs, the lookup result, error pages and the admin) and
fails on any of those values, after folding full-width characters, case, HTML entities,
percent-escapes, spaces and separators out of both the page and the values.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import io
import logging
import re
import unicodedata
import zipfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import NoReverseMatch, path, reverse

from config import urls as site_urls
from funds.models import Batch, Disbursement, Program
from privacy import personal
from privacy.idnumbers import check_character
from tests.factories import make_program
from villages.models import Household, Person, Village

pytestmark = pytest.mark.django_db

MAX_PAGES = 3000
SKIP_PREFIXES = ("/static/", "/media/", "/admin/", "/i18n/", "/staff/")
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_·・.,，、。/\\|:;'\"`\u200b-\u200d\u2060\ufeff\xad]+")
TAGS = re.compile(r"<[^>]*>")


def _id18(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    return body + check_character(body)


@dataclass(frozen=True)
class Canary:
    """One person whose every personal value is a string found nowhere else."""

    name: str
    id_number: str
    account: str
    phone: str
    relation: str = "户主"

    @property
    def id15(self) -> str:
        return self.id_number[:6] + self.id_number[8:17]

    def needles(self) -> dict[str, str]:
        """Return label -> value of everything that must never be published in clear."""
        return {
            f"name {self.name}": self.name,
            f"id18 of {self.name}": self.id_number,
            f"id last 8 of {self.name}": self.id_number[-8:],
            f"id15 of {self.name}": self.id15,
            f"account of {self.name}": self.account,
            f"account middle of {self.name}": self.account[4:-4],
            f"phone of {self.name}": self.phone,
            f"phone last 8 of {self.name}": self.phone[-8:],
        }


HEAD_1 = Canary("甄鑫淼", _id18("341122", "19570829", "735"), "6217002791534468123", "13957264810")
SPOUSE_1 = Canary(
    "甄翠娴", _id18("341122", "19591117", "842"), "6228480317756429016", "15867391524", "配偶"
)
HEAD_2 = Canary(
    "欧阳琼骁", _id18("341122", "19480623", "571"), "6230521946087735214", "18729463051"
)
HEAD_3 = Canary("麴璐珩", _id18("341122", "19631019", "913"), "6212263308475961572", "13682907415")
# Only ever in a draft batch: it must stay invisible even masked.
DRAFT_ONLY = Canary(
    "闫瑾彧", _id18("341122", "19850427", "659"), "6217857306194428350", "13395817062"
)
PAYEE = "扈婵璎"  # 代领人 named only in the 收款人 column (no ID): kept masked in the note
CANARIES = (HEAD_1, SPOUSE_1, HEAD_2, HEAD_3, DRAFT_ONLY)
PUBLIC_CANARIES = (HEAD_1, SPOUSE_1, HEAD_2, HEAD_3)


def fold(text: str) -> str:
    """Normalise text so disguised personal values still match: NFKC, case, entities, gaps."""
    text = html.unescape(unquote(html.unescape(text)))
    text = unicodedata.normalize("NFKC", text).casefold()
    return SEPARATORS.sub("", text)


def all_needles() -> dict[str, str]:
    needles = {}
    for canary in CANARIES:
        needles.update({label: fold(value) for label, value in canary.needles().items()})
    needles[f"payee name {PAYEE}"] = fold(PAYEE)
    return needles


def readable_texts(response) -> list[str]:
    """Return every text a response carries: headers, body, HTML text, spreadsheet cells."""
    body = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    texts = [f"{name}: {value}" for name, value in response.headers.items()]
    if body[:2] == b"PK":  # XLSX (a zip): every member, and the cells as openpyxl reads them
        texts += _xlsx_texts(body)
    else:
        text = body.decode("utf-8-sig", errors="replace")
        texts += [text, TAGS.sub("", text)]
    return texts


def _xlsx_texts(body: bytes) -> list[str]:
    from openpyxl import load_workbook

    texts = []
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for member in archive.namelist():
            raw = archive.read(member).decode("utf-8", errors="replace")
            texts += [raw, TAGS.sub("", raw)]
    workbook = load_workbook(io.BytesIO(body), read_only=True)
    for sheet in workbook.worksheets:
        cells = [sheet.title]
        for row in sheet.iter_rows(values_only=True):
            cells += ["" if v is None else str(v) for v in row]
        texts += ["\n".join(cells), "".join(cells)]
    workbook.close()
    return texts


def leaks_in(texts: Iterable[str], needles: dict[str, str]) -> list[str]:
    """Return the labels of the needles found in any of the texts."""
    folded = [fold(text) for text in texts]
    return [label for label, needle in needles.items() if any(needle in hay for hay in folded)]


def _same_site(href: str, base: str) -> str | None:
    """Return HREF as a path (with query) on this site, or None for other sites and schemes."""
    href = html.unescape(href).strip()
    if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    parts = urlsplit(urljoin(base, href))
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _links(body: str, base: str) -> list[str]:
    hrefs = re.findall(r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']*)["']""", body, flags=re.I)
    return [url for href in hrefs if (url := _same_site(href, base))]


@dataclass
class Crawl:
    """A breadth-first walk over same-site links, recording every leak it meets."""

    client: Client
    needles: dict[str, str]
    allow: Callable[[str], bool] = lambda url: not url.startswith(SKIP_PREFIXES)
    keep_query: bool = True
    visited: dict[str, int] = field(default_factory=dict)
    leaks: list[tuple[str, str]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def run(self, starts: Iterable[str]) -> Crawl:
        queue = deque(starts)
        while queue and len(self.visited) < MAX_PAGES:
            url = queue.popleft()
            if not self.keep_query:
                url = url.split("?", 1)[0]
            if url in self.visited or not self.allow(url):
                continue
            response = self.client.get(url)
            self.visited[url] = response.status_code
            queue.extend(self.check(url, response))
        assert len(self.visited) < MAX_PAGES, "the crawl did not finish"
        return self

    def check(self, url: str, response) -> list[str]:
        """Record leaks in one response; return the links and redirect it leads to."""
        texts = readable_texts(response)
        self.texts[url] = fold(" ".join(texts[-2:]))
        self.leaks += [(url, label) for label in leaks_in(texts, self.needles)]
        location = response.get("Location")
        nexts = [u] if location and (u := _same_site(location, url)) else []
        if "html" in response.get("Content-Type", ""):
            nexts += _links(texts[-2], url)
        return nexts


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Lookup limits live in the cache; each test starts with a clean budget."""
    caches["default"].clear()


# --- seeding -------------------------------------------------------------------------------


def _pipeline_ready() -> bool:
    return importlib.util.find_spec("funds.importing.roster") is not None


ROSTER_HEADER = [
    "序号", "乡镇", "村", "组", "户主姓名", "户主身份证号码", "姓名", "身份证号码", "与户主关系",
    "收款人", "一卡通账号", "补贴面积", "补贴标准", "补贴金额", "发放日期", "备注",
]  # fmt: skip


def _roster_rows(canaries: Iterable[tuple[Canary, Canary, str]]) -> list[list]:
    rows = []
    for n, (person, head, village) in enumerate(canaries, start=1):
        payee = PAYEE if person is HEAD_3 else ""
        rows.append(
            [
                n, "城关镇", village, "三组", head.name, head.id_number, person.name,
                person.id_number, person.relation, payee, person.account, Decimal("2.5"),
                Decimal("40"), Decimal("100.00") + n, date(2026, 3, 15), _note(person),
            ]
        )  # fmt: skip
    return rows


def _note(person: Canary) -> str:
    """Free text as offices write it: phones and IDs inside words, spaced or full-width."""
    spaced = f"{person.phone[:3]} {person.phone[3:7]} {person.phone[7:]}"
    wide = person.phone.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    return f"代领人电话{person.phone}；联系：{spaced}；手机{wide}；身份证{person.id_number}"


def write_roster(target: Path, rows: list[list], title: str) -> Path:
    """Write a roster the way an office keeps it: title row, header, rows, signature footer."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([title])
    sheet.append(ROSTER_HEADER)
    for row in rows:
        sheet.append(row)
    sheet.append(["制表人：", "", "", "", "审核人："])
    workbook.save(target)
    return target


def _import(tmp_path: Path, program: Program, period: str, rows, *, publish: bool) -> Batch:
    from funds.importing.jobs import import_roster

    path = write_roster(tmp_path / f"{program.slug}-{period}.xlsx", rows, "发放花名册")
    report = import_roster(
        path=path, program=program, period=period, township="城关镇", publish=publish
    )
    assert report.batch, report.errors
    return Batch.objects.get(pk=report.batch)


def _seed_with_factories(program: Program, period: str, rows, *, status: str) -> Batch:
    """Stand-in for the import pipeline: same masking functions, rows stored directly."""
    from villages.models import Township

    town = Township.objects.get_or_create(name="城关镇")[0]
    batch = Batch.objects.create(
        program=program,
        period=period,
        year=int(period[:4]),
        township=town,
        source_name="canary.xlsx",
        source_sha256=hashlib.sha256(f"{program.slug} {period}".encode()).hexdigest(),
        status=status,
    )
    total = Decimal("0.00")
    for row in rows:
        village = Village.objects.get_or_create(township=town, name=row[2])[0]
        head = Person.objects.identify(name=row[4], id_number=row[5], relation_to_head="户主")
        household = Household.objects.get_or_create(
            head=head, defaults={"village": village, "group": row[3]}
        )[0]
        Person.objects.filter(pk=head.pk).update(household=household)
        person = Person.objects.identify(
            name=row[6], id_number=row[7], relation_to_head=row[8], household=household
        )
        note = personal.scrub_text(row[15])
        if row[9]:
            note = f"收款人：{personal.mask_name(row[9])}；{note}"
        Disbursement.objects.create(
            batch=batch, program=program, period=period, village=village, household=household,
            person=person, quantity=row[11], rate=row[12], amount=row[13], pay_date=row[14],
            account_masked=personal.mask_account(row[10]),
            account_hash=personal.hash_account(row[10]), note=note[:500], source_row=row[0] + 2,
        )  # fmt: skip
        total += row[13]
    batch.row_count, batch.total_amount = len(rows), total
    batch.save()
    return batch


@dataclass
class CanarySite:
    batches: list[Batch]
    draft: Batch
    programs: list[Program]
    villages: list[Village]
    households: list[Household]
    via_pipeline: bool


@pytest.fixture
def canary_site(tmp_path) -> CanarySite:
    """Seed two published batches and one draft, through the import pipeline when it exists."""
    grain = make_program("金丝雀耕地补贴", slug="canary-grain", unit="亩")
    elderly = make_program("金丝雀高龄津贴", slug="canary-elderly", unit="人")
    grain_rows = _roster_rows(
        [(HEAD_1, HEAD_1, "金丝雀村"), (SPOUSE_1, HEAD_1, "金丝雀村"), (HEAD_2, HEAD_2, "金丝雀村")]
    )
    elderly_rows = _roster_rows([(HEAD_2, HEAD_2, "金丝雀村"), (HEAD_3, HEAD_3, "画眉村")])
    draft_rows = _roster_rows([(DRAFT_ONLY, DRAFT_ONLY, "金丝雀村")])
    via_pipeline = _pipeline_ready()
    if via_pipeline:
        from funds.publishing import finalize_batch

        batches = [
            _import(tmp_path, grain, "2026-03", grain_rows, publish=True),
            _import(tmp_path, elderly, "2026-02", elderly_rows, publish=True),
        ]
        Batch.objects.filter(pk=batches[1].pk).update(publicity_end=date(2026, 3, 1))
        finalize_batch(batch=batches[1])
        draft = _import(tmp_path, elderly, "2026-04", draft_rows, publish=False)
    else:
        batches = [
            _seed_with_factories(grain, "2026-03", grain_rows, status=Batch.Status.PUBLICITY),
            _seed_with_factories(elderly, "2026-02", elderly_rows, status=Batch.Status.FINAL),
        ]
        draft = _seed_with_factories(elderly, "2026-04", draft_rows, status=Batch.Status.DRAFT)
    for batch in [*batches, draft]:
        batch.refresh_from_db()
    assert [b.status for b in batches] == [Batch.Status.PUBLICITY, Batch.Status.FINAL]
    assert draft.status == Batch.Status.DRAFT
    villages = list(Village.objects.filter(name__in=["金丝雀村", "画眉村"]).order_by("name"))
    return CanarySite(
        batches=batches,
        draft=draft,
        programs=[grain, elderly],
        villages=villages,
        households=list(
            Household.objects.filter(disbursements__batch__in=batches).distinct().order_by("pk")
        ),
        via_pipeline=via_pipeline,
    )


# --- the crawl -----------------------------------------------------------------------------


def contract_urls(site: CanarySite) -> list[str]:
    """Return the public URLs the site contract names, for every seeded object."""
    names: list[tuple[str, list]] = [
        ("publicity:home", []),
        ("publicity:township_index", []),
        ("publicity:township", [site.villages[0].township_id]),
        ("publicity:feed", []),
        ("publicity:lookup", []),
        ("publicity:search", []),
    ]
    for batch in site.batches:
        names += [(f"publicity:{n}", [batch.pk]) for n in ("batch", "batch_print", "batch_kiosk")]
    for village in site.villages:
        names += [(f"publicity:{n}", [village.pk]) for n in ("village", "village_kiosk")]
    names += [("publicity:household", [h.pk]) for h in site.households]
    names += [("publicity:program", [p.slug]) for p in site.programs]
    urls, missing = [], []
    for name, args in names:
        try:
            urls.append(reverse(name, args=args))
        except NoReverseMatch:
            missing.append(name)
    assert not missing, f"pages of the site contract are missing: {missing}"
    pages = [reverse("publicity:batch", args=[b.pk]) for b in site.batches]
    pages += [reverse("publicity:village", args=[v.pk]) for v in site.villages]
    urls += [f"{page}download.{fmt}" for page in pages for fmt in ("csv", "xlsx")]
    search = reverse("publicity:search")
    # A full name typed into search is the visitor's own input; only fragments are crawled.
    urls += [f"{search}?q=金丝雀", f"{search}?q=甄", f"{search}?q=画眉"]
    return urls


def crawl_public_site(client: Client, site: CanarySite, needles: dict[str, str]) -> Crawl:
    return Crawl(client, needles).run([reverse("publicity:home"), *contract_urls(site)])


def post_lookups(client: Client, needles: dict[str, str]) -> list[tuple[str, str]]:
    """POST the lookup with right and wrong names; return (what, leak label) pairs."""
    leaks, url = [], reverse("publicity:lookup")
    tries = [
        ("right name", HEAD_1.name, HEAD_1.id_number),
        ("right name, member", SPOUSE_1.name, SPOUSE_1.id_number),
        ("15-digit ID", HEAD_2.name, HEAD_2.id15),
        ("wrong name", "查无此人", HEAD_3.id_number),
        ("draft only", DRAFT_ONLY.name, DRAFT_ONLY.id_number),
    ]
    for what, name, number in tries:
        response = client.post(
            url, {"name": name, "id_number": number, "year": "2026"}, follow=True
        )
        assert response.status_code == 200, what
        for hop, _status in response.redirect_chain:
            leaks += [(f"lookup {what} redirect", label) for label in leaks_in([hop], needles)]
        texts = readable_texts(response)
        leaks += [(f"lookup {what}", label) for label in leaks_in(texts, needles)]
        if what in ("wrong name", "draft only"):
            masked = {
                "masked " + n: fold(personal.mask_name(n)) for n in (HEAD_3.name, DRAFT_ONLY.name)
            }
            leaks += [(f"lookup {what}", label) for label in leaks_in(texts, masked)]
    return leaks


def test_no_personal_value_appears_anywhere_on_the_public_site(client, canary_site, caplog):
    """Every page, download, feed, kiosk and print page reachable from home is clean."""
    needles = all_needles()
    caplog.set_level(logging.DEBUG)
    crawl = crawl_public_site(client, canary_site, needles)
    lookup_leaks = post_lookups(client, needles)

    assert crawl.leaks == []
    assert lookup_leaks == []
    assert [u for u, status in crawl.visited.items() if status >= 500] == []


def test_the_crawl_reaches_the_canaries_masked(client, canary_site):
    """The crawl is not vacuous: every canary shows up masked, and the draft one not at all."""
    crawl = crawl_public_site(client, canary_site, all_needles())
    everything = "".join(crawl.texts.values())

    for household in canary_site.households:
        assert reverse("publicity:household", args=[household.pk]) in crawl.visited
    for canary in PUBLIC_CANARIES:
        assert fold(personal.mask_name(canary.name)) in everything, canary.name
    # A 3 + 1 masked ID is shared by about one person in 11: the masked name is the tell.
    assert fold(personal.mask_name(DRAFT_ONLY.name)) not in everything
    downloads = [u for u in crawl.visited if "/download." in u]
    assert downloads and all(crawl.visited[u] == 200 for u in downloads)
    assert len(crawl.visited) >= 20


def test_logs_and_cache_keys_hold_no_personal_value(client, canary_site, caplog):
    """Lookups and page views log and cache nothing personal in clear."""
    needles = all_needles()
    caplog.set_level(logging.DEBUG)
    crawl_public_site(client, canary_site, needles)
    post_lookups(client, needles)
    lines = [record.getMessage() for record in caplog.records]
    lines += [caplog.text]
    cache = caches["default"]
    keys = [str(k) for k in getattr(cache, "_cache", {})]

    assert leaks_in(lines, needles) == []
    assert leaks_in(keys, needles) == []


def without_echo(texts: list[str], echo: str) -> list[str]:
    """Drop the visitor's own input where a page reflects it (form value, language 'next')."""
    forms = {echo, quote(echo), quote(echo, safe=""), html.escape(echo)}
    for form in sorted(forms, key=len, reverse=True):
        texts = [text.replace(form, "") for text in texts]
    return texts


def test_search_by_id_number_reveals_nothing_beyond_the_query(client, canary_site):
    """Searching for a full ID number finds no person: only the typed query is shown back."""
    needles = all_needles()
    response = client.get(reverse("publicity:search"), {"q": HEAD_1.id_number})
    texts = without_echo(readable_texts(response), HEAD_1.id_number)

    assert response.status_code == 200
    assert leaks_in(texts, needles) == []
    assert fold(personal.mask_name(HEAD_1.name)) not in fold(" ".join(texts))


def test_not_found_pages_reveal_nothing_beyond_the_path(client, canary_site):
    """A 404 for a path holding an ID number, or for a draft's household, shows nothing personal."""
    needles = all_needles()
    draft_household = Household.objects.get(
        head__id_hash=personal.hash_id_number(DRAFT_ONLY.id_number)
    )
    for url in (
        f"/villages/{HEAD_1.id_number[:17]}/",
        f"/no-such-page/{HEAD_1.id_number}/",
        f"/batches/{HEAD_2.id15}/",
        reverse("publicity:household", args=[draft_household.pk]),
        reverse("publicity:batch", args=[canary_site.draft.pk]),
    ):
        response = client.get(url)
        texts = without_echo(readable_texts(response), url)
        assert response.status_code == 404, url
        assert leaks_in(texts, needles) == [], url
        assert fold(personal.mask_name(DRAFT_ONLY.name)) not in fold(" ".join(texts)), url


def test_objections_with_personal_numbers_leave_no_trace(client, staff_client, canary_site):
    """Objection text and contact are stored scrubbed; neither the pages nor the admin echo them."""
    needles = all_needles()
    url = reverse("publicity:objection", args=[canary_site.batches[0].pk])
    text = f"{HEAD_1.name}的身份证{HEAD_1.id_number}，卡号{HEAD_1.account}，电话{SPOUSE_1.phone}"
    invalid = client.post(url, {"text": "", "contact": HEAD_2.phone})
    sent = client.post(url, {"text": text, "contact": HEAD_3.phone}, follow=True)
    crawl = crawl_public_site(client, canary_site, needles)
    admin = Crawl(
        staff_client,
        needles,
        allow=lambda u: u.startswith("/admin/publicity/") and not u.endswith("/delete/"),
        keep_query=False,
    ).run([reverse("admin:publicity_objection_changelist")])

    assert sent.status_code == 200
    numbers = {k: v for k, v in needles.items() if not k.startswith(("name", "payee"))}
    assert leaks_in(readable_texts(invalid), needles) == []
    assert leaks_in(readable_texts(sent), numbers) == []
    assert crawl.leaks == []
    assert [leak for leak in admin.leaks if not leak[1].startswith("name")] == []
    assert len(admin.visited) >= 2


def _explode(request):
    raise RuntimeError(f"roster row for {HEAD_1.name} {HEAD_1.id_number} {HEAD_1.account}")


urlpatterns = [path("canary-boom/", _explode), *site_urls.urlpatterns]


@pytest.mark.urls(__name__)
def test_server_error_page_leaks_nothing(canary_site):
    """Even when a view dies holding personal values, the 500 page shows none of them."""
    client = Client(raise_request_exception=False)
    response = client.get("/canary-boom/")

    assert response.status_code == 500
    assert leaks_in(readable_texts(response), all_needles()) == []


def test_staff_admin_shows_masked_values_only(staff_client, canary_site):
    """Staff pages (lists, change forms, history) show masks, never the raw values."""
    needles = all_needles()
    person = Person.objects.get(id_hash=personal.hash_id_number(HEAD_1.id_number))
    change = reverse("admin:villages_person_change", args=[person.pk])
    crawl = Crawl(
        staff_client,
        needles,
        # Delete pages only repeat the change page's __str__; logout would end the session.
        allow=lambda url: url.startswith("/admin/") and not url.endswith(("/delete/", "/logout/")),
        keep_query=False,
    ).run(["/admin/", change, reverse("admin:funds_disbursement_changelist")])

    page = fold(staff_client.get(change).content.decode())
    assert fold(person.id_masked) in page and fold(person.name_masked) in page
    assert crawl.leaks == []
    assert change in crawl.visited and len(crawl.visited) > 10


# --- the crawler can fail -------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    ["program name", "full-width and spaced in policy basis", "village name", "admin note"],
)
def test_crawler_finds_a_planted_canary(client, staff_client, canary_site, where):
    """Self-test: a canary value planted on a public surface is found by the same crawl."""
    needles = all_needles()
    program, batch = canary_site.programs[0], canary_site.batches[0]
    wide_spaced = " ".join(HEAD_2.id_number).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}
    )
    if where == "program name":
        Program.objects.filter(pk=program.pk).update(name=f"补贴{HEAD_1.id_number}")
    elif where == "full-width and spaced in policy basis":
        Program.objects.filter(pk=program.pk).update(policy_basis=f"依据 {wide_spaced} 号文")
    elif where == "village name":
        Village.objects.filter(pk=canary_site.villages[0].pk).update(
            name=f"{HEAD_3.name}村 {HEAD_3.phone}"
        )
    else:
        Disbursement.objects.filter(batch=batch).update(note=f"账号{HEAD_1.account}")
        change = reverse("admin:funds_disbursement_change", args=[batch.disbursements.first().pk])
        crawl = Crawl(staff_client, needles, allow=lambda u: u == change).run([change])
        assert crawl.leaks
        return

    crawl = crawl_public_site(client, canary_site, needles)

    assert crawl.leaks, f"planted canary ({where}) was not found"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"<td>{HEAD_1.id_number}</td>", True),
        (f"<td>{HEAD_1.id_number[:6]}-{HEAD_1.id_number[6:]}</td>", True),
        (f"<td>{HEAD_1.id_number[:9]}</td><td>{HEAD_1.id_number[9:]}</td>", True),
        ("".join(f"&#{ord(c)};" for c in HEAD_1.id_number), True),
        (HEAD_1.id_number.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}), True),
        ("6217 0027 9153 4468 123", True),
        (f"/lookup/?id={HEAD_1.id15}", True),
        (f"{HEAD_1.name[0]} {HEAD_1.name[1]}　{HEAD_1.name[2]}", True),
        ("甄*淼 341***********" + HEAD_1.id_number[-4:], False),
        ("6217********8123 139****4810", False),
    ],
)
def test_needle_matching_sees_through_disguises(text, found):
    """Separators, full-width digits, entities and escapes do not hide a value; masks pass."""
    assert bool(leaks_in([text], all_needles())) is found
