"""The transparency log: publishing appends every row as a leaf and signs a checkpoint; the log
refuses edits; verify_log names a row edited behind its back; racing publications never share
an index."""

from __future__ import annotations

import base64
import importlib
import json
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.urls import reverse

from funds.models import Batch, Disbursement
from funds.publishing import Replacement, correct_batch, publish_batch
from publicity import translog, transparency
from publicity.models import Checkpoint, LogHead, LogLeaf
from tests.factories import make_batch, make_program, make_village, person_name, unique_id_number

pytestmark = pytest.mark.django_db


def draft(n: int = 3, *, first: int = 0, period: str = "2026-03") -> Batch:
    rows = [
        (person_name(k), unique_id_number(k), Decimal("100.00") + k)
        for k in range(first, first + n)
    ]
    return make_batch(make_program(), make_village(), rows, period=period, status="draft")


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def verify_log() -> tuple[str, str | None]:
    """Run verify_log; return its output and its failure message (None when it passed)."""
    out = StringIO()
    try:
        call_command("verify_log", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_publishing_appends_every_row_as_a_leaf_and_signs_a_checkpoint():
    batch = publish_batch(batch=draft(3))
    leaves = list(LogLeaf.objects.order_by("index"))
    assert [leaf.index for leaf in leaves] == [0, 1, 2]
    assert {leaf.disbursement_id for leaf in leaves} == set(
        batch.disbursements.values_list("id", flat=True)
    )
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.tree_size, checkpoint.batch_id) == (3, batch.pk)
    hashes = [bytes(leaf.leaf_hash) for leaf in leaves]
    assert bytes(checkpoint.root_hash) == translog.root(hashes)
    for leaf in leaves:
        assert bytes(leaf.leaf_hash) == translog.leaf_hash(leaf.leaf.encode())
    # The note opens with the public key and says the same size and root.
    verifier = transparency.log_verifier()
    body = translog.open_note(checkpoint.note, [verifier])
    assert translog.parse_checkpoint(body) == (verifier.name, 3, bytes(checkpoint.root_hash))


def test_a_leaf_is_the_rows_masked_values_as_canonical_json_and_nothing_private():
    batch = draft(1)
    row = batch.disbursements.get()
    Disbursement.objects.filter(pk=row.pk).update(
        account_masked="6217********0123", account_hash="k1:secret-hash", note="代领"
    )
    publish_batch(batch=batch)
    text = LogLeaf.objects.get().leaf
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    person = row.person
    assert data == {
        "v": 1,
        "id": row.pk,
        "batch": batch.pk,
        "program": batch.program_id,
        "period": "2026-03",
        "village": row.village_id,
        "household": row.household_id,
        "name_masked": person.name_masked,
        "id_masked": person.id_masked,
        "quantity": None,
        "rate": None,
        "amount": "100.00",
        "pay_date": None,
        "status": "paid",
        "is_reversal": False,
        "corrects": None,
        "account_masked": "6217********0123",
        "note": "代领",
    }
    assert "secret-hash" not in text and person.id_hash not in text
    assert person_name(0) not in text and unique_id_number(0) not in text


def test_a_published_correction_is_appended_after_the_rows_it_corrects():
    original = publish_batch(batch=draft(2))
    wrong = original.disbursements.order_by("id").first()
    correction = correct_batch(
        original=original,
        changes={wrong.pk: Replacement(Decimal("80.00"))},
        source_name="更正.xlsx",
        source_sha256="c" * 64,
    )
    assert LogLeaf.objects.count() == 2, "a draft correction is not in the log yet"
    publish_batch(batch=correction)
    added = [json.loads(leaf.leaf) for leaf in LogLeaf.objects.filter(index__gte=2)]
    assert [(x["amount"], x["is_reversal"], x["corrects"]) for x in added] == [
        ("-100.00", True, wrong.pk),
        ("80.00", False, wrong.pk),
    ]
    sizes = list(Checkpoint.objects.order_by("tree_size").values_list("tree_size", flat=True))
    assert sizes == [2, 4]


def test_publishing_without_a_signing_key_is_refused_and_nothing_changes(settings):
    settings.SUNLIGHT_LOG_SIGNING_KEY = ""
    batch = draft(2)
    with pytest.raises(ValidationError) as refused:
        publish_batch(batch=batch)
    assert "SUNLIGHT_LOG_SIGNING_KEY" in " ".join(refused.value.messages)
    assert Batch.objects.get(pk=batch.pk).status == Batch.Status.DRAFT
    assert not LogLeaf.objects.exists() and not Checkpoint.objects.exists()


