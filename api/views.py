"""Read-only API views over published payments; red flags for auditors."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, renderers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from api import exportjobs, filters, parameters, reviews, selectors, serializers
from api.authentication import AuditorTokenAuthentication
from api.conditional import fingerprint, not_modified
from api.models import RedFlagReview
from api.pagination import (
    AuditCursorPagination,
    DisbursementCursorPagination,
    KeysetCursorPagination,
    NoCountPagination,
    ReferencePagination,
    SummaryPagination,
)
from api.permissions import CanReadAuditRecord, CanReviewRedFlags, IsAuditor, is_auditor
from api.redflags import CASE_PATTERN, RED_FLAGS
from api.schema import ApiAutoSchema
from api.serializers import (
    LogConsistencyQuerySerializer,
    LogConsistencySerializer,
    LogProofQuerySerializer,
    LogProofSerializer,
)
from api.throttling import ExportRateThrottle, RoleRateThrottle
from funds.models import AuditEntry, Disbursement, Program
from publicity import bulk, pagecache, transparency
from publicity.exports import csv_response, xlsx_response
from villages.models import Township, Village

# Any segment reaches the view, so a malformed id gets the API's JSON 404, not an HTML page.
ID_PATTERN = r"[^/]+"
ID_PARAMETER = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description=str(_("记录的 id（整数）。"))
)


class NotModified(exceptions.APIException):
    status_code = status.HTTP_304_NOT_MODIFIED


class CachedAnswer(Exception):
    """The answer to this anonymous request, stored by an earlier one (publicity.pagecache)."""

    def __init__(self, response):
        super().__init__()
        self.response = response


def counted(request) -> dict:
    """Which rows an answer counts: who asks, the batch statuses asked for, the moment asked
    about (as_of; api.selectors.visible_disbursements)."""
    return {
        "auditor": is_auditor(request),
        "asked": request.query_params.getlist("batch_status"),
        "as_of": filters.as_of_of(request),
    }


def as_of_headers(request, moment: datetime | None = None) -> dict[str, str]:
    """Say in headers the moment an answer reflects (MOMENT: as_of, the moment a tree size
    resolves to, or now) and, when asked by tree size, the size."""
    asked = filters.as_of_asked(request)
    moment = moment or asked.moment or timezone.now()
    headers = {"X-Sunlight-As-Of": moment.isoformat()}
    if asked.tree_size is not None:
        headers["X-Sunlight-As-Of-Tree-Size"] = str(asked.tree_size)
    return headers


class ApiMixin:
    """Authentication, throttling, schema and conditional GET shared by every endpoint."""

    authentication_classes = [AuditorTokenAuthentication, SessionAuthentication]
    throttle_classes = [RoleRateThrottle]
    schema = ApiAutoSchema()
    reference_model = None

    #: Query parameters the view reads besides its filters, ordering and pages (api.parameters).
    extra_parameters: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        parameters.check(self, request)
        self.etag = self.last_modified = self.answer_key = None
        if request.method in ("GET", "HEAD"):
            self.etag, self.last_modified = self.conditional_state(request)
            if self.etag is not None and not_modified(request, self.etag, self.last_modified):
                raise NotModified()
            if self.etag is not None and self.shares_answer(request):
                # The ETag already names the path, the caller's kind and the published state.
                self.answer_key = pagecache.digest(
                    "api", self.etag, request.accepted_media_type, *pagecache.shared_parts(request)
                )
                cached = pagecache.stored(self.answer_key)
                if cached is not None:
                    raise CachedAnswer(cached)

    def shares_answer(self, request) -> bool:
        """Say whether this answer may come from, and go to, the shared cache: an anonymous
        caller's JSON with an ETag (never an auditor's, a user's, the browsable page with its
        forms, or an answer that changes by itself, like an export job's state)."""
        return (
            pagecache.enabled()
            and pagecache.anonymous(request)
            and not is_auditor(request)
            and isinstance(request.accepted_renderer, renderers.JSONRenderer)
        )

    def conditional_state(self, request) -> tuple[str | None, Any]:
        """Return the answer's ETag and Last-Modified: by default, the data's state."""
        return fingerprint(request, self.reference_model)

    def handle_exception(self, exc):
        if isinstance(exc, CachedAnswer):
            return exc.response
        if isinstance(exc, NotModified):
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        if isinstance(exc, Http404):
            # Django's message ("No Program matches the given query.") is English whatever
            # the caller's language: the API answers its own, translated.
            exc = exceptions.NotFound()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "etag", None) and response.status_code in (200, 304):
            response["ETag"] = self.etag
            if self.last_modified:
                response["Last-Modified"] = http_date(self.last_modified.timestamp())
        patch_vary_headers(response, ("Authorization", "Cookie"))
        key = getattr(self, "answer_key", None)
        if key and isinstance(response, Response) and response.status_code == 200:
            response.add_post_render_callback(lambda rendered: pagecache.store(key, rendered))
        return response


class ReferenceViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    pagination_class = ReferencePagination
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = ID_PATTERN


@extend_schema_view(
    list=extend_schema(
        summary=_("补贴项目列表"), description=_("全部补贴项目及其标准、上限与年龄条件。")
    ),
    retrieve=extend_schema(
        summary=_("补贴项目"), description=_("一个补贴项目。"), parameters=[ID_PARAMETER]
    ),
)
class ProgramViewSet(ReferenceViewSet):
    queryset = Program.objects.order_by("id")
    serializer_class = serializers.ProgramSerializer
    reference_model = Program


@extend_schema_view(
    list=extend_schema(summary=_("乡镇列表"), description=_("全部乡镇。")),
    retrieve=extend_schema(
        summary=_("乡镇"), description=_("一个乡镇。"), parameters=[ID_PARAMETER]
    ),
)
class TownshipViewSet(ReferenceViewSet):
    queryset = Township.objects.order_by("id")
    serializer_class = serializers.TownshipSerializer
    reference_model = Township


@extend_schema_view(
    list=extend_schema(
        summary=_("村（社区）列表"), description=_("全部村（社区），可按乡镇筛选。")
    ),
    retrieve=extend_schema(
        summary=_("村（社区）"), description=_("一个村（社区）。"), parameters=[ID_PARAMETER]
    ),
)
class VillageViewSet(ReferenceViewSet):
    queryset = Village.objects.order_by("id")
    serializer_class = serializers.VillageSerializer
    filterset_class = filters.VillageFilter
    reference_model = Village


@extend_schema_view(
    list=extend_schema(
        summary=_("农户列表"),
        description=_("有已公开发放记录的农户（审计员可见全部），可按村筛选。"),
    ),
    retrieve=extend_schema(
        summary=_("农户"), description=_("一个农户。"), parameters=[ID_PARAMETER]
    ),
)
class HouseholdViewSet(ReferenceViewSet):
    serializer_class = serializers.HouseholdSerializer
    filterset_class = filters.HouseholdFilter

    def get_queryset(self):
        return selectors.visible_households(auditor=is_auditor(self.request))


