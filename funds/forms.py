"""Forms of the staff import flow."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from funds.models import Program

ALLOWED_SUFFIXES = (".xlsx", ".xls", ".ods", ".csv")
PERIOD = RegexValidator(r"^[0-9]{4}-(0[1-9]|1[0-2])$", _("发放期间应为“年-月”，如 2026-03"))


class ImportUploadForm(forms.Form):
    program = forms.ModelChoiceField(
        label=_("补贴项目"), queryset=Program.objects.order_by("name"), empty_label=None
    )
    period = forms.CharField(
        label=_("发放期间"),
        max_length=7,
        validators=[PERIOD],
        help_text=_("年-月，如 2026-03"),
        widget=forms.TextInput(attrs={"placeholder": "2026-03", "pattern": r"[0-9]{4}-[0-9]{2}"}),
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

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(_("只支持 xlsx、xls、ods 和 csv 文件"), code="suffix")
        limit = settings.SUNLIGHT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件太大（上限 %(limit)s）") % {"limit": filesizeformat(limit)}, code="size"
            )
        return upload


class ConfirmForm(forms.Form):
    publish = forms.BooleanField(
        label=_("导入后立即发布（进入公示期）"), required=False, initial=False
    )


class BatchActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("publish", _("发布")), ("finalize", _("定稿")), ("withdraw", _("撤回"))]
    )
