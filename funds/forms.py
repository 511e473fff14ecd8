"""Forms of the staff import flow and of corrections to published batches."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core import signing
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from funds import access
from funds.importing.anomalies import MAX_LISTED
from funds.importing.cells import BadCell, read_amount, read_measure
from funds.importing.mapping import IGNORE, field_label, is_target, mapping_problems, targets
from funds.models import (
    PERIOD_PATTERN,
    Batch,
    Disbursement,
    ImportJob,
    ImportStatus,
    MappingTemplate,
    Program,
)
from funds.payments import MatchedLine, ReturnCheck
from funds.publishing import Replacement, public_reason
from privacy import idnumbers, personal
from villages.models import Person

# .txt: what Excel calls "Unicode text" (UTF-16, tab-separated).
ALLOWED_SUFFIXES = (".xlsx", ".xls", ".ods", ".csv", ".txt")
PERIOD = RegexValidator(PERIOD_PATTERN, _("发放期间应为“年-月”，如 2026-03"))


class ImportUploadForm(forms.Form):
    program = forms.ModelChoiceField(
        label=_("补贴项目"), queryset=Program.objects.order_by("name"), empty_label=None
    )
    period = forms.CharField(
        label=_("发放期间"),
        max_length=7,
        validators=[PERIOD],
        help_text=_("年-月，如 2026-03"),
        # No placeholder: a grey example in the box reads as a value already filled in.
        widget=forms.TextInput(attrs={"pattern": PERIOD_PATTERN[1:-1], "inputmode": "numeric"}),
    )
    township = forms.CharField(
        label=_("乡镇"),
        max_length=100,
        required=False,
        help_text=_("表格标题或“乡镇”列中没有写明乡镇时填写"),
    )
    file = forms.FileField(
        label=_("花名册文件"),
        help_text=_("Excel（xlsx、xls）、WPS/LibreOffice（ods）或 CSV，原样上传即可"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff upload only to their own townships. A superuser may still name a township the
        # roster introduces (it is created on import); everyone else picks one of theirs.
        if not user.is_superuser:
            self.fields["township"] = forms.ModelChoiceField(
                label=_("乡镇"),
                queryset=access.townships_for(user).order_by("name"),
                to_field_name="name",
                empty_label=None,
                error_messages={"invalid_choice": _("只能上传本人负责的乡镇的花名册")},
            )

    def clean_township(self) -> str:
        township = self.cleaned_data["township"]
        return township if isinstance(township, str) else township.name

    def clean_file(self):
        return checked_upload(self.cleaned_data["file"])


def checked_upload(upload):
    """Refuse an upload by its name's suffix or its size, before anything reads it."""
    if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
        raise forms.ValidationError(_("只支持 xlsx、xls、ods 和 csv 文件"), code="suffix")
    limit = settings.SUNLIGHT_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise forms.ValidationError(
            _("文件太大（上限 %(limit)s）") % {"limit": filesizeformat(limit)}, code="size"
        )
    return upload