@extend_schema_view(
    list=extend_schema(
        summary=_("人员列表（脱敏）"),
        description=_(
            "已公开花名册所列的人员，只含脱敏姓名与身份证号、与户主关系和所属农户；"
            "不含出生年份、年龄、性别（审计员同样）。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("人员（脱敏）"),
        description=_("一个人员，只含脱敏信息。"),
        parameters=[ID_PARAMETER],
    ),
)
class PersonViewSet(ReferenceViewSet):
    serializer_class = serializers.PersonSerializer
    filterset_class = filters.PersonFilter

    def get_queryset(self):
        return selectors.visible_persons(auditor=is_auditor(self.request))


@extend_schema_view(
    list=extend_schema(
        summary=_("发放批次列表"),
        description=_(
            "已公开（公示中、已定稿）的批次，含源文件 SHA-256、行数与合计；审计员可见全部。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("发放批次"), description=_("一个批次。"), parameters=[ID_PARAMETER]
    ),
)
class BatchViewSet(ReferenceViewSet):
    serializer_class = serializers.BatchSerializer
    filterset_class = filters.BatchFilter

    def get_queryset(self):
        return selectors.visible_batches(auditor=is_auditor(self.request))

    def paginate_queryset(self, queryset):
        return selectors.with_payment_amounts(batches=super().paginate_queryset(queryset))

    def get_object(self):
        return selectors.with_payment_amounts(batches=[super().get_object()])[0]

    @extend_schema(
        summary=_("批次来历"),
        description=_(
            "仅限审计员与工作人员：谁在何时上传、确认、发布、撤回、定稿、更正（及原因），导入时的"
            "提示与逐条核对，异议的处理情况，以及更正链（corrects 与 corrected_by）。"
        ),
        parameters=[ID_PARAMETER],
        responses=serializers.BatchProvenanceSerializer,
    )
    @action(detail=True, permission_classes=[IsAuditor], filter_backends=[])
    def provenance(self, request, pk=None):
        if not str(pk).isdigit() or int(pk) > filters.MAX_ID:
            raise exceptions.NotFound(gettext("没有这个批次。"))
        batch = get_object_or_404(selectors.visible_batches(auditor=True), pk=int(pk))
        data = selectors.batch_provenance(batch)
        return Response(serializers.BatchProvenanceSerializer(data).data)


@extend_schema_view(
    list=extend_schema(
        summary=_("发放记录列表"),
        description=_("已公开批次的发放记录（脱敏），可筛选、排序，游标分页（不计总数）。"),
    ),
    retrieve=extend_schema(
        summary=_("发放记录"), description=_("一条发放记录（脱敏）。"), parameters=[ID_PARAMETER]
    ),
)
class DisbursementViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.DisbursementSerializer
    filterset_class = filters.DisbursementFilter
    filter_backends = [DjangoFilterBackend, filters.DisbursementOrdering]
    pagination_class = DisbursementCursorPagination
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return selectors.disbursement_values(
            fields=serializers.DISBURSEMENT_VALUES, **counted(self.request)
        )

    def paginate_queryset(self, queryset):
        rows = selectors.with_persons(rows=super().paginate_queryset(queryset))
        return selectors.with_payment_results(rows=rows)

    def get_object(self):
        rows = selectors.with_persons(rows=[super().get_object()])
        return selectors.with_payment_results(rows=rows)[0]

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        for name, value in as_of_headers(request).items():  # the moment the page reflects
            response[name] = value
        return response


class DownloadNegotiation(BaseContentNegotiation):
    """Ignore Accept and ?format=: a download has one format, and errors are JSON."""

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DisbursementExportView(exportjobs.ExportFiltering, ApiMixin, generics.GenericAPIView):
    """Stream the filtered rows as CSV or XLSX, formula-safe; above
    ``SUNLIGHT_EXPORT_SYNC_MAX_ROWS`` rows, start an export job and answer 202 with its URL."""

    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = DownloadNegotiation
    throttle_classes = [RoleRateThrottle, ExportRateThrottle]
    export_format = "csv"
    throttle_scope = "export"

    def get_queryset(self):
        return selectors.visible_disbursements(**counted(self.request))

    def get(self, request):
        rows = self.filter_queryset(self.get_queryset())
        query = selectors.export_query(dict(request.GET.lists()))
        asked_as_of = filters.as_of_of(request)
        count = rows.count()
        if count > settings.SUNLIGHT_EXPORT_SYNC_MAX_ROWS:
            return self.start_job(request, query=query, as_of=asked_as_of, rows=count)
        header = selectors.export_header()
        as_of = asked_as_of or timezone.now()  # the moment the rows reflect
        stamp = {**export_stamp(as_of.isoformat(), query), **as_of_headers(request, as_of)}
        if self.export_format == "xlsx":
            cap = getattr(settings, "SUNLIGHT_API_XLSX_MAX_ROWS", 1_000_000)
            return xlsx_response(
                "disbursements.xlsx", header, selectors.export_rows(rows=rows, limit=cap),
                title="disbursements", number_formats=selectors.EXPORT_NUMBER_FORMATS,
                notes=selectors.export_notes(as_of=as_of, query=query), headers=stamp,
            )  # fmt: skip
        cells = selectors.export_rows(rows=rows)
        return csv_response("disbursements.csv", header, cells, headers=stamp)

    def start_job(self, request, *, query, as_of, rows: int) -> Response:
        job_id = exportjobs.start(
            fmt=self.export_format, query=query, as_of=as_of, auditor=is_auditor(request),
            rows=rows,
        )  # fmt: skip
        url = reverse("api:export-job", kwargs={"pk": job_id}, request=request)
        body = {"id": job_id, "status": "queued", "rows": rows, "url": url}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


def export_stamp(as_of: str, query) -> dict[str, str]:
    """The headers that say what an export holds: the moment and the filters (ASCII: the query
    percent-encoded), so the CSV stays a plain table; the XLSX also lists them on a sheet."""
    return {"X-Sunlight-As-Of": as_of, "X-Sunlight-Filters": urlencode(list(map(tuple, query)))}


_EXPORT_DOC = {
    "description": _(
        "按与发放记录列表相同的筛选条件导出，流式输出，单元格已防公式注入。符合条件的行数超过"
        "服务器设定（SUNLIGHT_EXPORT_SYNC_MAX_ROWS，默认 50000）时不在请求中生成，而是返回 202 和"
        "导出任务的地址（Location），由后台任务按请求时刻的数据生成文件。"
    ),
    "filters": True,
}


@extend_schema(
    summary=_("导出发放记录（CSV）"),
    responses={
        (200, "text/csv"): OpenApiTypes.BINARY,
        (202, "application/json"): serializers.ExportJobStartSerializer,
    },
    **_EXPORT_DOC,
)
class DisbursementCsvExportView(DisbursementExportView):
    export_format = "csv"


@extend_schema(
    summary=_("导出发放记录（XLSX）"),
    responses={
        (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
        (202, "application/json"): serializers.ExportJobStartSerializer,
    },
    **_EXPORT_DOC,
)
class DisbursementXlsxExportView(DisbursementExportView):
    export_format = "xlsx"


@extend_schema(
    summary=_("汇总"),
    description=_(
        "按村、乡镇、项目、期间或农户汇总金额与条数，可与发放记录的筛选条件组合；"
        "合计为各行之和，精确到分。"
    ),
    parameters=[
        OpenApiParameter(
            "by",
            str,
            enum=list(selectors.SUMMARY_GROUPS),
            default="village",
            description=str(_("分组方式：village、township、program、period、household。")),
        )
    ],
    filters=True,
)
class SummaryView(ApiMixin, generics.ListAPIView):
    extra_parameters = ("by",)
    serializer_class = serializers.SummaryRowSerializer
    filterset_class = filters.DisbursementFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = SummaryPagination

    def get_queryset(self):
        return selectors.visible_disbursements(**counted(self.request))

    def list(self, request, *args, **kwargs):
        by = request.query_params.get("by", "village")
        if by not in selectors.SUMMARY_GROUPS:
            raise exceptions.ValidationError({"by": [gettext("分组方式无效。")]})
        filterset = DjangoFilterBackend().get_filterset(request, self.get_queryset(), self)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        scope = counted(request)
        groups = selectors.summary_groups(
            rows=filterset.qs,
            by=by,
            # The moment asked about, whether by time or by tree size.
            filters={
                **filterset.form.cleaned_data,
                "as_of": scope["as_of"],
                "as_of_tree_size": None,
            },
            auditor=scope["auditor"],
        )
        rows = selectors.named_groups(
            by=by, groups=self.paginate_queryset(groups), rows=filterset.qs
        )
        response = self.get_paginated_response(self.get_serializer(rows, many=True).data)
        # Every aggregate says what it counts, and the moment it reflects.
        if scope["as_of"]:  # public then, narrowed by status now if asked
            response.data["batch_status"] = sorted(set(scope["asked"]))
        else:
            response.data["batch_status"] = selectors.counted_statuses(
                auditor=scope["auditor"], asked=scope["asked"]
            )
        response.data["as_of"] = (scope["as_of"] or timezone.now()).isoformat()
        response.data["as_of_tree_size"] = filters.as_of_asked(request).tree_size
        return response


class RedFlagIndexView(ApiMixin, generics.GenericAPIView):
    permission_classes = [IsAuditor]
    serializer_class = serializers.RedFlagCountSerializer
    filterset_class = filters.RedFlagScopeFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = None

    def get_queryset(self):
        return selectors.red_flag_scope(auditor=is_auditor(self.request))

    @extend_schema(
        operation_id="v1_redflags_index",
        summary=_("红旗索引"),
        description=_("仅限审计员与工作人员：各类红旗涉及的发放记录条数及明细链接。"),
        responses=serializers.RedFlagIndexSerializer,
        filters=True,
    )
    def get(self, request):
        counts = selectors.red_flag_counts(rows=self.filter_queryset(self.get_queryset()))
        data = [
            {
                **count,
                "url": reverse("api:redflag", kwargs={"kind": count["kind"]}, request=request),
            }
            for count in counts
        ]
        return Response({"results": self.get_serializer(data, many=True).data})


@extend_schema_view(
    get=extend_schema(
        operation_id="v1_redflags_kind_list",
        summary=_("红旗明细"),
        description=_(
            "仅限审计员与工作人员。kind：person_in_two_households 同一人在两户或两村；"
            "paid_twice 同一人同一项目同一期间重复发放（不含已冲销、发放失败）；"
            "shared_account 同一账号多户使用；amount_mismatch 金额≠数量×标准；"
            "above_rate_or_cap 超过花名册自身所列标准（数量×标准）或项目上限；"
            "age_rule 年龄不符合项目条件。同一问题的行 group 相同并排在一起（含义随类型而定），"
            "rule、expected、gap 说明触发的规则、允许值与差额；case 为稳定的案件编号，"
            "reviewed、last_review_at、last_review_by 说明案件的复核情况。"
        ),
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                OpenApiParameter.PATH,
                enum=list(RED_FLAGS),
                description=str(_("红旗类型。")),
            )
        ],
        filters=True,
    )
)
class RedFlagListView(ApiMixin, generics.ListAPIView):
    permission_classes = [IsAuditor]
    serializer_class = serializers.RedFlagRowSerializer
    filterset_class = filters.RedFlagFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = NoCountPagination
    reference_model = RedFlagReview  # a review changes the rows' reviewed state

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Disbursement.objects.none()
        if self.kwargs["kind"] not in RED_FLAGS:
            raise exceptions.NotFound(gettext("没有这种红旗。"))
        return selectors.red_flag_scope(auditor=is_auditor(self.request))

    def filter_queryset(self, queryset):
        # The flag comes after the caller's filters: it judges the filtered rows among
        # themselves (a person in two households of the rows asked about).
        rows = super().filter_queryset(queryset)
        reviewed = self.request.query_params.get("reviewed")  # valid: the filter set checked it
        return selectors.red_flag_rows(
            kind=self.kwargs["kind"],
            rows=rows,
            reviewed=None if reviewed in (None, "") else reviewed == "true",
        )


KIND_PARAMETER = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=list(RED_FLAGS), description=str(_("红旗类型。"))
)
CASE_PARAMETER = OpenApiParameter(
    "case",
    str,
    OpenApiParameter.PATH,
    pattern=f"^{CASE_PATTERN}$",
    description=str(_("案件编号（红旗明细每行的 case）。")),
)


