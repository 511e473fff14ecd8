"""The public site's views: published batches only, masked values only."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from funds.importing import blankroster
from funds.models import Batch, Program
from publicity import bulk, exports, lookup, notices, queries, transparency
from publicity.charts import bar_chart
from publicity.filters import DisbursementFilter
from publicity.forms import LookupForm, ObjectionForm, SearchForm
from publicity.models import Objection
from publicity.pagecache import public_page
from publicity.qr import qr_svg
from villages.models import Household, Township, Village

PAGE_SIZE = 50
KIOSK_MAX_ROWS = 2000
DOWNLOAD_HEADER = (
    "乡镇",
    "村",
    "村民小组",
    "姓名（脱敏）",
    "身份证号（脱敏）",
    "项目",
    "发放期间",
    "金额（元）",
    "发放日期",
    "发放状态",
    "当前状态",
    "更正情况",
)
DOWNLOAD_FORMATS = {"csv": exports.csv_response, "xlsx": exports.xlsx_response}


def _page(request, rows, totals, *, corrected=None):
    """Return the requested page of ROWS, counted by TOTALS (no second COUNT query), each row
    saying which published correction corrected it (CORRECTED)."""
    paged = queries.PagedRows(rows, count=totals["rows"], corrected=corrected)
    return Paginator(paged, PAGE_SIZE).get_page(request.GET.get("page"))


def _net_page(request, rows, totals):
    """Return the requested page of ROWS as villagers read them: each payment once, at its net
    amount, with its corrections folded under it."""
    paged = queries.PagedRows(queries.notice_rows(rows), count=totals["notices"], net=True)
    return Paginator(paged, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(int(request.GET.get(name, default)), high))
    except ValueError:
        return default


def _published_batch(pk) -> Batch:
    return get_object_or_404(queries.published_batches(), pk=pk)


@public_page
def home(request):
    year = timezone.localdate().year
    rows = queries.year_rows(year)
    context = {
        "year": year,
        "totals": queries.totals(rows),
        "by_program": queries.totals_by_program(rows),
        "batches": queries.latest_batches(),
        "programs": Program.objects.order_by("name"),
        "search_form": SearchForm(),
    }
    return render(request, "publicity/home.html", context)


@require_GET
def search(request):
    form = SearchForm(request.GET)
    results = queries.search(form.cleaned_data["q"]) if form.is_valid() else None
    return render(request, "publicity/search.html", {"search_form": form, "results": results})


@public_page
def township_index(request):
    context = {"townships": queries.townships_with_villages()}
    return render(request, "publicity/township_index.html", context)


@public_page
def township(request, pk):
    town = get_object_or_404(Township, pk=pk)
    rows = queries.published_rows().filter(village__township=town)
    context = {
        "township": town,
        "villages": queries.totals_by_village(rows),
        "totals": queries.totals(rows),
        "batches": queries.published_batches().filter(township=town),
    }
    return render(request, "publicity/township.html", context)


@public_page
def village(request, pk):
    place = get_object_or_404(Village.objects.select_related("township"), pk=pk)
    entries = DisbursementFilter(request.GET, queries.published_rows().filter(village=place))
    totals = queries.totals(entries.qs)
    context = {
        "village": place,
        "filter": entries,
        "page": _net_page(request, entries.qs, totals),
        "totals": totals,
        "query": _query_without_page(request),
    }
    return render(request, "publicity/village.html", context)


@public_page
def household(request, pk):
    home_ = get_object_or_404(Household.objects.select_related("village__township"), pk=pk)
    rows = queries.household_rows(home_.pk)
    entries = list(
        queries.as_rows(queries.notice_rows(rows)).order_by("-period", "program__name", "id")
    )
    queries.with_payment_results(queries.with_corrections(entries))
    if not entries:
        raise Http404  # a household known only from unpublished rosters is not public
    context = {
        "household": home_,
        "members": queries.household_member_rows(home_.pk),
        "entries": entries,
        "by_year": queries.totals_by_year(rows),
        "totals": queries.totals(rows),
    }
    return render(request, "publicity/household.html", context)


@public_page
def program(request, slug):
    scheme = get_object_or_404(Program, slug=slug)
    rows = queries.published_rows().filter(program=scheme)
    by_village = queries.totals_by_village(rows)
    title = _("%(program)s：各村发放金额") % {"program": scheme.name}
    context = {
        "program": scheme,
        "by_village": by_village,
        "chart": bar_chart(queries.chart_items(by_village), title=title) if by_village else "",
        "totals": queries.totals(rows),
        "batches": queries.published_batches().filter(program=scheme),
    }
    return render(request, "publicity/program.html", context)


def program_template(request, slug):
    scheme = get_object_or_404(Program, slug=slug)
    name = queries.safe_filename(_("%(program)s发放花名册模板.xlsx") % {"program": scheme.name})
    return exports.bytes_response(name, blankroster.roster_template(scheme))


@public_page
def batch(request, pk, objection_form=None):
    withdrawn = queries.withdrawn_notice(pk)
    if withdrawn is not None:
        # Its notice may be posted in the village with a QR code: the page stays, without rows.
        return render(request, "publicity/batch_withdrawn.html", withdrawn)
    notice = _published_batch(pk)
    rows = queries.published_rows().filter(batch=notice)
    state = queries.publicity_state(notice)
    if objection_form is None and state.accepts_objections:
        objection_form = ObjectionForm(villages=queries.batch_villages(notice))
    totals = queries.totals(rows)
    corrected = queries.corrected_by(rows)
    context = {
        "batch": notice,
        "state": state,
        "totals": totals,
        "page": _page(request, rows, totals, corrected=corrected),
        "corrected": queries.correction_banner(corrected),
        "query": _query_without_page(request),
        "objection_form": objection_form,
    }
    return render(request, "publicity/batch.html", context)


@require_POST
def objection(request, pk):
    notice = _published_batch(pk)
    if not queries.publicity_state(notice).accepts_objections:
        return render(request, "publicity/objection_closed.html", {"batch": notice}, status=403)
    if lookup.client_over_limit(request, "objection"):
        return render(request, "publicity/429.html", status=429)
    form = ObjectionForm(request.POST, villages=queries.batch_villages(notice))
    if not form.is_valid():
        return batch(request, pk, objection_form=form)
    Objection.objects.create(
        batch=notice,
        village_id=form.cleaned_data["village"],
        text=form.cleaned_data["text"],
        **form.contact_values(),
    )
    messages.success(request, _("异议已收到，我们将在公示期内核实并答复。"))
    return redirect(reverse("publicity:batch", args=[notice.pk]) + "#objection")


@public_page
def batch_print(request, pk):
    notice = _published_batch(pk)
    rows = queries.published_rows().filter(batch=notice)
    url = request.build_absolute_uri(reverse("publicity:batch", args=[notice.pk]))
    corrected = queries.corrected_by(rows)
    context = {
        "batch": notice,
        "state": queries.publicity_state(notice),
        "rows": queries.with_corrected_marks(queries.as_rows(rows), corrected),
        "corrected": queries.correction_banner(corrected),
        "totals": queries.totals(rows),
        "qr": qr_svg(url, title=_("扫码查看网上公示")),
        "url": url,
    }
    return render(request, "publicity/batch_print.html", context)


def _kiosk(request, *, title, rows):
    context = {
        "title": title,
        "rows": queries.as_rows(rows)[:KIOSK_MAX_ROWS],
        "totals": queries.totals(rows),
        "speed": _int_param(request, "speed", 40, 1, 5000),
    }
    return render(request, "publicity/kiosk.html", context)


@public_page
def batch_kiosk(request, pk):
    notice = _published_batch(pk)
    rows = queries.published_rows().filter(batch=notice)
    title = f"{notice.program.name} {notice.period} {notice.township.name}"
    place = notices.kiosk_village(notice, request.GET.get("village"))
    if place is not None:
        rows, title = rows.filter(village=place), f"{title} {place.name}"
    return _kiosk(request, title=title, rows=rows)


@public_page
def village_kiosk(request, pk):
    place = get_object_or_404(Village.objects.select_related("township"), pk=pk)
    entries = DisbursementFilter(request.GET, queries.published_rows().filter(village=place))
    context = {
        "title": f"{place.township.name} {place.name}",
        "sections": notices.village_kiosk_batches(entries.qs, limit=KIOSK_MAX_ROWS),
        "totals": queries.totals(entries.qs),
        "speed": _int_param(request, "speed", 40, 1, 5000),
    }
    return render(request, "publicity/kiosk_village.html", context)


def _notice_place(request, pk, village_pk):
    """Return the published batch, the village and the ?group= of a village notice, and its rows."""
    notice = _published_batch(pk)
    place = get_object_or_404(Village.objects.select_related("township"), pk=village_pk)
    group = request.GET.get("group")
    return notice, place, group, notices.notice_rows(notice, place, group)


def _village_page_url(request, notice, place, group) -> str:
    """Return the village page showing what a village notice shows: its program and period."""
    params = {"program": notice.program.slug, "period": notice.period}
    if group:
        params["group"] = group
    url = reverse("publicity:village", args=[place.pk]) + "?" + urlencode(params)
    return request.build_absolute_uri(url)


@public_page
def village_notice(request, pk, village_pk):
    notice, place, group, rows = _notice_place(request, pk, village_pk)
    found = notices.extent(rows)
    online = _village_page_url(request, notice, place, group)
    objections = reverse("publicity:batch", args=[notice.pk]) + "#objection"
    corrected = queries.corrected_by(rows)
    context = {
        "batch": notice,
        "village": place,
        "group": group,
        "state": queries.publicity_state(notice),
        "columns": notices.notice_columns(notice.program, found),
        "rows": queries.with_corrected_marks(notices.as_notice_rows(rows), corrected),
        "corrected": queries.correction_banner(corrected),
        "totals": queries.totals(rows),
        "quantity": found["quantity"],
        "qr": qr_svg(online, title=_("扫码查看本村网上公示")),
        "url": online,
        "objection_url": request.build_absolute_uri(objections),
    }
    return render(request, "publicity/village_notice.html", context)


def limited_download(view):
    """Hold a download to the anonymous client's export budget (SUNLIGHT_THROTTLE_EXPORT)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if lookup.export_refused(request):
            return render(request, "publicity/429.html", status=429)
        return view(request, *args, **kwargs)

    return wrapper


