"""How many ID numbers stay consistent with everything Sunlight publishes about one person.

docs/privacy.md explains the analysis; this module makes it exact. An ID number is 6 digits of
region, 8 of birth date, 3 of sequence (the third one odd for men, even for women) and a
check character that the other 17 fix (GB 11643). What is public about a person:

- the masked ID (the digits the masking policy keeps);
- the region: the county code of their village is public (``/api/v1/townships/``), and we
  assume the ID was issued there, so exactly one region code;
- the sex: relations (长子, 儿媳) and given names often tell it, so we assume it is known;
- the birth date: born before their first published payment and at most 120 years before
  their last; a program's age rule (``min_age``/``max_age``) and, for an age-banded allowance
  like 高龄津贴, the amount (the county's published bands: 80–89, 90–99, 100+) put it in a band
  for each month paid — a band crossing between two months pins it to about a month.

The candidates are the valid ID numbers that fit all of that; the villagers' lookup confirms
one guess at a time. The rule (../shared/DESIGN.md, "Personal data"): at least 1,000 for every
published person. The count is combinatorial: birth dates and sequence numbers are grouped by
their contribution to the check sum modulo 11; a test checks it against brute enumeration.
"""

from __future__ import annotations

import calendar
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from django.core.cache import cache as django_cache

from demo.rostergen import generate_roster
from funds.importing.jobs import import_roster
from funds.models import Batch, ImportStatus, Program
from privacy import personal
from privacy.idnumbers import check_character
from privacy.masking import DEFAULT_POLICY, MaskingPolicy, mask_id_number
from tests.factories import id_number, make_batch, make_village, person_name
from villages.models import Person, Township

MIN_CANDIDATES = 1000
# GB 11643: the weights of the 17 digits, and the check character of each sum modulo 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)  # the earliest birth date an ID may carry (privacy.idnumbers)
LIFESPAN_YEARS = 120  # nobody paid is older

COUNTY = "341122"  # 来安县: the county code of the seeded township
# The county's published bands of the age allowance: monthly amount → (youngest, oldest age).
ELDERLY_BANDS: dict[Decimal, tuple[int, int | None]] = {
    Decimal("100.00"): (80, 89),
    Decimal("200.00"): (90, 99),
    Decimal("500.00"): (100, None),
}
ELDERLY_GUIDE = "标准：80—89周岁每人每月100元，90—99周岁每人每月200元，100周岁及以上每人每月500元。"


# --- Counting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Public:
    """What is public about one person, as someone trying to recover their ID would gather it."""

    id_masked: str
    regions: frozenset[str]  # the 6-digit region codes their ID may open with
    born_from: date  # earliest birth date consistent with what is public
    born_to: date  # latest
    sex: str | None  # 'M' or 'F' when known


def _residue(digits: str, start: int) -> int:
    """Return the check-sum contribution of DIGITS written from position START, modulo 11."""
    return sum(int(d) * WEIGHTS[start + i] for i, d in enumerate(digits)) % 11


def _fits(text: str, shown: str, mask_char: str) -> bool:
    """Say whether TEXT agrees with every character SHOWN (mask characters agree with all)."""
    return all(s in (mask_char, t) for t, s in zip(text, shown, strict=True))


@cache
def _date_residues(born_from: date, born_to: date, shown: str, mask_char: str) -> tuple[int, ...]:
    """Count the birth dates of the window that fit the shown digits 7–14, by check residue."""
    counts = [0] * 11
    day = max(born_from, EARLIEST_BIRTH)
    while day <= born_to:
        text = f"{day:%Y%m%d}"
        if _fits(text, shown, mask_char):
            counts[_residue(text, 6)] += 1
        day += timedelta(days=1)
    return tuple(counts)


@cache
def _sequence_residues(shown: str, sex: str | None, mask_char: str) -> tuple[int, ...]:
    """Count the sequence numbers 000–999 that fit the shown digits 15–17 and SEX, by residue."""
    counts = [0] * 11
    for n in range(1000):
        text = f"{n:03d}"
        if _fits(text, shown, mask_char) and (sex is None or (n % 2 == 1) == (sex == "M")):
            counts[_residue(text, 14)] += 1
    return tuple(counts)