@extend_schema_view(
    get=extend_schema(
        operation_id="v1_redflags_case_reviews_list",
        summary=_("红旗案件的复核"),
        description=_(
            "仅限审计员与工作人员：一个红旗案件的全部复核，最新的在前（最新的一条为准，旧的保留）。"
            "类型或案件不存在（案件从未被标出，也没有复核）时 404。"
        ),
        parameters=[KIND_PARAMETER, CASE_PARAMETER],
    ),
    post=extend_schema(
        operation_id="v1_redflags_case_reviews_create",
        summary=_("复核红旗案件"),
        description=_(
            "仅限审计员（令牌或 auditors 组的账号；工作人员不能复核）：把一个现有的红旗案件标为"
            "已复核并写明说明。说明必填，最多 1000 字，保存前隐去号码、已知姓名脱敏；复核只增"
            "不改，新的一条取代旧的，并记入操作记录。匿名 401，非审计员 403，"
            "类型或案件不存在 404。"
        ),
        parameters=[KIND_PARAMETER, CASE_PARAMETER],
        request=serializers.RedFlagReviewNoteSerializer,
        responses={201: serializers.RedFlagReviewSerializer},
    ),
)
class RedFlagReviewView(ApiMixin, generics.ListCreateAPIView):
    serializer_class = serializers.RedFlagReviewSerializer
    filter_backends = []
    pagination_class = NoCountPagination
    reference_model = RedFlagReview

    def get_permissions(self):
        return [CanReviewRedFlags()] if self.request.method == "POST" else [IsAuditor()]

    def _case(self) -> tuple[str, str]:
        kind, case = self.kwargs["kind"], self.kwargs["case"]
        if kind not in RED_FLAGS:
            raise exceptions.NotFound(_("没有这种红旗。"))
        if not re.fullmatch(CASE_PATTERN, case):
            raise exceptions.NotFound(_("没有这个红旗案件。"))
        return kind, case

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RedFlagReview.objects.none()
        kind, case = self._case()
        return selectors.case_reviews(kind=kind, case=case)

    def list(self, request, *args, **kwargs):
        kind, case = self._case()
        page = self.paginate_queryset(self.get_queryset())
        if not page and not selectors.red_flag_case_stands(kind=kind, case=case):
            raise exceptions.NotFound(_("没有这个红旗案件。"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        kind, case = self._case()
        body = serializers.RedFlagReviewNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not selectors.red_flag_case_stands(kind=kind, case=case):
            raise exceptions.NotFound(_("没有这个红旗案件。"))
        review = reviews.review_case(
            kind=kind, case=case, note=body.validated_data["note"], user=request.user
        )
        data = serializers.RedFlagReviewSerializer(review).data
        return Response(data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary=_("操作记录"),
        description=_(
            "仅限审计员（令牌）与有“查看操作记录”权限的账号：工作人员的每一次操作"
            "（上传、确认、发布、撤回、定稿、更正、答复异议、列对应模板、令牌），"
            "只增不改；可按乡镇、批次、操作人、操作类型和时间筛选，最新的在前，游标分页。"
        ),
    ),
    retrieve=extend_schema(
        summary=_("一条操作记录"), description=_("一条操作记录。"), parameters=[ID_PARAMETER]
    ),
)
class AuditEntryViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [CanReadAuditRecord]
    serializer_class = serializers.AuditEntrySerializer
    filterset_class = filters.AuditEntryFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = AuditCursorPagination
    lookup_value_regex = ID_PATTERN
    reference_model = AuditEntry

    def get_queryset(self):
        return selectors.audit_entries()


@extend_schema(
    summary=_("变化"),
    description=_(
        "公开内容的每一次变化：发布、发布更正、撤回、定稿，取自只增不改的操作记录；谁（匿名用户"
        "只见角色与单位，审计员还见用户名）、何时、哪个批次（及其现在的状态）、更正了哪个批次、"
        "撤回的原因。可按变化类型、乡镇、项目、批次和时间筛选；默认最新的在前，游标分页。"
    ),
)
class ChangeFeedView(ApiMixin, generics.ListAPIView):
    serializer_class = serializers.ChangeSerializer
    filterset_class = filters.ChangeFilter
    filter_backends = [DjangoFilterBackend, filters.ChangeOrdering]
    pagination_class = KeysetCursorPagination
    ordering = ["-at"]

    def get_queryset(self):
        return selectors.change_feed()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "auditor": is_auditor(self.request)}


