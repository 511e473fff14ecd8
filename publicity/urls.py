from django.urls import path

from publicity import feeds, views
from publicity.pagecache import public_page

app_name = "publicity"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("townships/", views.township_index, name="township_index"),
    path("townships/<int:pk>/", views.township, name="township"),
    path("villages/<int:pk>/", views.village, name="village"),
    path("villages/<int:pk>/kiosk/", views.village_kiosk, name="village_kiosk"),
    path("villages/<int:pk>/download.<str:fmt>", views.village_download, name="village_download"),
    path("households/<int:pk>/", views.household, name="household"),
    path("programs/<slug:slug>/", views.program, name="program"),
    path("programs/<slug:slug>/template.xlsx", views.program_template, name="program_template"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("batches/<int:pk>/objections/", views.objection, name="objection"),
    path("batches/<int:pk>/print/", views.batch_print, name="batch_print"),
    path("batches/<int:pk>/kiosk/", views.batch_kiosk, name="batch_kiosk"),
    path("batches/<int:pk>/download.<str:fmt>", views.batch_download, name="batch_download"),
    path(
        "batches/<int:pk>/villages/<int:village_pk>/print/",
        views.village_notice,
        name="village_notice",
    ),
    path(
        "batches/<int:pk>/villages/<int:village_pk>/download.<str:fmt>",
        views.village_notice_download,
        name="village_notice_download",
    ),
    path("feeds/batches.atom", public_page(feeds.PublishedBatchesFeed()), name="feed"),
    path("downloads/bulk/", views.bulk_downloads, name="bulk"),
    path("downloads/bulk/dictionary.json", views.bulk_dictionary, name="bulk_dictionary"),
    path("downloads/bulk/<str:name>", views.bulk_file, name="bulk_file"),
    path("lookup/", views.lookup_view, name="lookup"),
    path("verify/", views.verify, name="verify"),
]
