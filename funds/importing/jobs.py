"""Import a payment roster: check the file, parse, validate, mask, stage, preview, load.

``stage_roster`` and ``confirm_import`` are the two halves the staff web flow runs as
background tasks (``funds.importing.tasks``); ``import_roster`` runs both at once for the
command and the demo. All three check and stage with ``_prepare`` and write through
``funds.importing.loading.ChunkedLoad``: one path. ``import_roster`` sends chunks to it while
the file is still being parsed; confirm sends the staged roster's chunks (``load_staged``).

Column mappings: a roster whose required columns the reader cannot settle (missing, or
several candidates) stops as ``needs_mapping``; nothing is staged or written. Staff map the
columns (``remap_roster``: the job's ``mapping`` is passed to the reader and it reads the file
again), and a mapping that works can be remembered as a ``MappingTemplate``, which
``TemplateFinder`` hands the reader for the next roster with the same header signature.

Privacy of files at rest: the uploaded source (raw IDs and accounts) lives only until
staging ends; then it is deleted. The one exception is a job waiting for staff to map its
columns: its upload must be read again, so it is kept until the job is staged (ready),
rejected, a duplicate, failed or abandoned (``abandon_job``; ``abandon_stale_jobs`` drops any
left waiting longer than ``MAPPING_WAIT``), and deleted then. Confirm reads the staged file
(masks and keyed hashes only), and the error report is written at staging time with every
personal value masked, so nothing kept after staging holds a raw ID number, account or full
name. The columns a report lists carry a few masked sample values only while the job waits
for mapping; they are dropped from every other report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from funds import access, audit, duplicates
from funds.audit import Kind
from funds.consistency import HouseholdVillageMismatch
from funds.importing import anomalies, errorreport
from funds.importing.filesafety import (
    MASKED_REPORT_WORDS,
    UnsafeFile,
    check_upload,
    masked_report,
)
from funds.importing.gcpause import gc_paused
from funds.importing.headers import months_in_text
from funds.importing.loading import ChunkedLoad, LoadFailed, load_staged
from funds.importing.reports import (
    ImportReport,
    duplicate,
    file_error,
    file_sha256,
    issue_dict,
    new_places,
    summarise,
)
from funds.importing.staging import HEAD_RELATION, Staged, Stager, stage_rows
from funds.models import Batch, ImportJob, ImportStatus, MappingTemplate, Program
from funds.publishing import publish_batch
from privacy.logs import log_failure

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
PARSE_DEADLINE_S = 600.0  # a roster that takes longer is refused, not left running for ever
#: How long an upload waiting for staff to map its columns is kept (it holds raw IDs).
MAPPING_WAIT = timedelta(days=3)


def _read_roster(source: Path | bytes, **options: Any) -> Any:
    """Parse a roster with funds.importing.roster (imported late: it is the heavy part)."""
    from funds.importing.roster import read_roster

    return read_roster(source, **options)


class TemplateFinder:
    """Find the saved mapping for a sheet's header signature, as ``read_roster`` asks for one.

    The program's own template comes first, then one saved for any program; a template of
    another program is never used. ``used`` names the templates found, for the report.
    """

    def __init__(self, program: Program) -> None:
        self.program = program
        self.used: list[str] = []

    def __call__(self, signature: str) -> dict[str, str] | None:
        if not signature:
            return None
        template = MappingTemplate.objects.for_signature(signature, program=self.program)
        if template is None:
            return None
        if template.name not in self.used:
            self.used.append(template.name)
        return dict(template.mapping)


def _describe_columns(report: ImportReport, parsed: Any, finder: TemplateFinder | None) -> None:
    """Copy the header columns, unsettled fields, signature and mapping used into the report.

    Sample values (masked by the reader) are kept only while the roster waits for staff to
    map it: the mapping page shows them; no other report needs them.
    """
    report.unsettled = list(getattr(parsed, "unsettled", []))
    waiting = bool(report.unsettled)
    report.columns = [
        {
            "sheet": c.sheet,
            "letter": c.letter,
            "label": c.label,
            "field": c.field,
            "guessed": c.guessed,
            **({"samples": [str(v) for v in c.samples]} if waiting else {}),
        }
        for c in getattr(parsed, "columns", [])
    ]
    report.signature = getattr(parsed, "signature", "")
    report.mapping = dict(getattr(parsed, "mapping", {}))
    if finder is not None and finder.used:
        report.template = ", ".join(finder.used)


def _township_of(parsed: Any, township: str | None) -> tuple[str, list[dict]]:
    """Return the one township of the roster, or errors when it is missing or ambiguous."""
    found = {r.township.strip() for r in parsed.rows if getattr(r, "township", "")}
    name = (township or "").strip()
    if name:
        return name, []
    if len(found) == 1:
        return found.pop(), []
    # A count, not the values: a wrongly guessed township column may hold anything.
    message = (
        _("一个文件只能包含一个乡镇的花名册（发现 %d 个不同的乡镇）") % len(found)
        if found
        else _("无法确定乡镇：请在表格标题或“乡镇”列中写明，或在导入时指定乡镇")
    )
    return "", [
        {"sheet": "", "row": None, "column": _("乡镇"), "message": message, "code": "township"}
    ]


def _prepare(
    source: Path | bytes,
    *,
    filename: str,
    township: str | None,
    sha256: str,
    progress: Progress | None = None,
    stream: _RosterStream | None = None,
    mapping: dict[str, str] | None = None,
    mapping_for: TemplateFinder | None = None,
    program: Program | None = None,
    period: str = "",
) -> tuple[ImportReport, Staged | None]:
    """Check, parse, validate, mask and hash a roster; stage it when it has no errors.

    With a PROGRAM and PERIOD, a title or file name naming another month is a warning, and
    what a staged roster repeats of live batches is in ``report.conflicts``
    (funds.duplicates; a streamed roster is compared once written: ``_import_file``).

    With a ``stream``, rows are staged (and loaded) while the file is still being read.
    ``mapping`` (header label -> field) overrides the reader's recognition for those columns;
    ``mapping_for`` finds a saved template by header signature. A roster whose columns are
    still unsettled comes back as ``needs_mapping`` with nothing staged.
    """
    started = time.monotonic()
    report = ImportReport(file=filename, sha256=sha256)
    if Batch.objects.of_file(sha256) is not None:
        return duplicate(report), None
    try:
        file_kind = check_upload(
            source,
            filename=filename,
            max_bytes=settings.SUNLIGHT_MAX_UPLOAD_BYTES,
            max_uncompressed=settings.SUNLIGHT_MAX_UNCOMPRESSED_BYTES,
            max_columns=settings.SUNLIGHT_MAX_COLUMNS,
            max_cells=settings.SUNLIGHT_MAX_CELLS,
            probe_memory=settings.SUNLIGHT_PARSE_MEMORY_MB * 1024 * 1024,
        )
    except UnsafeFile as exc:
        return file_error(report, str(exc.message), exc.code), None
    try:
        parsed = _read_roster(
            source,
            filename=filename,
            township=township,
            max_rows=settings.SUNLIGHT_MAX_ROWS,
            max_columns=settings.SUNLIGHT_MAX_COLUMNS,
            max_cells=settings.SUNLIGHT_MAX_CELLS,
            max_merged=settings.SUNLIGHT_MAX_MERGED_RANGES,
            deadline_s=PARSE_DEADLINE_S,
            progress=progress,
            kind=file_kind,
            on_rows=stream,
            mapping=mapping or None,
            mapping_for=mapping_for,
        )
    except Exception:  # a reader bug or a file no check caught must not become a 500
        log_failure(log, "roster %s could not be read", sha256[:12])
        return file_error(report, _("无法读取该文件，请确认它是完整的表格文件"), "unreadable"), None
    if any(MASKED_REPORT_WORDS in column.label for column in getattr(parsed, "columns", [])):
        refusal = masked_report()  # an error report saved as CSV, or copied into a new workbook
        return file_error(report, str(refusal.message), refusal.code), None
    report.sheets, report.kind = list(parsed.sheets), parsed.kind
    report.errors = [issue_dict(e) for e in parsed.errors]
    report.warnings = [issue_dict(w) for w in parsed.warnings]
    if period:
        report.warnings += _period_warnings(parsed, filename=filename, period=period)
    _describe_columns(report, parsed, mapping_for)
    if report.unsettled and report.columns:
        # Nothing is guessed: staff say which column is which (no error report either: its
        # masking needs to know which columns hold personal data).
        report.status = ImportStatus.NEEDS_MAPPING
        report.seconds = round(time.monotonic() - started, 3)
        return report, None
    town, town_errors = _township_of(parsed, township)
    report.errors += town_errors
    staged: Staged | None = None
    if not report.errors:
        if stream is not None:
            staged, twice = stream.finish(parsed, township=town)
        else:
            staged, twice = stage_rows(parsed.rows, township=town, kind=parsed.kind)
        report.errors += twice
        summarise(report, staged)
        report.anomalies = anomalies.find(report.warnings, staged)
        if stream is None and program is not None and period and not report.errors:
            found = duplicates.for_staged(staged, program=program, period=period, township=town)
            report.conflicts = found.as_json() if found else {}
        # While a loader thread writes, the database is its own: the places it created are
        # known once it is done (_places_written).
        if stream is None or stream.load.loader is None:
            new_places(report)
    staged = _verdict(report, parsed, staged)
    if report.errors or report.warnings:
        report.error_report = errorreport.save(
            source, filename=filename, sha256=sha256, roster=parsed, report=report
        )
    report.seconds = round(time.monotonic() - started, 3)
    return report, staged


def duplicate_message(report: ImportReport) -> str:
    """Say which live batch the file already became, and where that batch stands."""
    earlier = report.duplicate_of
    if not earlier:
        return _("该文件已经导入过")
    status = Batch.Status(earlier["status"]).label
    return _("该文件已经导入过：批次 #%(id)s（%(status)s）。撤回该批次后才能再次导入。") % {
        "id": earlier["id"],
        "status": status,
    }


def _period_warnings(parsed: Any, *, filename: str, period: str) -> list[dict]:
    """Warn where a sheet's title or the file name names a month other than PERIOD."""
    named = [(sheet, title) for sheet, title in getattr(parsed, "titles", {}).items()]
    named.append(("", filename))
    warnings = []
    for sheet, text in named:
        months = months_in_text(text or "")
        if months and period not in months:
            where = _("工作表标题") if sheet else _("文件名")
            message = _(
                "%(where)s写的是 %(months)s，而选择的发放期间是 %(period)s；请确认期间无误"
            ) % {"where": where, "months": "、".join(sorted(months)), "period": period}
            warnings.append(
                {"sheet": sheet, "row": None, "column": "", "message": message,
                 "code": "period_mismatch"}
            )  # fmt: skip
    return warnings