# The transparency log: public, like the published rows it proves.

PLAIN_TEXT = "text/plain; charset=utf-8"


class LogView(ApiMixin, APIView):
    """Answers of the transparency log: JSON errors, whatever the caller accepts."""

    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = DownloadNegotiation

    def query(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def prove(self, make_proof, **kwargs):
        try:
            return Response(make_proof(**kwargs))
        except transparency.LogError as error:
            raise exceptions.ValidationError({"detail": [str(error)]}) from error
        except LookupError as error:
            raise exceptions.NotFound(str(error)) from error


@extend_schema(
    summary=_("透明日志：最新签名检查点"),
    description=_(
        "C2SP 签名检查点（text/plain）：来源、树大小、base64 根哈希，空行后为 Ed25519 签名行；"
        "用 /api/v1/log/key 的公钥验证。日志为空时 404。"
    ),
    responses={(200, "text/plain"): OpenApiTypes.STR},
)
class LogCheckpointView(LogView):
    def get(self, request):
        checkpoint = transparency.latest_checkpoint()
        if checkpoint is None:
            raise exceptions.NotFound(gettext("透明日志还是空的。"))
        return HttpResponse(checkpoint.note, content_type=PLAIN_TEXT)


@extend_schema(
    summary=_("透明日志：验证公钥"),
    description=_("验证检查点签名的 Ed25519 公钥（C2SP signed-note 公钥格式，text/plain）。"),
    responses={(200, "text/plain"): OpenApiTypes.STR},
)
class LogKeyView(LogView):
    def get(self, request):
        verifier = transparency.log_verifier()
        if verifier is None:
            raise exceptions.NotFound(gettext("本站未配置透明日志签名密钥。"))
        return HttpResponse(verifier.key() + "\n", content_type=PLAIN_TEXT)


@extend_schema(
    summary=_("透明日志：发放记录的包含证明"),
    description=_(
        "证明一条已公开的发放记录是日志中的叶子：返回被哈希的叶子原文、序号、"
        "已签名检查点的树大小与根、审计路径。未公开或不在日志中的记录 404。"
    ),
    parameters=[ID_PARAMETER, LogProofQuerySerializer],
    responses=LogProofSerializer,
)
class LogProofView(LogView):
    extra_parameters = ("tree_size",)

    def get(self, request, pk):
        if not str(pk).isdigit():
            raise exceptions.NotFound(gettext("这条记录不在透明日志中"))
        size = self.query(LogProofQuerySerializer).get("tree_size")
        return self.prove(transparency.inclusion, row_id=int(pk), tree_size=size)


@extend_schema(
    summary=_("透明日志：一致性证明"),
    description=_(
        "证明树大小为 first 的已签名检查点是 second 的前缀（历史从未被改写）。"
        "两个大小都须是已签名检查点的树大小，否则 400。"
    ),
    parameters=[LogConsistencyQuerySerializer],
    responses=LogConsistencySerializer,
)
class LogConsistencyView(LogView):
    extra_parameters = ("first", "second")

    def get(self, request):
        sizes = self.query(LogConsistencyQuerySerializer)
        return self.prove(transparency.consistency, **sizes)


@extend_schema(
    summary=_("批量下载清单"),
    description=_(
        "全部公开数据按年度、按乡镇的 CSV 与 Parquet 文件：文件名、范围、格式、行数、字节数、"
        "SHA-256、生成时间、下载地址，文件反映的公开状态（透明日志树大小、最近一次发布），以及"
        "数据字典（各列的类型、中英文含义与脱敏说明）。每次发布、定稿、撤回后由后台任务重新生成；"
        "尚未生成时 files 为空。"
    ),
    responses=serializers.BulkManifestSerializer,
)
class BulkManifestView(ApiMixin, APIView):
    def conditional_state(self, request) -> tuple[str | None, Any]:
        # The files change when a build ends, not when the rows do: the generation is the tag.
        manifest = bulk.read_manifest()
        if manifest is None:
            return None, None
        return f'"{manifest["generation"]}"', datetime.fromisoformat(manifest["generated_at"])

    def get(self, request):
        manifest = bulk.read_manifest() or {
            "generation": None, "generated_at": None, "state": None, "files": [],
        }  # fmt: skip
        files = [
            {
                **entry,
                "url": request.build_absolute_uri(
                    reverse("publicity:bulk_file", kwargs={"name": entry["name"]})
                ),
            }
            for entry in manifest["files"]
        ]
        data = {**manifest, "files": files, "dictionary": bulk.dictionary()}
        return Response(serializers.BulkManifestSerializer(data).data)


JOB_ID_PARAMETER = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description=str(_("导出任务的 id（UUID）。"))
)