def count_candidates(public: Public, *, mask_char: str = "*") -> int:
    """Count the valid 18-character ID numbers consistent with PUBLIC, exactly."""
    masked = public.id_masked
    if len(masked) != 18:
        raise ValueError("an 18-character masked ID is needed")
    dates = _date_residues(public.born_from, public.born_to, masked[6:14], mask_char)
    sequences = _sequence_residues(masked[14:17], public.sex, mask_char)
    check = masked[17]
    total = 0
    for region in public.regions:
        if not _fits(region, masked[:6], mask_char):
            continue
        base = _residue(region, 0)
        for date_residue, date_count in enumerate(dates):
            for sequence_residue, sequence_count in enumerate(sequences):
                residue = (base + date_residue + sequence_residue) % 11
                # A masked check character fits the one check character every body has.
                if check == mask_char or CHECK_CHARACTERS[residue] == check:
                    total += date_count * sequence_count
    return total


def consistent(public: Public, number: str, *, policy: MaskingPolicy = DEFAULT_POLICY) -> bool:
    """Say whether the ID NUMBER is one of the candidates PUBLIC leaves (enumeration's test)."""
    born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    sex = "M" if int(number[16]) % 2 else "F"
    return (
        number[:6] in public.regions
        and max(public.born_from, EARLIEST_BIRTH) <= born <= public.born_to
        and (public.sex is None or public.sex == sex)
        and mask_id_number(number, policy) == public.id_masked
        and check_character(number[:17]) == number[17]
    )


# --- What the published rows imply about a birth date ---------------------------------------


