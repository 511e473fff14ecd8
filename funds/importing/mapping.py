"""Column mappings staff give: header label -> field, checked before a roster is read with one.

Pure module: no ORM. A mapping names, for each header label exactly as the reader reports it
(``parsed.Column.label``), the field the column holds, ``IGNORE`` or ``PERSONAL``. The targets
are the keys of ``aliases.FIELD_LABELS`` (read each time: the vocabulary may grow) plus those
two. The staff mapping page (``funds.forms.MappingForm``), the admin of saved templates
(``funds.models.MappingTemplate``) and ``import_payments --map`` all check with this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from funds.importing.aliases import FIELD_LABELS
from funds.importing.parsed import IGNORE, PERSONAL

__all__ = [
    "IGNORE",
    "PERSONAL",
    "REPEATABLE",
    "REQUIRED",
    "field_label",
    "is_target",
    "mapping_problems",
    "parse_map_option",
    "targets",
]

#: The fields every sheet needs, each with the fields that can stand in for it: a
#: per-household roster names its beneficiary in the head's columns (funds.importing.roster).
REQUIRED: dict[str, tuple[str, ...]] = {
    "name": ("name", "head_name"),
    "id_number": ("id_number", "head_id", "disability_number"),
    "amount": ("amount",),
}

#: Fields several columns may hold: the parts of a total (生活补贴 + 护理补贴) and the
#: deductions (扣款) are each checked against the amount; every other field is one column.
REPEATABLE = ("part", "deduction", "seq")

#: How the two targets that are not fields read in a choice list.
SKIPPED_LABELS = {
    IGNORE: gettext_lazy("不导入"),
    PERSONAL: gettext_lazy("个人信息，不保存"),
}


def targets() -> list[str]:
    """Return every target a column may be mapped to: the fields, then IGNORE and PERSONAL."""
    return [*FIELD_LABELS, IGNORE, PERSONAL]


def is_target(value: object) -> bool:
    """Say whether VALUE is a field name, IGNORE or PERSONAL."""
    return isinstance(value, str) and (value in FIELD_LABELS or value in SKIPPED_LABELS)


def field_label(target: str) -> str:
    """Return how staff read TARGET: the field's header label with its name, or what it skips."""
    if target in SKIPPED_LABELS:
        return f"{SKIPPED_LABELS[target]} ({target})"
    if target in FIELD_LABELS:
        return f"{FIELD_LABELS[target]} ({target})"
    return target


def _required_problems(fields: Counter[str]) -> list[str]:
    problems = []
    for required, stand_ins in REQUIRED.items():
        if not any(fields[name] for name in stand_ins):
            problems.append(
                _("没有指定“%(field)s”列") % {"field": field_label(required)},
            )
    return problems


def mapping_problems(columns: Iterable[tuple[str, str]], *, complete: bool = True) -> list[str]:
    """Return what is wrong with one sheet's mapping, given as (label, target) per column.

    Every target must be known and no field but the ``REPEATABLE`` ones may be given to two
    columns; with ``complete``,
    each required field (``REQUIRED``) must have its column. An empty list means it is sound.
    """
    pairs = list(columns)
    problems = [
        _("“%(label)s”：未知的字段“%(field)s”") % {"label": label, "field": target}
        for label, target in pairs
        if not is_target(target)
    ]
    fields = Counter(t for _label, t in pairs if is_target(t) and t not in SKIPPED_LABELS)
    problems += [
        _("“%(field)s”只能对应一列，现在对应了 %(count)d 列")
        % {"field": field_label(name), "count": count}
        for name, count in fields.items()
        if count > 1 and name not in REPEATABLE
    ]
    if complete:
        problems += _required_problems(fields)
    return problems


def stored_mapping_problems(mapping: object) -> list[str]:
    """Return what is wrong with a saved mapping (a template): its shape and its targets.

    A template covers every sheet whose header it matches, so only what holds for any sheet is
    checked: a JSON object of header label -> known target, no field given to two labels.
    """
    if not isinstance(mapping, Mapping) or not mapping:
        return [_("列对应关系应为“表头: 字段”的对象，且不能为空")]
    if not all(isinstance(label, str) and label.strip() for label in mapping):
        return [_("表头不能为空")]
    return mapping_problems(mapping.items(), complete=False)


def parse_map_option(text: str) -> tuple[str, str]:
    """Split a ``表头=field`` option into (label, target); raise ValueError when it is not one.

    The last ``=`` separates them (no target has one; a header might).
    """
    label, sep, target = text.rpartition("=")
    label, target = label.strip(), target.strip()
    if not sep or not label:
        raise ValueError(_("“%(option)s”应写作“表头=字段”") % {"option": text})
    if not is_target(target):
        known = ", ".join(targets())
        raise ValueError(
            _("“%(option)s”：未知的字段“%(field)s”。可用的字段：%(known)s")
            % {"option": text, "field": target, "known": known}
        )
    return label, target