class ExportJobMixin(ApiMixin):
    renderer_classes = [renderers.JSONRenderer]
    content_negotiation_class = DownloadNegotiation
    throttle_scope = "export"

    def conditional_state(self, request) -> tuple[str | None, Any]:
        return None, None  # a job's answer changes as it runs: never a 304

    def job(self, request, pk) -> dict[str, Any]:
        job = exportjobs.read(str(pk), auditor=is_auditor(request))
        if job is None:
            raise exceptions.NotFound(gettext("没有这个导出任务，或已超过保留期限被删除。"))
        return job


@extend_schema(
    summary=_("导出任务状态"),
    description=_(
        "大批量导出任务的状态：queued 排队中、running 生成中、done 已完成、failed 失败；"
        "progress 为百分比；完成后 download 为下载地址。任务在保留期限"
        "（SUNLIGHT_EXPORT_RETENTION_HOURS，默认 24 小时）后删除，之后 404。"
    ),
    parameters=[JOB_ID_PARAMETER],
    responses=serializers.ExportJobSerializer,
)
class ExportJobView(ExportJobMixin, APIView):
    def get(self, request, pk):
        job = self.job(request, pk)
        download = (
            reverse("api:export-job-download", kwargs={"pk": job["id"]}, request=request)
            if job["path"]
            else None
        )
        return Response(serializers.ExportJobSerializer({**job, "download": download}).data)