class Blocked(Exception):
    """A roster that repeats a live batch, confirmed without a stated reason."""

    def __init__(self, found: duplicates.Found) -> None:
        super().__init__(found.message())
        self.found = found
        self.report: ImportReport | None = None


def _check_repeats(batch: Batch, override_reason: str, *, user: Any, obj: Any = None) -> None:
    """Refuse a just-written BATCH that repeats a live batch, unless a reason is stated; record
    the override with its reason when one is."""
    found = duplicates.for_batch(batch, statuses=duplicates.LIVE)
    if not found:
        return
    if not override_reason.strip():
        raise Blocked(found)
    audit.record(
        audit.Kind.OVERRIDE, user=user, batch=batch, obj=obj, reason=override_reason,
        act="import", repeats=[b["id"] for b in found.batches], persons=found.persons,
    )  # fmt: skip


def _verdict(report: ImportReport, parsed: Any, staged: Staged | None) -> Staged | None:
    """Set the report's status, ready or rejected; return the staged roster if it is ready."""
    if not parsed.rows and not report.errors:
        report.errors.append(
            {
                "sheet": "",
                "row": None,
                "column": "",
                "message": _("文件中没有发放记录"),
                "code": "empty",
            }
        )
    if report.errors:
        report.status = ImportStatus.REJECTED
        return None
    report.status = ImportStatus.READY
    return staged