def test_a_malformed_signing_key_is_refused_too(settings):
    settings.SUNLIGHT_LOG_SIGNING_KEY = "PRIVATE+KEY+not-a-key"
    with pytest.raises(ValidationError):
        publish_batch(batch=draft(1))
    assert not LogLeaf.objects.exists()


def test_successive_publications_give_consistent_signed_trees():
    publish_batch(batch=draft(3))
    publish_batch(batch=draft(4, first=10, period="2026-04"))
    assert list(LogLeaf.objects.values_list("index", flat=True)) == list(range(7))
    old, new = Checkpoint.objects.order_by("tree_size")
    answer = transparency.consistency(first=old.tree_size, second=new.tree_size)
    translog.verify_consistency(
        3,
        7,
        b64(answer["first_root"]),
        b64(answer["second_root"]),
        [b64(h) for h in answer["proof"]],
    )


def test_an_inclusion_proof_verifies_against_the_signed_root_now_and_at_an_older_size():
    first = publish_batch(batch=draft(3))
    publish_batch(batch=draft(2, first=10, period="2026-04"))
    row = first.disbursements.order_by("id").last()
    for size in (None, 3):
        answer = transparency.inclusion(row_id=row.pk, tree_size=size)
        assert answer["tree_size"] == (size or 5)
        assert translog.leaf_hash(answer["leaf"].encode()) == b64(answer["leaf_hash"])
        translog.verify_inclusion(
            answer["leaf_index"],
            answer["tree_size"],
            b64(answer["leaf_hash"]),
            [b64(h) for h in answer["proof"]],
            b64(answer["root"]),
        )


# --- The log refuses to be rewritten --------------------------------------------------------


