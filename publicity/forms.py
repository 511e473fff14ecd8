"""Public forms: search, the villagers' lookup and objections."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy import hashing, idnumbers, personal
from privacy.normalize import normalize_name


class NoEchoInput(forms.TextInput):
    """A text input that never renders the submitted value back into the page."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("搜索乡镇、村或项目"), max_length=50, strip=True)


class LookupForm(forms.Form):
    """Name + ID number (+ year): the ID is validated, then only its keyed hash is kept."""

    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        widget=NoEchoInput(attrs={"autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        widget=NoEchoInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    year = forms.TypedChoiceField(
        label=_("年度（可选）"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [("", _("全部年度"))] + [
            (y, y) for y in range(this_year, this_year - 10, -1)
        ]

    def clean_name(self) -> str:
        name = normalize_name(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("请填写姓名。"), code="required")
        return name

    def clean_id_number(self) -> str:
        """Return the keyed hash of a valid ID; the clear number is not kept."""
        check = idnumbers.check_id_number(self.cleaned_data["id_number"])
        if not check.valid:
            # Only the format is judged here, never whether such a person exists.
            raise forms.ValidationError(
                _("身份证号码格式不正确，请核对后重新输入。"), code="invalid"
            )
        return personal.hash_id_number(check.number)


_PHONE = re.compile(r"\+?[0-9]{7,15}")


class ObjectionForm(forms.Form):
    """An objection to a notice; personal numbers in the text are scrubbed before storage."""

    village = forms.TypedChoiceField(
        label=_("涉及的村（可选）"), required=False, coerce=int, empty_value=None
    )
    text = forms.CharField(label=_("异议内容"), max_length=2000, widget=forms.Textarea)
    contact = forms.CharField(
        label=_("联系电话（可选，仅用于答复，公开时脱敏）"),
        max_length=30,
        required=False,
        widget=NoEchoInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, data=None, *args, villages: list[tuple[int, str]] = (), **kwargs) -> None:
        if data is not None:
            # Scrub before anything else, so a re-shown form never echoes a number either.
            data = data.copy()
            data["text"] = personal.scrub_text(data.get("text", ""))
        super().__init__(data, *args, **kwargs)
        self.fields["village"].choices = [("", _("不指定")), *villages]

    def clean_contact(self) -> str:
        raw = unicodedata.normalize("NFKC", self.cleaned_data["contact"])
        compact = re.sub(r"[\s\-()]", "", raw)
        if compact and not _PHONE.fullmatch(compact):
            raise forms.ValidationError(_("请填写有效的电话号码。"), code="invalid")
        return compact

    def contact_values(self) -> dict[str, str]:
        """Return the masked contact and its keyed hash (both empty when none was given)."""
        contact = self.cleaned_data["contact"]
        if not contact:
            return {"contact_masked": "", "contact_hash": ""}
        return {
            "contact_masked": personal.mask_phone(contact),
            "contact_hash": hashing.keyed_hash(
                f"phone:{contact.lstrip('+')}",
                key=settings.SUNLIGHT_HASH_KEY,
                version=settings.SUNLIGHT_HASH_KEY_VERSION,
            ),
        }