def _accept(batch: Batch, *, user: Any, kind: str, obj: Any = None) -> None:
    """Check that USER may load into the batch's township, and record the act.

    Called inside the load's transaction: a refusal rolls the whole load back. The township is
    known for sure only now (a roster may name it), so this is where the place is checked.
    """
    perm = "funds.confirm_import" if kind == audit.Kind.CONFIRM else "funds.upload_roster"
    if user is not None:
        access.require(user, perm, batch.township_id)
    details = {"rows": batch.row_count}
    acknowledged = (getattr(obj, "report", None) or {}).get("acknowledged")
    if acknowledged:  # rows needing a yes that staff ticked as checked (anomalies)
        details["acknowledged"] = acknowledged
    audit.record(kind, user=user, batch=batch, obj=obj, **details)


def _load(
    staged: Staged,
    report: ImportReport,
    *,
    program: Program,
    period: str,
    user: Any,
    publish: bool,
    progress: Progress | None,
    override_reason: str = "",
    kind: str = audit.Kind.UPLOAD,
    job: ImportJob | None = None,
) -> ImportReport:
    """Load staged rows in one transaction; a racing import of the same file gives a duplicate.

    Raise ``Blocked``, with nothing written, when the rows repeat a live batch and no
    OVERRIDE_REASON is given.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                if job is not None:
                    _hold(job)
                batch = load_staged(
                    staged=staged,
                    program=program,
                    period=period,
                    source_name=report.file,
                    sha256=report.sha256,
                    counts=report.counts,
                    user=user,
                    progress=progress,
                )
                _accept(batch, user=user, kind=kind, obj=job)
                _check_repeats(batch, override_reason, user=user, obj=job)
                if publish:
                    publish_batch(batch=batch, user=user, repeats_checked=True)
            break
        except HouseholdVillageMismatch as refused:
            return _refused(report, refused)
        except (IntegrityError, LoadFailed):
            if Batch.objects.of_file(report.sha256) is not None:
                return duplicate(report)
            # Another file being loaded at the same moment added one of our new persons or
            # households first; a second attempt finds them and links to them.
            if attempt:
                raise
    report.status, report.batch = ImportStatus.IMPORTED, batch.pk
    return report


def _refused(report: ImportReport, refused: HouseholdVillageMismatch) -> ImportReport:
    """Reject a roster the loader refused once written (rolled back): say where and why."""
    report.errors += refused.errors
    report.status = ImportStatus.REJECTED
    return report


def _places_written(report: ImportReport, load: ChunkedLoad) -> None:
    """Name the township and villages a load created, which the preview could not see."""
    loader = load.loader
    if loader is not None and loader.township is not None:
        report.new_townships = [loader.township.name] if loader.new_township else []
        report.new_villages = sorted(loader.new_villages)


@gc_paused
def import_roster(
    *,
    path: Path,
    program: Program,
    period: str,
    township: str | None = None,
    publish: bool = False,
    dry_run: bool = False,
    user: Any = None,
    progress: Progress | None = None,
    mapping: dict[str, str] | None = None,
    template: MappingTemplate | None = None,
    save_template: str = "",
    override_reason: str = "",
) -> ImportReport:
    """Check and import one roster file in one go (the command and the demo use this).

    A roster that repeats a live batch (funds.duplicates) is rejected unless OVERRIDE_REASON
    says why it is not a double payment.

    ``mapping`` (header label -> field, IGNORE or PERSONAL) overrides what the reader
    recognises; ``template`` is a saved mapping to start from (``mapping`` wins over it);
    without one, a template saved for the header is looked up. ``save_template`` names a
    template to remember the mapping used as, once the roster is imported.
    """
    path = Path(path)
    sha256 = file_sha256(path)
    finder = None if template is not None else TemplateFinder(program)
    if template is not None:
        mapping = {**template.mapping, **(mapping or {})}
    options = {"mapping": mapping, "mapping_for": finder, "program": program, "period": period}
    if dry_run:
        report, staged = _prepare(
            path, filename=path.name, township=township, sha256=sha256, progress=progress,
            **options,
        )  # fmt: skip
        if staged is not None:
            report.status = ImportStatus.CHECKED
        return _named(report, template)
    try:
        report = _import_file(
            path, sha256=sha256, program=program, period=period, township=township,
            publish=publish, user=user, progress=progress, options=options,
            override_reason=override_reason,
        )  # fmt: skip
    except Blocked as blocked:
        report = _blocked(blocked.report, blocked.found)
    _named(report, template)
    if save_template and report.status == ImportStatus.IMPORTED:
        _save_template(
            report, name=save_template, program=program, mapping=report.mapping, user=user
        )
    return report


def _named(report: ImportReport, template: MappingTemplate | None) -> ImportReport:
    if template is not None:
        report.template = template.name
    return report


def _save_template(
    report: ImportReport, *, name: str, program: Program, mapping: dict[str, str], user: Any
) -> None:
    """Remember MAPPING as template NAME for the report's header; a refusal becomes a warning.

    A USER needs the permission to add a template, or to change the one already saved.
    """
    existing = MappingTemplate.objects.filter(program=program, signature=report.signature)
    change = existing.exists()
    perm = "funds.change_mappingtemplate" if change else "funds.add_mappingtemplate"
    try:
        if user is not None and not access.can(user, perm, placed=False):
            raise ValidationError(_("没有保存列对应模板的权限"), code="permission")
        with transaction.atomic():
            template = MappingTemplate.objects.remember(
                name=name, program=program, signature=report.signature, mapping=mapping, user=user
            )
            kind = Kind.MAPPING_TEMPLATE_CHANGE if change else Kind.MAPPING_TEMPLATE_CREATE
            audit.record(kind, user=user, obj=template, program=program.pk)
    except ValidationError as refusal:
        message = _("列对应模板未保存：%(reason)s") % {"reason": " ".join(refusal.messages)}
        report.warnings.append(
            {"sheet": "", "row": None, "column": "", "message": message, "code": "template"}
        )
    else:
        report.saved_template = name


def _blocked(report: ImportReport, found: duplicates.Found) -> ImportReport:
    """Reject a roster that repeats a live batch: nothing of it was written."""
    report.status, report.batch = ImportStatus.REJECTED, None
    report.conflicts = found.as_json()
    report.errors.append(
        {"sheet": "", "row": None, "column": "", "message": found.message(),
         "code": "duplicate_content"}
    )  # fmt: skip
    return report


def _import_file(
    path: Path,
    *,
    sha256: str,
    program: Program,
    period: str,
    township: str | None,
    publish: bool,
    user: Any,
    progress: Progress | None,
    options: dict[str, Any],
    override_reason: str,
) -> ImportReport:
    """Parse, stage and load a roster in one transaction, rows streamed to the loader.

    Raise ``Blocked`` (nothing written) when it repeats a live batch without a stated reason.
    """
    load = ChunkedLoad(
        program=program, period=period, source_name=path.name, sha256=sha256, user=user
    )
    stream = _RosterStream(load, township=township)
    staged = None
    try:
        with transaction.atomic():
            try:
                report, staged = _prepare(
                    path, filename=path.name, township=township, sha256=sha256,
                    progress=progress, stream=stream, **options,
                )  # fmt: skip
                if staged is None:
                    raise _Rejected
                batch = load.complete(staged, report.counts)
                _accept(batch, user=user, kind=audit.Kind.UPLOAD)
                _check_repeats(batch, override_reason, user=user)
                if publish:
                    publish_batch(batch=batch, user=user, repeats_checked=True)
            finally:
                load.close()
    except Blocked as blocked:
        blocked.report = report
        if load.loader is not None and report.villages:
            new_places(report)
        raise
    except (_Rejected, HouseholdVillageMismatch) as rejected:
        # Rolled back: whatever the stream had written is gone, so the places it made are
        # new again.
        if load.loader is not None and report.villages:
            new_places(report)
        if isinstance(rejected, HouseholdVillageMismatch):
            return _refused(report, rejected)
        return report
    except (IntegrityError, LoadFailed) as failure:
        if staged is None:
            raise
        # A racing import of the same file, or of the same new persons: load again from the
        # staged rows in a transaction of its own, which tells a duplicate from a retry.
        cause = failure.__cause__ or failure  # its text may quote stored values: the type only
        log.info("streamed load of %s rolled back (%s); loading again", sha256[:12],
                 type(cause).__name__)  # fmt: skip
        _places_written(report, load)
        try:
            return _load(
                staged, report, program=program, period=period, user=user, publish=publish,
                progress=None, override_reason=override_reason,
            )  # fmt: skip
        except Blocked as blocked:
            blocked.report = report
            raise
    _places_written(report, load)
    report.status, report.batch = ImportStatus.IMPORTED, batch.pk
    return report


STREAM_FIRST_CHUNK = 2_000
STREAM_CHUNK = 10_000


class _Rejected(Exception):
    """The roster was rejected: roll back what the stream wrote."""


class _RosterStream:
    """Stage rows while the file is still being read, and send them to a ``ChunkedLoad``.

    The parser hands over its roster every few hundred rows; every STREAM_CHUNK new rows are
    staged here and sent, so that the loader thread writes them while parsing goes on.
    Nothing is decided early: an error found later rolls the whole transaction back, so a
    rejected file still writes nothing. Rows a later row may complete (a member whose head
    is only known once the whole file is read) stop the streaming; ``finish`` stages the
    rest in one go and ``ChunkedLoad.complete`` sends it.
    """

    def __init__(self, load: ChunkedLoad, *, township: str | None) -> None:
        self.load = load
        self.township_arg = (township or "").strip()
        self.stager: Stager | None = None
        self.consumed = 0  # parsed rows staged so far
        self.streaming = True  # False once a row needs the whole file, or on any error
        self.errors: list[dict] = []  # duplicate persons found while staging

    def __call__(self, roster: Any, remaining: int) -> None:
        """Stage and send the rows read since the last chunk, once there are enough.

        A small first chunk starts PostgreSQL early, and chunks double from there up to
        STREAM_CHUNK (larger ones save round trips; growing ones keep the loader from
        waiting for the first big one); near the end they shrink with the rows REMAINING
        to be read, so that little is left to load once the file has been read.
        """
        if not self.streaming:
            return
        rows = roster.rows
        if roster.errors or self.load.failure is not None:
            self.streaming = False  # the file will be rejected or loaded again: stop writing
            return
        target = min(STREAM_CHUNK, self.consumed, remaining)
        if len(rows) - self.consumed < max(target, STREAM_FIRST_CHUNK):
            return
        end = len(rows)
        for index in range(self.consumed, end):
            row = rows[index]
            if not row.head_id and row.relation != HEAD_RELATION:
                end, self.streaming = index, False  # its head may come later in the file
                break
        self._send(rows[self.consumed : end], remaining=remaining)

    def _send(self, rows: list[Any], *, remaining: int = 0) -> None:
        """Stage ROWS; unless something is wrong already, send them to the load."""
        if not rows:
            return
        self.consumed += len(rows)
        if self.stager is None:
            self.stager = Stager(township=self.township_arg or rows[0].township, kind="")
        chunk = self.stager.feed(rows)
        self.errors += chunk.errors
        staged = self.stager.staged
        if self.errors or not staged.township:
            self.streaming = False
            return  # rejected, or loaded again from the staged roster: write nothing more
        expected = self.consumed + remaining
        if not self.load.send(staged, chunk, expected_rows=expected):
            self.streaming = False  # complete() loads it all again, or says why not

    def finish(self, parsed: Any, *, township: str) -> tuple[Staged, list[dict]]:
        """Stage the rows not streamed yet; return the whole staged roster and duplicates."""
        if self.stager is None:
            self.stager = Stager(township=township, kind=parsed.kind)
        rest = parsed.rows[self.consumed :]
        if self.load.loader is None:  # nothing written yet: complete() sends it all
            self.consumed += len(rest)
            self.errors += self.stager.feed(rest).errors
        else:
            self._send(rest)
        staged = self.stager.staged
        if staged.township != township:  # the stream guessed the township from its first row
            self.streaming, staged.township = False, township
        staged.kind = parsed.kind
        return staged, self.errors


def _job_progress(job: ImportJob, start: int, end: int, message: str) -> Progress:
    """Return a progress callback that saves the job at most every half second."""
    last = [0.0]

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        share = done / total if total else 1
        job.progress = min(end, start + int((end - start) * share))
        job.message = message
        # updated_at is the job's heartbeat: the stale-job sweep (sweep_stale_jobs) reads it.
        ImportJob.objects.filter(pk=job.pk).update(
            progress=job.progress, message=message, updated_at=timezone.now()
        )

    return update


def _set(job: ImportJob, **values: Any) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    job.save(update_fields=[*values, "updated_at"])


def drop_upload(job: ImportJob) -> None:
    """Delete the uploaded source: it holds raw IDs and accounts and is not needed any more."""
    if job.file:
        job.file.delete(save=False)
        job.file = ""


def delete_report(job: ImportJob) -> None:
    """Delete a job's error report file and forget its name (the problems stay listed)."""
    name = (job.report or {}).get("error_report") or ""
    if name:
        default_storage.delete(name)
        report = {**job.report, "error_report": ""}
        ImportJob.objects.filter(pk=job.pk).update(report=report)
        job.report = report