def years_before(day: date, years: int) -> date:
    """Return the same day YEARS earlier (28 February for a 29 February that does not exist)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def month_bounds(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def born_between(period: str, youngest: int | None, oldest: int | None) -> tuple[date, date]:
    """Return the birth dates of someone aged YOUNGEST to OLDEST on some day of PERIOD."""
    first, last = month_bounds(period)
    earliest = years_before(first, (oldest if oldest is not None else LIFESPAN_YEARS) + 1)
    latest = years_before(last, youngest or 0)
    return earliest + timedelta(days=1), latest


def age_at_month_end(born: date, period: str) -> int:
    last = month_bounds(period)[1]
    return last.year - born.year - ((last.month, last.day) < (born.month, born.day))


def elderly_amount(born: date, period: str) -> Decimal:
    """The monthly allowance of someone born on BORN, by the band of their age that month."""
    age = age_at_month_end(born, period)
    for amount, (youngest, oldest) in ELDERLY_BANDS.items():
        if youngest <= age and (oldest is None or age <= oldest):
            return amount
    raise ValueError("too young for the allowance")


# --- Gathering what is public, from the public API ------------------------------------------


def api_items(client, url: str) -> list[dict[str, Any]]:
    """Return every item of a public API list, following its pages."""
    items: list[dict[str, Any]] = []
    while url:
        django_cache.clear()  # the anonymous rate limit is not what is measured here
        page = client.get(url).json()
        items += page["results"]
        url = page["next"]
    return items


def public_facts(client, *, sexes: dict[int, str]) -> dict[int, Public]:
    """Return, for every published person, what the public API tells about their ID number.

    SEXES: each person's sex, assumed known (see the module's docstring).
    """
    townships = {t["id"]: t for t in api_items(client, "/api/v1/townships/?page_size=500")}
    villages = {v["id"]: v for v in api_items(client, "/api/v1/villages/?page_size=500")}
    programs = {p["id"]: p for p in api_items(client, "/api/v1/programs/?page_size=500")}
    households = {h["id"]: h for h in api_items(client, "/api/v1/households/?page_size=500")}
    persons = api_items(client, "/api/v1/persons/?page_size=500")
    rows = api_items(client, "/api/v1/disbursements/?page_size=500")
    bands = {pid: ELDERLY_BANDS for pid, p in programs.items() if p["slug"] == "elderly-allowance"}

    def region(village_id: int) -> str:
        return townships[villages[village_id]["township"]]["code"][:6]

    facts: dict[int, Public] = {}
    for person in persons:
        pid = person["id"]
        named = [
            r
            for r in rows
            if pid in (r["person"], r["payee"]) or households[r["household"]]["head"] == pid
        ]
        periods = sorted(r["period"] for r in named)
        born_from = born_between(periods[-1], None, None)[0]
        born_to = month_bounds(periods[0])[1]
        for row in (r for r in named if r["person"] == pid):
            program = programs[row["program"]]
            youngest, oldest = program["min_age"], program["max_age"]
            if row["program"] in bands:
                youngest, oldest = bands[row["program"]][Decimal(row["amount"])]
            if youngest is not None or oldest is not None:
                start, end = born_between(row["period"], youngest, oldest)
                born_from, born_to = max(born_from, start), min(born_to, end)
        facts[pid] = Public(
            id_masked=person["id_masked"],
            regions=frozenset(region(r["village"]) for r in named),
            born_from=born_from,
            born_to=born_to,
            sex=sexes[pid],
        )
    return facts


# --- A seeded county --------------------------------------------------------------------------


@dataclass
class County:
    raw_ids: dict[int, str]  # person pk → the ID number the rosters carried (for the tests)
    unpublished: set[int]  # persons named only by a draft roster
    band_crossers: set[int]  # persons whose allowance moved up a band between two months


ROSTERS = (
    # (program slug, period, rows, seed, roster options, published)
    ("cultivated-land", "2025-04", 80, 11, {"unique_offset": 0}, True),
    ("cultivated-land", "2026-04", 80, 12, {"unique_offset": 0}, True),
    (
        "dibao",
        "2026-01",
        60,
        21,
        {"per_person": True, "with_quantity": False, "unique_offset": 900},
        True,
    ),
    ("disability-two", "2026-03", 30, 41, {"with_quantity": False, "unique_offset": 2000}, False),
)
# Birth dates of the age allowance's beneficiaries, paid for 2026-02 and 2026-03: every band,
# its edges, and birthdays that move a person up a band between the two months.
ELDERLY_BIRTHS = (
    date(1946, 2, 1),  # turns 80 in February 2026: the youngest possible
    date(1945, 12, 31),
    date(1941, 7, 15),
    date(1937, 1, 1),
    date(1936, 3, 10),  # turns 90 in March: 100 yuan in February, 200 in March
    date(1936, 3, 31),  # the same crossing, at the end of the month
    date(1936, 2, 29),  # born on a leap day: 89 at the end of February 2026, 90 in March
    date(1931, 6, 6),
    date(1926, 3, 1),  # turns 100 in March
    date(1921, 11, 30),  # 104
)


def seed_county(tmp_path) -> County:
    """Import realistic rosters through the real pipeline and pay an age-banded allowance."""
    Township.objects.create(name="城关镇", code=f"{COUNTY}100", county="来安县")
    raw: list[str] = []
    unpublished: list[str] = []
    for slug, period, rows, seed, options, published in ROSTERS:
        path = tmp_path / f"{slug}-{period}.xlsx"
        program = Program.objects.get(slug=slug)
        roster = generate_roster(
            path,
            fmt="xlsx",
            rows=rows,
            seed=seed,
            township="城关镇",
            villages=["东风村", "红旗村"],
            program=program.name,
            period=period,
            **options,
        )
        report = import_roster(path=path, program=program, period=period, publish=published)
        assert report.status == ImportStatus.IMPORTED, report.errors
        numbers = {*roster.ids, *roster.head_of.values()}
        (raw if published else unpublished).extend(numbers)
    elderly = Program.objects.get(slug="elderly-allowance")
    elderly.application_guide = ELDERLY_GUIDE
    elderly.save()
    village = make_village("东风村", "城关镇")
    people = [
        (person_name(400 + n), id_number(400 + n, region=COUNTY, birth=born))
        for n, born in enumerate(ELDERLY_BIRTHS)
    ]
    for period in ("2026-02", "2026-03"):
        make_batch(
            elderly,
            village,
            [(name, number, elderly_amount(_born(number), period)) for name, number in people],
            period=period,
            status=Batch.Status.PUBLICITY,
        )
    raw += [number for _name, number in people]
    by_hash = {personal.hash_id_number(n): n for n in {*raw, *unpublished}}
    persons = dict(Person.objects.values_list("pk", "id_hash"))
    raw_ids = {pk: by_hash[h] for pk, h in persons.items()}
    crossers = {
        pk
        for pk, n in raw_ids.items()
        if n in dict(people).values()
        and elderly_amount(_born(n), "2026-02") != elderly_amount(_born(n), "2026-03")
    }
    return County(
        raw_ids=raw_ids,
        unpublished={pk for pk, n in raw_ids.items() if n in set(unpublished) - set(raw)},
        band_crossers=crossers,
    )


def _born(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# --- Tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy",
    [
        DEFAULT_POLICY,
        MaskingPolicy(id_keep_tail=4),
        MaskingPolicy(id_keep_tail=2),
        MaskingPolicy(id_keep_head=6, id_keep_tail=0),
        MaskingPolicy(id_keep_head=12, id_keep_tail=1),
    ],
    ids=["default", "3+4", "3+2", "6+0", "12+1"],
)
@pytest.mark.parametrize("sex", [None, "F"])
def test_the_count_equals_brute_enumeration(policy, sex):
    """Every valid ID of two regions and 40 days of births, masked and compared one by one."""
    truth = id_number(7, region=COUNTY, birth=date(1936, 3, 10), sex="F")
    public = Public(
        id_masked=mask_id_number(truth, policy),
        regions=frozenset({COUNTY, "341124"}),
        born_from=date(1936, 2, 20),
        born_to=date(1936, 3, 31),
        sex=sex,
    )
    enumerated = 0
    for region in sorted(public.regions):
        day = public.born_from
        while day <= public.born_to:
            for n in range(1000):
                body = f"{region}{day:%Y%m%d}{n:03d}"
                enumerated += consistent(public, body + check_character(body), policy=policy)
            day += timedelta(days=1)
    assert count_candidates(public) == enumerated
    assert consistent(public, truth, policy=policy)


@pytest.mark.parametrize(
    ("policy", "enough"),
    [
        (MaskingPolicy(id_keep_head=3, id_keep_tail=4), False),  # the old default
        (MaskingPolicy(id_keep_head=3, id_keep_tail=3), False),
        (MaskingPolicy(id_keep_head=3, id_keep_tail=2), False),
        (MaskingPolicy(id_keep_head=3, id_keep_tail=1), True),
        (MaskingPolicy(id_keep_head=6, id_keep_tail=1), True),
        (MaskingPolicy(id_keep_head=3, id_keep_tail=0), True),
    ],
)
def test_only_masks_that_hide_the_sequence_keep_1000_candidates_across_a_band_crossing(
    policy, enough
):
    """A 高龄津贴 beneficiary who turned 90 in March 2026 is paid 100 yuan in February, then 200.

    That pins the birth date to about two months; every digit of the sequence shown divides
    what is left by ten.
    """
    truth = id_number(7, region=COUNTY, birth=date(1936, 3, 10), sex="M")
    february = born_between("2026-02", 80, 89)
    march = born_between("2026-03", 90, 99)
    public = Public(
        id_masked=mask_id_number(truth, policy),
        regions=frozenset({COUNTY}),
        born_from=max(february[0], march[0]),
        born_to=min(february[1], march[1]),
        sex="M",
    )
    assert (public.born_from, public.born_to) == (date(1936, 2, 2), date(1936, 3, 31))
    assert consistent(public, truth, policy=policy)
    assert (count_candidates(public) >= MIN_CANDIDATES) is enough


def test_a_published_birth_year_and_sex_left_a_few_dozen():
    """What /api/v1/persons/ used to serve beside the old mask: the county, 3 + 4 digits."""
    old = MaskingPolicy(id_keep_head=3, id_keep_tail=4)
    counts = [
        count_candidates(
            Public(
                id_masked=mask_id_number(number, old),
                regions=frozenset({COUNTY}),
                born_from=date(year, 1, 1),
                born_to=date(year, 12, 31),
                sex="M" if int(number[16]) % 2 else "F",
            )
        )
        for n, year in enumerate(range(1935, 2005))
        for number in [id_number(n, region=COUNTY, birth=date(year, 6, 1 + n % 28))]
    ]
    assert min(counts) >= 25 and max(counts) <= 45 and 30 <= statistics.median(counts) <= 36


@pytest.mark.django_db
def test_every_published_person_leaves_at_least_1000_candidates(client, tmp_path):
    """The rule, on a county seeded through the real import, under the default masking policy."""
    assert personal.masking_policy() == DEFAULT_POLICY
    county = seed_county(tmp_path)
    sexes = {pk: "M" if int(n[16]) % 2 else "F" for pk, n in county.raw_ids.items()}
    facts = public_facts(client, sexes=sexes)

    # Everyone a published roster names is counted; nobody known only from a draft is.
    assert len(facts) >= 150 and len(county.band_crossers) == 4
    assert not county.unpublished & set(facts)
    assert set(facts) | county.unpublished == set(county.raw_ids)
    # The analysis is sound: each person's real ID is among their candidates.
    assert [pk for pk, public in facts.items() if not consistent(public, county.raw_ids[pk])] == []
    # The band crossing is what narrows most: about two months of birth dates.
    assert all((facts[pk].born_to - facts[pk].born_from).days < 62 for pk in county.band_crossers)

    counts = {pk: count_candidates(public) for pk, public in facts.items()}
    fewest = min(counts.values())
    assert fewest >= MIN_CANDIDATES, (
        f"{sum(c < MIN_CANDIDATES for c in counts.values())} of {len(counts)} published persons"
        f" leave fewer than {MIN_CANDIDATES} ID numbers (fewest {fewest},"
        f" median {statistics.median(counts.values())})"
    )