class ConfirmForm(forms.Form):
    """Confirm a checked roster; one that repeats a live batch needs a stated reason."""

    publish = forms.BooleanField(
        label=_("导入后立即发布（进入公示期）"), required=False, initial=False
    )
    override_reason = forms.CharField(
        label=_("仍要导入的理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("理由会记入操作记录，可能公开；不要写姓名、身份证号或账号。"),
    )

    checked = forms.MultipleChoiceField(
        label=_("已逐条核对"), required=False, widget=forms.CheckboxSelectMultiple
    )
    checked_all = forms.BooleanField(label=_("以上各行均已逐条核对"), required=False)

    new_township = forms.BooleanField(label=_("确认新建乡镇"), required=False)

    def __init__(
        self,
        *args,
        conflicts: dict | None = None,
        anomalies: list | None = None,
        new_townships: list | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.new_townships = new_townships or []
        # A township unknown so far is created only when staff say so: never by a typo.
        self.fields["new_township"].required = bool(self.new_townships)
        self.conflicts = conflicts or {}
        self.fields["override_reason"].required = bool(self.conflicts)
        self.anomalies = anomalies or []
        self.listed = len(self.anomalies) <= MAX_LISTED
        self.fields["checked"].choices = [(a["key"], a["key"]) for a in self.anomalies]

    def clean(self) -> dict:
        data = super().clean()
        if self.anomalies:
            if self.listed:
                missing = {a["key"] for a in self.anomalies} - set(data.get("checked") or [])
                if missing:
                    self.add_error(
                        "checked",
                        _("还有 %(n)s 行需要核对：请逐条核对并勾选后再确认") % {"n": len(missing)},
                    )
            elif not data.get("checked_all"):
                self.add_error("checked_all", _("请核对以上各行并勾选后再确认"))
        return data

    def acknowledged(self) -> list[str]:
        """Return the keys of the rows staff ticked as checked."""
        return [a["key"] for a in self.anomalies] if self.anomalies and self.is_valid() else []

    def clean_override_reason(self) -> str:
        return self.cleaned_data["override_reason"].strip()


@dataclass
class ColumnLayout:
    """The header of one or more sheets with the same labels: mapped once for all of them."""

    sheets: list[str]
    columns: list[dict]  # as in ImportReport.columns
    names: list[str]  # the form field of each column

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(c["label"] for c in self.columns)


def _layouts(columns: list[dict]) -> list[ColumnLayout]:
    """Group a report's columns by sheet, and sheets with the same header into one layout."""
    by_sheet: dict[str, list[dict]] = {}
    for column in columns:
        by_sheet.setdefault(column["sheet"], []).append(column)
    layouts: dict[tuple[str, ...], ColumnLayout] = {}
    for sheet, sheet_columns in by_sheet.items():
        labels = tuple(c["label"] for c in sheet_columns)
        if labels in layouts:
            layouts[labels].sheets.append(sheet)
            continue
        n = len(layouts)
        names = [f"col-{n}-{i}" for i in range(len(sheet_columns))]
        layouts[labels] = ColumnLayout(sheets=[sheet], columns=sheet_columns, names=names)
    return list(layouts.values())


class MappingForm(forms.Form):
    """Say which field each column of a waiting roster holds; optionally remember it.

    One select per column, pre-filled with the importer's guess (a column nothing recognised
    starts as "ignore"), so that submitting it unchanged confirms the guesses. Sheets with the
    same header are mapped once. Each sheet needs its name, ID number and amount columns, and
    no field may be given to two columns.
    """

    save_template = forms.BooleanField(
        label=_("保存为本项目的模板：下次表头相同的花名册自动按此对应"),
        required=False,
        initial=True,
    )
    template_name = forms.CharField(label=_("模板名称"), max_length=100, required=False)

    def __init__(self, data=None, *, job: ImportJob, **kwargs):
        super().__init__(data, **kwargs)
        self.job = job
        report = job.report or {}
        self.layouts = _layouts(report.get("columns", []))
        self.signature = report.get("signature", "")
        self.existing = (
            MappingTemplate.objects.filter(program=job.program, signature=self.signature).first()
            if self.signature
            else None
        )
        choices = [(target, field_label(target)) for target in targets()]
        for layout in self.layouts:
            for name, column in zip(layout.names, layout.columns, strict=True):
                guess = column.get("field") or IGNORE
                self.fields[name] = forms.ChoiceField(
                    label=_("%(letter)s 列“%(label)s”")
                    % {"letter": column["letter"], "label": column["label"]},
                    choices=choices,
                    initial=guess if is_target(guess) else IGNORE,
                )
        default = f"{job.program.name}-{self.signature[:6]}" if self.signature else ""
        self.fields["template_name"].initial = self.existing.name if self.existing else default

    def unsettled(self) -> list[str]:
        """Return the fields the importer could not settle, as staff read them."""
        return [field_label(name) for name in (self.job.report or {}).get("unsettled", [])]

    def tables(self) -> list[dict]:
        """Return each layout's sheets and, per column, the column and its bound select."""
        return [
            {
                "sheets": layout.sheets,
                "rows": [
                    {"column": c, "field": self[name], "guess": field_label(c.get("field"))}
                    for name, c in zip(layout.names, layout.columns, strict=True)
                ],
            }
            for layout in self.layouts
        ]

    def clean(self):
        data = super().clean()
        if self.job.status != ImportStatus.NEEDS_MAPPING or not self.layouts:
            raise forms.ValidationError(_("该任务当前不需要指定列"))
        if self.errors:
            return data
        problems = [p for layout in self.layouts for p in self._layout_problems(layout, data)]
        problems += self._conflicts(data)
        if data.get("save_template"):
            problems += self._template_problems(data.get("template_name", "").strip())
        if problems:
            raise forms.ValidationError(problems)
        return data

    def _layout_problems(self, layout: ColumnLayout, data: dict) -> list[str]:
        pairs = [(c["label"], data[n]) for n, c in zip(layout.names, layout.columns, strict=True)]
        where = "、".join(layout.sheets)
        problems = [
            _("%(sheets)s：%(problem)s") % {"sheets": where, "problem": problem}
            for problem in mapping_problems(pairs)
        ]
        chosen: dict[str, set[str]] = {}
        for label, target in pairs:
            chosen.setdefault(label, set()).add(target)
        for label, found in chosen.items():
            if len(found) > 1:
                problems.append(
                    _("%(sheets)s：有几列的表头都是“%(label)s”，无法分别指定；请把表头改得不同")
                    % {"sheets": where, "label": label}
                )
        return problems

    def _conflicts(self, data: dict) -> list[str]:
        """Name the labels given different fields in different sheets: a mapping is by label."""
        seen: dict[str, str] = {}
        problems = []
        for label, target in self._pairs(data):
            if seen.setdefault(label, target) != target:
                problems.append(
                    _("表头“%(label)s”在不同的工作表中指定了不同的字段") % {"label": label}
                )
        return problems

    def _template_problems(self, name: str) -> list[str]:
        if not self.signature:
            return [_("无法识别这份表头的特征，不能保存为模板")]
        if not name:
            return [_("请填写模板名称")]
        taken = MappingTemplate.objects.filter(name=name)
        if self.existing is not None:
            taken = taken.exclude(pk=self.existing.pk)
        if taken.exists():
            return [_("已有名为“%(name)s”的模板，请换一个名称") % {"name": name}]
        return []

    def _pairs(self, data: dict) -> list[tuple[str, str]]:
        return [
            (c["label"], data[n])
            for layout in self.layouts
            for n, c in zip(layout.names, layout.columns, strict=True)
        ]

    def mapping(self) -> dict[str, str]:
        """Return the mapping chosen: header label -> field, IGNORE or PERSONAL."""
        return dict(self._pairs(self.cleaned_data))

    def template_to_save(self) -> str:
        """Return the name to save the mapping as, or "" when it is not to be saved."""
        if not self.cleaned_data.get("save_template"):
            return ""
        return self.cleaned_data["template_name"].strip()


class BatchActionForm(forms.Form):
    """An act on a batch from its page; withdrawing asks why (written to the audit record)."""

    action = forms.ChoiceField(
        choices=[("publish", _("发布")), ("finalize", _("定稿")), ("withdraw", _("撤回"))]
    )
    reason = forms.CharField(
        label=_("撤回原因"),
        max_length=500,
        required=False,
        help_text=_("写入操作记录；身份证号、电话、账号会自动隐去"),
    )

    override_reason = forms.CharField(
        label=_("仍要发布的理由"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("理由会记入操作记录，可能公开；不要写姓名、身份证号或账号。"),
    )
    #: Set only by the confirmation page's button: an act is never made in one click.
    confirmed = forms.BooleanField(required=False)

    def clean_reason(self) -> str:
        return personal.scrub_text(self.cleaned_data["reason"].strip())

    def clean_override_reason(self) -> str:
        return self.cleaned_data["override_reason"].strip()

    def clean(self):
        data = super().clean()
        if data.get("action") == "withdraw" and not data.get("reason"):
            self.add_error("reason", _("撤回批次时请填写原因"))
        return data


MAX_CORRECTED_ROWS = 200
CENT = Decimal("0.01")
AMOUNT_ERRORS = {
    "invalid": _("请输入金额数字，如 120.50"),
    "min_value": _("金额不能为负数"),
    "max_decimal_places": _("金额最多两位小数"),
    "max_digits": _("金额太大"),
    "max_whole_digits": _("金额太大"),
}
#: The cell reader's problems (funds.importing.cells), as the correction form words them.
_CELL_ERRORS = {
    "not_number": AMOUNT_ERRORS["invalid"],
    "bad_separators": AMOUNT_ERRORS["invalid"],
    "amount_words_invalid": AMOUNT_ERRORS["invalid"],
    "amount_negative": AMOUNT_ERRORS["min_value"],
    "negative": AMOUNT_ERRORS["min_value"],
    "too_many_decimals": AMOUNT_ERRORS["max_decimal_places"],
    "amount_too_large": AMOUNT_ERRORS["max_digits"],
    "too_large": AMOUNT_ERRORS["max_digits"],
}
#: What an ID number typed into the search looks like: 15 or 18 characters, digits (and X).
_ID_LIKE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]")


def selected_ids(values: list[str]) -> list[int]:
    """Return the distinct row ids in VALUES, in order, ignoring anything not a number."""
    ids = dict.fromkeys(int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 19)
    return list(ids)[:MAX_CORRECTED_ROWS]


class CorrectionSearchForm(forms.Form):
    """Find rows of a batch by name (real or masked), ID number, village, sheet or row.

    A real name or ID number is turned into its keyed hash here (``who``) and matched against
    ``Person.name_hash`` / ``id_hash``: the page posts the search and is sent on to a URL
    that carries the hash, so the clear text is never stored, logged or kept in a URL.
    """

    q = forms.CharField(
        label=_("姓名、身份证号、村或工作表"),
        max_length=50,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("如：张三、张*三、身份证号、红星村"), "autocomplete": "off"}
        ),
    )
    row = forms.IntegerField(label=_("来源行号"), min_value=1, max_value=10**7, required=False)
    who = forms.CharField(widget=forms.HiddenInput, max_length=80, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if "q" not in data or "who" not in data:
            return data
        text = unicodedata.normalize("NFKC", data["q"])
        compact = "".join(text.split())
        if _ID_LIKE.fullmatch(compact):
            check = idnumbers.check_id_number(compact)
            if not check.valid:
                self.add_error("q", _("身份证号校验不通过，请核对后再查"))
                self._forget_typed()
                return data
            data["who"], data["q"] = personal.hash_id_number(check.number), ""
        elif compact and "*" not in compact:
            name_hash = personal.hash_name(compact)
            if Person.objects.filter(name_hash=name_hash).exists():
                data["who"], data["q"] = name_hash, ""
        if data["q"]:
            data["q"] = text.strip()
        else:
            self._forget_typed()
        return data

    def _forget_typed(self) -> None:
        """Keep a typed real name or ID number out of the page sent back."""
        self.data = self.data.copy()
        self.data["q"] = ""

    def query(self, selected: Sequence[int] = ()) -> str:
        """Return the query string of this search without a real name or ID: for a redirect."""
        params = {key: self.cleaned_data[key] for key in ("q", "row", "who")}
        params = {key: value for key, value in params.items() if value not in ("", None)}
        return urlencode({**params, "sel": list(selected)}, doseq=True)

    def filter(self, rows: QuerySet[Disbursement]) -> QuerySet[Disbursement]:
        """Narrow ROWS to what the search asks for; an invalid search narrows nothing."""
        if not self.is_valid():
            return rows
        if who := self.cleaned_data["who"]:
            rows = rows.filter(
                Q(name_hash=who)  # the row's own name, as its roster wrote it
                | Q(person__name_hash=who)
                | Q(person__id_hash=who)
                | Q(payee__name_hash=who)
                | Q(payee__id_hash=who)
            )
        if q := self.cleaned_data["q"]:
            rows = rows.filter(
                Q(name_masked__icontains=q)
                | Q(village__name__icontains=q)
                | Q(source_sheet__icontains=q)
            )
        if self.cleaned_data["row"] is not None:
            rows = rows.filter(source_row=self.cleaned_data["row"])
        return rows


class ClerkNumberField(forms.Field):
    """A number as clerks type it ("776.86元", "¥1,351.91", full-width digits), read by the
    importer's cell reader: READ is ``cells.read_amount`` or a ``cells.read_measure``."""

    max_length = 40

    def __init__(self, *, read, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
        super().__init__(**kwargs)
        self.read = read

    def to_python(self, value) -> Decimal | None:
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > self.max_length:
            raise forms.ValidationError(AMOUNT_ERRORS["max_digits"])
        try:
            return self.read(text)
        except BadCell as problem:
            raise forms.ValidationError(_CELL_ERRORS.get(problem.code, problem.message)) from None


class CorrectionRowForm(forms.Form):
    row = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity = ClerkNumberField(
        label=_("更正后数量（面积）"), read=lambda value: read_measure(value, _("数量"))
    )
    rate = ClerkNumberField(
        label=_("更正后标准（元）"), read=lambda value: read_measure(value, _("标准"))
    )
    amount = ClerkNumberField(label=_("更正后金额（元）"), read=read_amount)
    status = forms.ChoiceField(
        label=_("更正后状态"),
        required=False,
        choices=[("", _("不变")), *Disbursement.Status.choices],
    )
    withdraw = forms.BooleanField(label=_("整笔撤销（只冲销，不补发）"), required=False)

    original: Disbursement | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        row = self.original
        if row is None:
            raise forms.ValidationError(_("这条记录不属于本批次，或是冲销行，不能更正"))
        amount, status = data.get("amount"), data.get("status")
        quantity, rate = data.get("quantity"), data.get("rate")
        changed = (amount, status, quantity, rate) != (None, "", None, None)
        if data.get("withdraw") and changed:
            raise forms.ValidationError(_("整笔撤销时不要再填写金额或状态"))
        data["computed"] = None
        if quantity is not None or rate is not None:
            quantity = row.quantity if quantity is None else quantity
            rate = row.rate if rate is None else rate
            if quantity is None or rate is None:
                if amount is None:
                    raise forms.ValidationError(
                        _("原记录没有数量或标准，无法计算金额：请同时填写数量、标准，或填写金额")
                    )
            else:
                data["computed"] = (quantity * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        computed = data["computed"]
        if computed is not None and amount is not None and abs(amount - computed) > CENT:
            self.add_error(
                "amount",
                _("金额与数量×标准不符：按数量×标准应为 %(computed)s 元") % {"computed": computed},
            )
        return data

    def replacement(self, note: str) -> Replacement | None:
        """Return what this row becomes, or None when it is left as it was."""
        data, row = self.cleaned_data, self.original
        if data["withdraw"]:
            return Replacement(amount=None, note=note)
        status = data["status"] or row.status
        # A stopped payment pays nothing unless staff say otherwise.
        default = Decimal("0.00") if status == Disbursement.Status.STOPPED else row.amount
        amount = data["amount"] if data["amount"] is not None else data["computed"]
        amount = (default if amount is None else amount).quantize(CENT)
        quantity = row.quantity if data["quantity"] is None else data["quantity"]
        rate = row.rate if data["rate"] is None else data["rate"]
        if (amount, status, quantity, rate) == (row.amount, row.status, row.quantity, row.rate):
            return None
        return Replacement(amount=amount, note=note, status=status, quantity=quantity, rate=rate)


class BaseCorrectionRowFormSet(forms.BaseFormSet):
    def clean(self):
        ids = [f.cleaned_data.get("row") for f in self.forms if f.cleaned_data]
        if len(ids) != len(set(ids)):
            raise forms.ValidationError(_("同一条记录只能出现一次"))


CorrectionRowFormSet = forms.formset_factory(
    CorrectionRowForm,
    formset=BaseCorrectionRowFormSet,
    extra=0,
    max_num=MAX_CORRECTED_ROWS,
    absolute_max=MAX_CORRECTED_ROWS,
    validate_max=True,
)


@dataclass(frozen=True)
class CorrectionLine:
    """One corrected row as the preview shows it: the row, its reversal, its replacement."""

    original: Disbursement
    replacement: Replacement

    @property
    def reversal(self) -> Decimal:
        return -self.original.amount

    @property
    def net(self) -> Decimal:
        return (self.replacement.amount or Decimal("0.00")) - self.original.amount

    @property
    def status_label(self) -> str:
        return Disbursement.Status(self.replacement.status).label


class CorrectionForm(forms.Form):
    """Correct rows of one published batch: each row's new values and one reason for all."""

    reason = forms.CharField(
        label=_("更正原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("写入更正记录，可能公开显示；身份证号、电话、账号会自动隐去"),
    )
    stamp = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, data=None, *, batch: Batch, ids: Sequence[int] = (), **kwargs):
        kwargs.setdefault("initial", {"stamp": timezone.now().isoformat()})
        super().__init__(data, **kwargs)
        self.batch = batch
        self.rows = CorrectionRowFormSet(data, prefix="rows", initial=[{"row": i} for i in ids])
        originals = batch.disbursements.filter(is_reversal=False).select_related(
            "person", "village"
        )
        by_id = originals.in_bulk(selected_ids([str(f["row"].value()) for f in self.rows]))
        for form in self.rows:
            form.original = by_id.get(_as_int(form["row"].value()))

    def clean_reason(self) -> str:
        return public_reason(self.cleaned_data["reason"])

    def clean_stamp(self) -> str:
        try:
            stamp = parse_datetime(self.cleaned_data["stamp"])
        except ValueError:
            stamp = None
        if stamp is None:
            raise forms.ValidationError(_("页面已过期，请重新打开更正页面"))
        return self.cleaned_data["stamp"]

    def clean(self):
        data = super().clean()
        if not self.batch.is_public:
            raise forms.ValidationError(
                _("只能更正公示中或已定稿的批次；本批次状态为“%(status)s”")
                % {"status": self.batch.get_status_display()}
            )
        return data

    def is_valid(self) -> bool:
        valid = super().is_valid() and self.rows.is_valid()
        if valid and not self.lines():
            self.add_error(None, _("没有需要更正的记录：请为至少一条记录填写新金额、状态或撤销"))
            return False
        return valid

    def lines(self) -> list[CorrectionLine]:
        """Return the rows that change, with what each becomes."""
        note = self.cleaned_data["reason"]
        pairs = [(f.original, f.replacement(note)) for f in self.rows]
        return [CorrectionLine(row, new) for row, new in pairs if new is not None]

    def changes(self) -> dict[int, Replacement]:
        return {line.original.pk: line.replacement for line in self.lines()}

    def net(self) -> Decimal:
        return sum((line.net for line in self.lines()), Decimal("0.00"))

    def new_total(self) -> Decimal:
        """Return the batch's total after earlier live corrections and this one."""
        live = self.batch.corrections.exclude(status=Batch.Status.WITHDRAWN)
        earlier = live.aggregate(total=Sum("total_amount"))["total"] or Decimal("0.00")
        return self.batch.total_amount + earlier + self.net()

    @property
    def chosen(self) -> list[Disbursement]:
        """Return the selected rows that belong to the batch."""
        return [f.original for f in self.rows if f.original is not None]

    def source_sha256(self) -> str:
        """Fingerprint the correction; the page's stamp keeps a double click to one batch."""
        changes = sorted(
            [pk, *(None if v is None else str(v) for v in (r.amount, r.quantity, r.rate)),
             r.status, r.note]
            for pk, r in self.changes().items()
        )  # fmt: skip
        payload = {"batch": self.batch.pk, "changes": changes, "stamp": self.cleaned_data["stamp"]}
        canonical = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _as_int(value: object) -> int | None:
    ids = selected_ids([str(value)])
    return ids[0] if ids else None


#: How long a checked return file may wait for confirmation.
RETURN_CONFIRM_SECONDS = 3600


class PaymentReturnUploadForm(forms.Form):
    file = forms.FileField(
        label=_("银行回盘文件"),
        help_text=_("银行返回的代发结果（失败、退回、重发成功），Excel 或 CSV，原样上传即可"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
    )

    def clean_file(self):
        return checked_upload(self.cleaned_data["file"])


class PaymentReturnConfirmForm(forms.Form):
    """Carry a checked return file's matched lines, signed, from the preview to confirm.

    The lines hold row ids, amounts, dates and scrubbed reasons: no ID number or account is
    kept between the two requests, and the signature keeps the page from being altered.
    """

    staged = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, data=None, *, batch: Batch, **kwargs):
        super().__init__(data, **kwargs)
        self.batch = batch

    @classmethod
    def for_check(cls, *, batch: Batch, check: ReturnCheck) -> PaymentReturnConfirmForm:
        payload = {
            "name": check.original_name,
            "sha256": check.sha256,
            "lines": [line.as_list() for line in check.lines],
        }
        staged = signing.dumps(payload, salt=cls._salt(batch), compress=True)
        return cls(batch=batch, initial={"staged": staged})

    @staticmethod
    def _salt(batch: Batch) -> str:
        return f"funds.payment-return.{batch.pk}"

    def clean_staged(self) -> dict:
        try:
            payload = signing.loads(
                self.cleaned_data["staged"], salt=self._salt(self.batch),
                max_age=RETURN_CONFIRM_SECONDS,
            )  # fmt: skip
        except signing.BadSignature:
            raise forms.ValidationError(
                _("预览已过期或已被改动，请重新上传回盘文件"), code="stale"
            ) from None
        return payload

    def staged_values(self) -> dict:
        """Return the keyword arguments of ``payments.record_payment_results`` but batch, user."""
        payload = self.cleaned_data["staged"]
        return {
            "lines": [MatchedLine.from_list(values) for values in payload["lines"]],
            "original_name": payload["name"],
            "sha256": payload["sha256"],
        }
