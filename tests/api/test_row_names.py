"""Each row shows the name its own roster wrote (issue #14, defect 3).

A person is stored once, by keyed ID hash, with the name first seen. A 2026 roster that
names the same ID otherwise must show its own name, masked, wherever that row is shown;
the person then raises ``same_id_different_name``.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal

import pytest
from django.db import transaction

from funds.importing.jobs import import_roster
from funds.importing.loading import load_staged
from funds.importing.staging import Staged, stage_rows
from funds.models import Batch, Disbursement
from funds.publishing import Replacement, correct_batch, public_reason, publish_batch
from privacy import personal
from publicity.models import LogLeaf
from publicity.transparency import LEAF_FIELDS
from tests.factories import make_program, unique_id_number
from tests.funds.importing.support import household_row, roster, roster_file, use_roster
from villages.models import Person

pytestmark = pytest.mark.django_db

OLD, NEW = "蒋小敏", "闫伟超"


def _two_rosters(monkeypatch, tmp_path) -> tuple[Disbursement, Disbursement]:
    """Import and publish a 2025 roster naming ID 0 OLD and a 2026 one naming it NEW."""
    number = unique_id_number(0)
    program = make_program()
    rows = []
    for salt, period, name in (("a", "2025-04", OLD), ("b", "2026-04", NEW)):
        row = household_row(0, name=name, head_name=name, id_number=number)
        use_roster(monkeypatch, roster([row, household_row(1)]))
        report = import_roster(
            path=roster_file(tmp_path, salt=salt), program=program, period=period
        )
        assert report.status == "imported", report.errors
        batch = Batch.objects.get(pk=report.batch)
        publish_batch(batch=batch)
        rows.append(batch.disbursements.get(person__id_hash=personal.hash_id_number(number)))
    return rows[0], rows[1]


def test_each_row_keeps_the_name_its_roster_wrote(monkeypatch, tmp_path):
    old, new = _two_rosters(monkeypatch, tmp_path)

    assert old.person_id == new.person_id and Person.objects.filter(pk=old.person_id).count() == 1
    assert (old.name_masked, old.name_hash) == (
        personal.mask_name(OLD),
        personal.hash_name(OLD),
    )
    assert (new.name_masked, new.name_hash) == (
        personal.mask_name(NEW),
        personal.hash_name(NEW),
    )
    # Nothing raw at rest.
    assert not Disbursement.objects.filter(name_masked__in=[OLD, NEW]).exists()


def test_the_api_shows_the_2026_row_under_its_own_name(monkeypatch, tmp_path, auditor_api):
    _old, new = _two_rosters(monkeypatch, tmp_path)

    one = auditor_api.get(f"/api/v1/disbursements/{new.pk}/").json()
    listed = auditor_api.get("/api/v1/disbursements/?page_size=100").json()["results"]

    assert one["person_name_masked"] == personal.mask_name(NEW)
    assert {r["person_name_masked"] for r in listed if r["id"] == new.pk} == {
        personal.mask_name(NEW)
    }


def test_the_household_page_shows_each_rows_own_name(monkeypatch, tmp_path, client):
    _old, new = _two_rosters(monkeypatch, tmp_path)

    page = client.get(f"/households/{new.household_id}/").content.decode()

    assert personal.mask_name(NEW) in page  # the 2026 row, and the member's latest name
    assert personal.mask_name(OLD) in page  # the 2025 row, as its roster wrote it
    assert OLD not in page and NEW not in page


def test_same_id_different_name_lists_the_person(monkeypatch, tmp_path, auditor_api):
    old, new = _two_rosters(monkeypatch, tmp_path)

    response = auditor_api.get("/api/v1/redflags/same_id_different_name/?page_size=100")

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert {r["id"] for r in rows} == {old.pk, new.pk}
    assert {r["group"] for r in rows} == {str(old.person_id)}
    assert {r["rule"] for r in rows} == {"same_id_different_name"}
    assert {r["person_name_masked"] for r in rows} == {
        personal.mask_name(OLD),
        personal.mask_name(NEW),
    }


def test_one_name_throughout_raises_no_flag(monkeypatch, tmp_path, auditor_api):
    use_roster(monkeypatch, roster([household_row(0), household_row(1)]))
    program = make_program()
    for salt, period in (("a", "2025-04"), ("b", "2026-04")):
        report = import_roster(
            path=roster_file(tmp_path, salt=salt), program=program, period=period
        )
        publish_batch(batch=Batch.objects.get(pk=report.batch))

    response = auditor_api.get("/api/v1/redflags/same_id_different_name/")

    assert response.status_code == 200 and response.json()["results"] == []


def test_a_correction_keeps_the_name_of_the_row_it_corrects(monkeypatch, tmp_path):
    _old, new = _two_rosters(monkeypatch, tmp_path)

    correction = correct_batch(
        original=new.batch,
        changes={new.pk: Replacement(amount=Decimal("1.00"))},
        source_name="更正.xlsx",
        source_sha256="c" * 64,
    )

    names = set(correction.disbursements.values_list("name_masked", "name_hash"))
    assert names == {(new.name_masked, new.name_hash)}


def test_a_staged_roster_loads_the_rows_names_too(monkeypatch, tmp_path):
    """Confirm loads staged rows without parsing again: the staged row carries its name."""
    old, _new = _two_rosters(monkeypatch, tmp_path)
    third = "闫小超"
    row = household_row(0, name=third, head_name=third, id_number=unique_id_number(0))
    staged, errors = stage_rows([row], township="城关镇", kind="csv")
    assert not errors

    with transaction.atomic():
        batch = load_staged(
            staged=Staged.load(staged.dump()), program=old.program, period="2026-05",
            source_name="x.csv", sha256="d" * 64, counts=(1, 1, 1, row.amount),
        )  # fmt: skip

    assert list(batch.disbursements.values_list("name_masked", "name_hash")) == [
        (personal.mask_name(third), personal.hash_name(third))
    ]


def test_a_roster_staged_before_rows_had_names_loads_its_persons_names():
    """A format-1 staged file (a job left ready across the upgrade) still confirms."""
    row = household_row(0, name=NEW, head_name=NEW)
    staged, _errors = stage_rows([row], township="城关镇", kind="csv")
    lines = gzip.decompress(staged.dump()).decode().split("\n")
    meta = json.loads(lines[0])
    meta["format"] = 1
    old_lines = [json.dumps(meta)] + [
        json.dumps(json.loads(line)[:-2], ensure_ascii=False) if line.startswith('["R"') else line
        for line in lines[1:]
    ]

    again = Staged.load(gzip.compress("\n".join(old_lines).encode()))

    assert [(r.name_masked, r.name_hash) for r in again.rows] == [
        (personal.mask_name(NEW), personal.hash_name(NEW))
    ]


def test_a_leaf_names_the_row_by_its_own_name(monkeypatch, tmp_path):
    """The log's leaf of each row carries the name its own roster wrote, masked."""
    old, new = _two_rosters(monkeypatch, tmp_path)
    assert LEAF_FIELDS["name_masked"] == "name_masked"
    leaves = dict(
        LogLeaf.objects.filter(disbursement_id__in=[old.pk, new.pk]).values_list(
            "disbursement_id", "leaf"
        )
    )
    assert json.loads(leaves[old.pk])["name_masked"] == personal.mask_name(OLD)
    assert json.loads(leaves[new.pk])["name_masked"] == personal.mask_name(NEW)
    assert NEW not in leaves[new.pk] and OLD not in leaves[old.pk]