@public_page
@limited_download
def village_notice_download(request, pk, village_pk, fmt):
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404
    notice, place, group, rows = _notice_place(request, pk, village_pk)
    with translation.override(settings.LANGUAGE_CODE):  # open data: one header in any language
        columns = notices.notice_columns(notice.program, notices.extent(rows))
    header = notices.download_header(DOWNLOAD_HEADER, columns)
    parts = [notice.program.name, notice.period, place.township.name, place.name, group]
    name = queries.safe_filename("-".join(p for p in parts if p) + f".{fmt}")
    return DOWNLOAD_FORMATS[fmt](name, header, notices.download_rows(rows, columns))


@public_page
@limited_download
def batch_download(request, pk, fmt):
    notice = _published_batch(pk)
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404
    rows = queries.download_rows(queries.published_rows().filter(batch=notice))
    name = f"{notice.program.name}-{notice.period}-{notice.township.name}.{fmt}"
    return DOWNLOAD_FORMATS[fmt](queries.safe_filename(name), DOWNLOAD_HEADER, rows)


@public_page
@limited_download
def village_download(request, pk, fmt):
    place = get_object_or_404(Village.objects.select_related("township"), pk=pk)
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404
    rows = queries.download_rows(queries.published_rows().filter(village=place))
    name = f"{place.township.name}-{place.name}.{fmt}"
    return DOWNLOAD_FORMATS[fmt](queries.safe_filename(name), DOWNLOAD_HEADER, rows)


