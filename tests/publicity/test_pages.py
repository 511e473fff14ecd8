"""Every public page renders published data and hides drafts and withdrawn batches."""

import pytest
from django.urls import reverse

from tests.publicity.sitedata import make_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return make_site()


def test_smoke(client, site):
    for url in [
        reverse("publicity:home"),
        reverse("publicity:township_index"),
        reverse("publicity:township", args=[site.village.township_id]),
        reverse("publicity:village", args=[site.village.pk]),
        reverse("publicity:program", args=[site.program.slug]),
        reverse("publicity:batch", args=[site.published.pk]),
        reverse("publicity:batch_print", args=[site.published.pk]),
        reverse("publicity:batch_kiosk", args=[site.published.pk]),
        reverse("publicity:village_kiosk", args=[site.village.pk]),
        reverse("publicity:household", args=[site.published.disbursements.first().household_id]),
        reverse("publicity:feed"),
        reverse("publicity:lookup"),
        reverse("publicity:search") + "?q=红",
    ]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.content[:3000])