def test_leaves_and_checkpoints_refuse_update_and_delete():
    publish_batch(batch=draft(2))
    attempts = [
        lambda: LogLeaf.objects.filter(index=0).update(leaf="{}"),
        lambda: LogLeaf.objects.filter(index=1).delete(),
        lambda: Checkpoint.objects.update(tree_size=1),
        lambda: Checkpoint.objects.all().delete(),
        lambda: LogHead.objects.update(size=0),
        lambda: LogHead.objects.all().delete(),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert LogLeaf.objects.count() == 2 and Checkpoint.objects.get().tree_size == 2
    assert LogHead.objects.get().size == 2


def test_verify_log_passes_on_an_untouched_log():
    publish_batch(batch=draft(3))
    output, failure = verify_log()
    assert failure is None, output
    assert "3" in output


def test_verify_log_names_a_published_row_edited_in_the_database():
    batch = publish_batch(batch=draft(3))
    edited = batch.disbursements.order_by("id")[1]
    Disbursement.objects.filter(pk=edited.pk).update(amount=Decimal("999.00"))
    output, failure = verify_log()
    assert failure is not None
    assert f"#{edited.pk}" in output and f"#{batch.pk}" in output and "amount" in output
    others = batch.disbursements.exclude(pk=edited.pk).values_list("id", flat=True)
    assert not any(f"发放记录 #{pk}（" in output for pk in others)


def test_verify_log_names_published_rows_missing_from_the_log():
    rows = [(person_name(50), unique_id_number(50), Decimal("10.00"))]
    sneaked = make_batch(make_program(), make_village(), rows, status="publicity")
    row = sneaked.disbursements.get()
    output, failure = verify_log()
    assert failure is not None and f"#{row.pk}（批次 #{sneaked.pk}）不在透明日志中" in output


def test_a_leaf_appended_behind_the_logs_back_is_reported_and_blocks_the_next_append():
    publish_batch(batch=draft(2))
    later = draft(1, first=20, period="2026-05")
    row = later.disbursements.get()
    LogLeaf.objects.create(
        index=2, batch_id=later.pk, disbursement_id=row.pk, leaf="{}", leaf_hash=b"\x00" * 32
    )
    output, failure = verify_log()
    assert failure is not None and "未经签名" in output and f"#{row.pk}" in output
    with pytest.raises(IntegrityError):
        publish_batch(batch=later)
    assert Batch.objects.get(pk=later.pk).status == Batch.Status.DRAFT
    assert Checkpoint.objects.count() == 1


def test_a_leaf_appended_with_a_forged_head_is_named_by_verify_log():
    """An intruder who also moves the head on gets the leaf signed over, and verify_log names it."""
    publish_batch(batch=draft(2))
    unpublished = draft(1, first=40, period="2026-05")
    row = unpublished.disbursements.get()
    text = next(transparency.leaf_texts(Disbursement.objects.filter(pk=row.pk)))[2]
    digest = translog.leaf_hash(text.encode())
    LogLeaf.objects.create(
        index=2, batch_id=unpublished.pk, disbursement_id=row.pk, leaf=text, leaf_hash=digest
    )
    head = LogHead.objects.get()
    frontier = translog.extend_frontier([bytes(head.frontier)], 2, [digest])
    LogHead.objects.update(size=3, frontier=b"".join(frontier))
    publish_batch(batch=draft(1, first=30, period="2026-06"))
    output, failure = verify_log()
    assert failure is not None
    assert f"叶子 #2：发放记录 #{row.pk}（批次 #{unpublished.pk}）从未公开" in output


def test_history_rewritten_under_the_triggers_makes_the_consistency_proof_fail():
    """Whoever can lift the triggers can rewrite a leaf, but not the roots already signed.

    (From a power-of-two size the old tree is the new one's left subtree, which the proof takes
    from the caller's signed root: there the inclusion proofs and verify_log catch the rewrite.)
    """
    batch = publish_batch(batch=draft(3))
    first = batch.disbursements.order_by("id").first()
    log = importlib.import_module("publicity.migrations.0003_transparency_log")
    forged = LogLeaf.objects.get(index=0).leaf.replace('"100.00"', '"900.00"')
    with connection.cursor() as cursor:
        for statement in log.UNINSTALL[connection.vendor]:
            cursor.execute(statement)
        LogLeaf.objects.filter(index=0).update(
            leaf=forged, leaf_hash=translog.leaf_hash(forged.encode())
        )
        Disbursement.objects.filter(pk=first.pk).update(amount=Decimal("900.00"))
        for statement in log.INSTALL[connection.vendor]:
            cursor.execute(statement)
    publish_batch(batch=draft(1, first=30, period="2026-06"))
    answer = transparency.consistency(first=3, second=4)
    with pytest.raises(translog.ProofError):
        translog.verify_consistency(
            3,
            4,
            b64(answer["first_root"]),
            b64(answer["second_root"]),
            [b64(h) for h in answer["proof"]],
        )
    proof = transparency.inclusion(row_id=first.pk, tree_size=3)
    with pytest.raises(translog.ProofError):
        translog.verify_inclusion(
            0, 3, b64(proof["leaf_hash"]), [b64(h) for h in proof["proof"]], b64(proof["root"])
        )
    output, failure = verify_log()
    assert failure is not None and "的根与日志中的叶子算出的根不符" in output


def test_a_naive_intruder_moving_the_head_stops_publication():
    publish_batch(batch=draft(2))
    LogHead.objects.update(size=3)
    later = draft(1, first=20, period="2026-05")
    with pytest.raises(transparency.LogError):
        publish_batch(batch=later)
    assert Batch.objects.get(pk=later.pk).status == Batch.Status.DRAFT


# --- Racing publications ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_publications_on_postgresql_never_share_a_leaf_index():
    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections: PostgreSQL only")
    batches = [draft(40, first=100 * n, period=f"2026-0{n + 1}") for n in range(4)]
    start, errors = threading.Barrier(len(batches)), []

    def publish(batch: Batch) -> None:
        try:
            start.wait()
            publish_batch(batch=batch)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    indices = list(LogLeaf.objects.order_by("index").values_list("index", flat=True))
    assert indices == list(range(160))
    sizes = sorted(Checkpoint.objects.values_list("tree_size", flat=True))
    assert sizes == [40, 80, 120, 160]
    for batch in batches:  # each publication's rows are contiguous: it held the head throughout
        got = sorted(LogLeaf.objects.filter(batch_id=batch.pk).values_list("index", flat=True))
        assert got == list(range(got[0], got[0] + 40))
    output, failure = verify_log()
    assert failure is None, output


# --- Pages ------------------------------------------------------------------------------------


def test_batch_pages_show_the_tree_size_and_root_signed_after_the_publication(client, staff_client):
    first = publish_batch(batch=draft(2))
    publish_batch(batch=draft(3, first=10, period="2026-04"))
    own = Checkpoint.objects.get(batch_id=first.pk)
    for url in (f"/batches/{first.pk}/", f"/batches/{first.pk}/print/"):
        page = client.get(url).content.decode()
        assert "树大小 2" in page and own.root_b64 in page and "本批次发布后" in page
    staff_page = staff_client.get(reverse("funds:batch_detail", args=[first.pk])).content.decode()
    assert own.root_b64 in staff_page


def test_the_household_page_links_each_rows_proof_and_the_footer_the_verify_page(client):
    batch = publish_batch(batch=draft(1))
    row = batch.disbursements.get()
    page = client.get(f"/households/{row.household_id}/").content.decode()
    assert f"/api/v1/disbursements/{row.pk}/proof/" in page
    assert 'href="/verify/"' in page
    verify = client.get("/verify/").content.decode()
    assert transparency.log_verifier().key() in verify
    assert Checkpoint.objects.get().note.splitlines()[0] in verify