def _drop_files(job: ImportJob) -> None:
    """Delete everything a job keeps on disk: the upload, the staged rows, the error report."""
    drop_upload(job)
    if job.staged:
        job.staged.delete(save=False)
        job.staged = ""
    delete_report(job)


def stage_roster(*, job: ImportJob) -> ImportReport:
    """Parse and validate an uploaded roster; stage it for confirm or record why it is rejected.

    The job's ``mapping`` (staff's, when they have mapped its columns) is passed to the reader,
    with the templates saved for the program. A roster that still needs mapping keeps its
    upload, to be read again; any other outcome deletes it.
    """
    _set(job, status=ImportStatus.PARSING, progress=1, message=_("正在检查文件"))
    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        report, staged = _prepare(
            data,
            filename=job.original_name,
            township=job.township_name or None,
            sha256=job.sha256 or file_sha256(data),
            progress=_job_progress(job, 5, 90, _("正在解析和校验")),
            mapping=job.mapping or None,
            mapping_for=TemplateFinder(job.program),
            program=job.program,
            period=job.period,
        )
        del data
    except BaseException:
        # Whatever went wrong, the raw upload does not outlive the attempt to read it.
        drop_upload(job)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        raise
    if staged is not None:
        name = default_storage.save(f"staged/{job.pk}.jsonl.gz", ContentFile(staged.dump()))
        job.staged.name = name
    status = report.status  # ready, needs mapping, duplicate or rejected: the job's status too
    if status != ImportStatus.NEEDS_MAPPING:
        drop_upload(job)
    done = {
        ImportStatus.READY: _("校验通过，请确认导入"),
        ImportStatus.NEEDS_MAPPING: _("有些列无法确定，请指定各列的内容"),
        ImportStatus.DUPLICATE: duplicate_message(report),
        ImportStatus.REJECTED: _("校验未通过"),
    }[status]
    batch_id = report.batch if status == ImportStatus.DUPLICATE else None
    _set(
        job,
        status=status,
        progress=100,
        message=done,
        report=report.as_json(),
        file=job.file,
        staged=job.staged,
        batch_id=batch_id,
    )
    return report