def test_a_name_only_a_later_roster_wrote_is_masked_in_public_reasons(monkeypatch, tmp_path):
    """Staff may write the person's newer name in a withdrawal reason or a review note: it is a
    known name too (a row's), so it is masked like the first stored one."""
    _two_rosters(monkeypatch, tmp_path)
    shown = public_reason(f"{NEW}与{OLD}重复领取")
    assert NEW not in shown and OLD not in shown
    assert personal.mask_name(NEW) in shown and personal.mask_name(OLD) in shown


def test_the_lookup_finds_a_person_by_the_name_a_published_roster_gave(monkeypatch, tmp_path):
    from publicity.lookup import find_entries

    _two_rosters(monkeypatch, tmp_path)
    id_hash = personal.hash_id_number(unique_id_number(0))

    by_new = find_entries(id_hash=id_hash, name=NEW)
    by_old = find_entries(id_hash=id_hash, name=OLD)
    by_other = find_entries(id_hash=id_hash, name="王大明")

    assert by_new.found and by_new.name_masked == personal.mask_name(NEW)
    assert by_old.found and by_old.name_masked == personal.mask_name(OLD)
    assert not by_other.found


def test_the_staff_search_finds_a_row_by_its_own_name(monkeypatch, tmp_path):
    from funds.forms import CorrectionSearchForm

    _old, new = _two_rosters(monkeypatch, tmp_path)
    form = CorrectionSearchForm({"q": "", "who": personal.hash_name(NEW)})

    assert list(form.filter(Disbursement.objects.all())) == [new]