@require_GET
def bulk_downloads(request):
    """List the bulk files (size, rows, SHA-256) and the data dictionary."""
    manifest = bulk.read_manifest()
    files = manifest["files"] if manifest else []
    lang = "en" if (translation.get_language() or "").startswith("en") else "zh"
    context = {
        "manifest": manifest,
        "years": [f for f in files if f["scope"]["kind"] == "year"],
        "townships": [f for f in files if f["scope"]["kind"] == "township"],
        "dictionary": [
            {**column, "meaning": column[f"meaning_{lang}"], "masking": column[f"masking_{lang}"]}
            for column in bulk.dictionary()
        ],
    }
    return render(request, "publicity/bulk.html", context)


@require_GET
def bulk_file(request, name):
    """Stream one file the current manifest names; any other name is a 404."""
    manifest = bulk.read_manifest()
    entry = bulk.file_entry(manifest, name)
    if entry is None:
        raise Http404
    try:
        handle = bulk.file_path(manifest, name).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=name, content_type=bulk.CONTENT_TYPES[entry["format"]]
    )
    response["X-Checksum-SHA256"] = entry["sha256"]
    return response


@require_GET
def bulk_dictionary(request):
    """The data dictionary as JSON: each column's name, type, meaning and masking."""
    return JsonResponse({"columns": bulk.dictionary()}, json_dumps_params={"ensure_ascii": False})


@never_cache
@require_http_methods(["GET", "POST"])
def lookup_view(request):
    if request.method == "GET":
        return render(request, "publicity/lookup.html", {"form": LookupForm()})
    if lookup.client_over_limit(request, "lookup"):
        return render(request, "publicity/429.html", status=429)
    form = LookupForm(request.POST)
    if not form.is_valid():
        return render(request, "publicity/lookup.html", {"form": form})
    id_hash, name = form.cleaned_data["id_number"], form.cleaned_data["name"]
    if lookup.lookup_refused(id_hash=id_hash, name=name):
        return render(request, "publicity/429.html", status=429)
    result = lookup.find_entries(id_hash=id_hash, name=name, year=form.cleaned_data["year"])
    context = {"form": LookupForm(), "result": result, "searched": True}
    return render(request, "publicity/lookup.html", context)


@public_page
def verify(request):
    context = {
        "verifier": transparency.log_verifier(),
        "checkpoint": transparency.latest_checkpoint(),
    }
    return render(request, "publicity/verify.html", context)