def remap_roster(*, job: ImportJob, template_name: str = "", user: Any = None) -> ImportReport:
    """Read a job's kept upload again with the mapping staff chose (``job.mapping``).

    When the roster is then ready and TEMPLATE_NAME is given, the mapping is remembered as
    the program's template for this header, so that the next roster like it needs no mapping.
    """
    report = stage_roster(job=job)
    if template_name and report.status == ImportStatus.READY:
        _save_template(
            report, name=template_name, program=job.program, mapping=job.mapping, user=user
        )
        _set(job, report=report.as_json())
    return report


#: Jobs staff may give up: nothing of theirs is in the database yet.
DISCARDABLE = (
    ImportStatus.NEEDS_MAPPING, ImportStatus.READY, ImportStatus.REJECTED,
    ImportStatus.DUPLICATE, ImportStatus.FAILED,
)  # fmt: skip


def abandon_job(*, job: ImportJob) -> bool:
    """Give up a job not loaded yet and delete its files; say whether it could be given up."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.status not in DISCARDABLE:
            return False
        _drop_files(locked)
        _set(
            locked, status=ImportStatus.ABANDONED, message=_("已放弃，上传的文件已删除"),
            file=locked.file, staged=locked.staged,
        )  # fmt: skip
    job.refresh_from_db()
    return True


def abandon_stale_jobs(*, now: Any = None) -> int:
    """Abandon every job left waiting for mapping, or failed with its upload kept for a retry,
    longer than MAPPING_WAIT; return how many."""
    cutoff = (now or timezone.now()) - MAPPING_WAIT
    waiting = Q(status=ImportStatus.NEEDS_MAPPING) | (Q(status=ImportStatus.FAILED) & ~Q(file=""))
    stale = ImportJob.objects.filter(waiting, updated_at__lt=cutoff)
    return sum(abandon_job(job=job) for job in stale.only("pk"))


# --- Jobs a dead worker left running ------------------------------------------------------
#: The states a worker is working in; a job left in one by a worker that died is stale.
WORKING = (ImportStatus.PARSING, ImportStatus.IMPORTING)


def _hold(job: ImportJob) -> None:
    """Beat the job's heartbeat inside the load's transaction, which then holds its row.

    A sweep passes over a row held by a live transaction (PostgreSQL, SKIP LOCKED), however
    long the load takes; when the worker dies, the database rolls the load back and lets go.
    """
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())


def stale_after() -> timedelta:
    """How long a working job may go without a heartbeat before it counts as abandoned."""
    return timedelta(seconds=settings.SUNLIGHT_STALE_JOB_SECONDS)


def sweep_stale_jobs(*, now: Any = None) -> int:
    """Fail every job a worker left parsing or importing with no heartbeat for longer than
    ``SUNLIGHT_STALE_JOB_SECONDS``; return how many.

    A dead worker wrote nothing: its load ran in one transaction, which the database rolled
    back when the connection went. The staged rows (or the upload, when it died while
    parsing) stay, so staff can retry the job (``can_retry``; ``tasks.request_retry``). The
    task's own row, left running by the dead worker, is marked failed too.
    """
    cutoff = (now or timezone.now()) - stale_after()
    with transaction.atomic():
        found = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=WORKING, updated_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        queued = _queued(found)  # claimed by staff, waiting for a worker: not stale
        stale = [pk for pk in found if str(pk) not in queued]
        if not stale:
            return 0
        # The conditions again: a job that moved on meanwhile (SQLite has no row locks) stays.
        ImportJob.objects.filter(pk__in=stale, status__in=WORKING, updated_at__lt=cutoff).update(
            status=ImportStatus.FAILED, progress=100, updated_at=timezone.now(),
            message=_("处理中断（任务进程意外停止），没有写入任何数据；可以重试"),
        )  # fmt: skip
        _fail_dead_tasks(stale)
    log.warning("%d import job(s) left running by a stopped worker marked failed", len(stale))
    return len(stale)


def _task_rows(job_ids: list[Any], status: str) -> Any:
    """The task rows (django-tasks-db) in STATUS whose first argument is one of JOB_IDS."""
    from django_tasks_db.models import DBTaskResult

    ids = [str(pk) for pk in job_ids]
    return DBTaskResult.objects.filter(status=status, args_kwargs__args__0__in=ids)


def _queued(job_ids: list[Any]) -> set[str]:
    """Return those of JOB_IDS that have a task waiting in the queue."""
    from django_tasks import TaskResultStatus

    if not job_ids:
        return set()
    rows = _task_rows(job_ids, TaskResultStatus.READY)
    return {str(v) for v in rows.values_list("args_kwargs__args__0", flat=True)}


def _fail_dead_tasks(job_ids: list[Any]) -> None:
    """Mark failed the task rows a dead worker left running for the jobs JOB_IDS."""
    from django_tasks import TaskResultStatus

    _task_rows(job_ids, TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED, finished_at=timezone.now(),
        exception_class_path="funds.importing.jobs.WorkerStopped",
        traceback="The worker stopped while running this task (stale-job sweep).",
    )  # fmt: skip


def can_retry(job: ImportJob) -> bool:
    """Say whether a job can be run again: failed, with its staged rows or its upload kept."""
    return job.status == ImportStatus.FAILED and bool(job.staged or job.file)


def confirm_import(
    *, job: ImportJob, user: Any = None, publish: bool = False, override_reason: str = ""
) -> Batch | None:
    """Load a staged job in one transaction without parsing again; return its batch.

    A roster that repeats a live batch needs OVERRIDE_REASON; without one nothing is written
    and the job waits, ready, with what it repeats in its report.
    """
    if job.status not in (ImportStatus.READY, ImportStatus.IMPORTING) or not job.staged:
        raise ValueError("only a staged job that is ready can be confirmed")
    _set(job, status=ImportStatus.IMPORTING, progress=0, message=_("正在写入数据库"))
    with job.staged.open("rb") as fh:
        staged = Staged.load(fh.read())
    report = ImportReport.from_json(job.report)
    try:
        report = _load(
            staged,
            report,
            program=job.program,
            period=job.period,
            user=user,
            publish=publish,
            progress=_job_progress(job, 0, 99, _("正在写入数据库")),
            override_reason=override_reason,
            kind=audit.Kind.CONFIRM,
            job=job,
        )
    except Blocked as blocked:
        report.conflicts = blocked.found.as_json()
        _set(
            job, status=ImportStatus.READY, progress=100, report=report.as_json(),
            message=_("可能重复发放：请说明理由后再确认，或先撤回重复的批次"),
        )  # fmt: skip
        return None
    job.staged.delete(save=False)
    delete_report(job)  # the problems stay listed on the job; the workbook goes
    report.error_report = ""
    imported = report.status == ImportStatus.IMPORTED
    if imported:
        message = _("导入完成")
    elif report.status == ImportStatus.REJECTED:  # refused by the loader's checks
        message = _("未通过校验，未写入任何数据")
    else:
        message = _("该文件已经导入过")
    _set(
        job,
        # imported; rejected by the loader's checks; or duplicate when a racing import of it
        # came first
        status=report.status,
        progress=100,
        message=message,
        report=report.as_json(),
        staged="",
        batch_id=report.batch,
        publish=publish and imported,
    )
    return Batch.objects.filter(pk=report.batch).first()
