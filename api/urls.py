from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from api import views

app_name = "api"

router = SimpleRouter()
router.register("programs", views.ProgramViewSet, basename="program")
router.register("townships", views.TownshipViewSet, basename="township")
router.register("villages", views.VillageViewSet, basename="village")
router.register("households", views.HouseholdViewSet, basename="household")
router.register("persons", views.PersonViewSet, basename="person")
router.register("batches", views.BatchViewSet, basename="batch")
router.register("disbursements", views.DisbursementViewSet, basename="disbursement")
router.register("audit", views.AuditEntryViewSet, basename="audit")

v1 = [
    path("", views.ApiIndexView.as_view(), name="index"),
    path("summary/", views.SummaryView.as_view(), name="summary"),
    path(
        "disbursements/export.csv",
        views.DisbursementCsvExportView.as_view(),
        name="disbursement-export-csv",
    ),
    path(
        "disbursements/export.xlsx",
        views.DisbursementXlsxExportView.as_view(),
        name="disbursement-export-xlsx",
    ),
    path("bulk/", views.BulkManifestView.as_view(), name="bulk"),
    path("exports/<str:pk>/", views.ExportJobView.as_view(), name="export-job"),
    path(
        "exports/<str:pk>/download",
        views.ExportJobDownloadView.as_view(),
        name="export-job-download",
    ),
    path("redflags/", views.RedFlagIndexView.as_view(), name="redflags"),
    path("log/checkpoint", views.LogCheckpointView.as_view(), name="log-checkpoint"),
    path("log/key", views.LogKeyView.as_view(), name="log-key"),
    path("log/consistency", views.LogConsistencyView.as_view(), name="log-consistency"),
    path("disbursements/<str:pk>/proof/", views.LogProofView.as_view(), name="log-proof"),
    path("redflags/<str:kind>/", views.RedFlagListView.as_view(), name="redflag"),
    *router.urls,
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("v1/", include(v1)),
    # Last: whatever names no endpoint is a JSON 404. Only paths ending in "/", so that a
    # path missing its slash is still redirected to the endpoint it names (APPEND_SLASH).
    re_path(r"^.*/$", views.ApiNotFoundView.as_view(), name="not-found"),
]
