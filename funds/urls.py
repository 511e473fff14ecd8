"""Staff pages of the import flow, mounted at /staff/imports/."""

from django.urls import path

from funds import views

app_name = "funds"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("new/", views.upload, name="upload"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:pk>/status.json", views.job_status, name="job_status"),
    path("jobs/<uuid:pk>/confirm/", views.job_confirm, name="job_confirm"),
    path("jobs/<uuid:pk>/mapping/", views.job_mapping, name="job_mapping"),
    path("jobs/<uuid:pk>/abandon/", views.job_abandon, name="job_abandon"),
    path("jobs/<uuid:pk>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<uuid:pk>/errors.xlsx", views.job_error_report, name="job_error_report"),
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/action/", views.batch_action, name="batch_action"),
    path("batches/<int:pk>/confirm/<str:action>/", views.batch_confirm, name="batch_confirm"),
    path("batches/<int:pk>/correct/", views.batch_correct, name="batch_correct"),
    path("batches/<int:pk>/returns/", views.batch_returns, name="batch_returns"),
    path(
        "batches/<int:pk>/returns/confirm/",
        views.batch_returns_confirm,
        name="batch_returns_confirm",
    ),
    path(
        "batches/<int:pk>/correct/preview/",
        views.batch_correct_preview,
        name="batch_correct_preview",
    ),
    path(
        "batches/<int:pk>/correct/confirm/",
        views.batch_correct_confirm,
        name="batch_correct_confirm",
    ),
]