@extend_schema(
    summary=_("下载导出任务的文件"),
    description=_("已完成的导出任务生成的 CSV 或 XLSX 文件；未完成或不存在的任务 404。"),
    parameters=[JOB_ID_PARAMETER],
    responses={
        (200, "text/csv"): OpenApiTypes.BINARY,
        (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
    },
)
class ExportJobDownloadView(ExportJobMixin, APIView):
    def get(self, request, pk):
        job = self.job(request, pk)
        if job["path"] is None:
            raise exceptions.NotFound(gettext("导出任务还没有完成。"))
        response = FileResponse(
            job["path"].open("rb"), as_attachment=True, filename=exportjobs.file_name(job),
            content_type=exportjobs.FORMATS[job["format"]],
        )  # fmt: skip
        for name, value in export_stamp(job["as_of"], job["query"]).items():
            response[name] = value
        return response


# The endpoints /api/v1/ lists: (name, path under /api/v1/, description).
API_INDEX = [
    ("programs", "programs/", _("补贴项目")),
    ("townships", "townships/", _("乡镇")),
    ("villages", "villages/", _("村（社区）")),
    ("households", "households/", _("农户（户主姓名脱敏）")),
    ("persons", "persons/", _("享受人（脱敏）")),
    ("batches", "batches/", _("发放批次")),
    ("disbursements", "disbursements/", _("发放记录：筛选、排序、游标分页")),
    ("summary", "summary/", _("按乡镇、村、项目、期间等汇总")),
    ("export-csv", "disbursements/export.csv", _("按筛选条件导出 CSV")),
    ("export-xlsx", "disbursements/export.xlsx", _("按筛选条件导出 Excel")),
    ("bulk", "bulk/", _("批量下载：全部公开数据按年度、按乡镇（CSV、Parquet）")),
    ("redflags", "redflags/", _("红旗（审计员）")),
    ("audit", "audit/", _("操作记录（审计员）")),
    ("changes", "changes/", _("变化：发布、更正、撤回、定稿，谁、何时")),
    ("log-checkpoint", "log/checkpoint", _("透明日志：最新签名检查点")),
    ("log-key", "log/key", _("透明日志：验证公钥")),
    ("log-consistency", "log/consistency", _("透明日志：一致性证明")),
]


@extend_schema(
    summary=_("接口索引"),
    description=_("列出 /api/v1/ 下的各个接口及其说明，以及接口文档和 OpenAPI 描述的地址。"),
    responses=serializers.ApiIndexSerializer,
)
class ApiIndexView(ApiMixin, APIView):
    def get(self, request):
        root = request.build_absolute_uri(reverse("api:index"))
        endpoints = [
            {"name": name, "url": root + path, "description": str(description)}
            for name, path, description in API_INDEX
        ]
        docs = request.build_absolute_uri(reverse("api:docs"))
        schema = request.build_absolute_uri(reverse("api:schema"))
        return Response({"endpoints": endpoints, "docs": docs, "schema": schema})


@extend_schema(exclude=True)
class ApiNotFoundView(ApiMixin, APIView):
    """Any path under /api/ that names no endpoint: a JSON 404, not the site's HTML page."""

    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()
