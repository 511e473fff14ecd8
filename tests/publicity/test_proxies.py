"""The public forms and downloads limit each villager by the address the trusted proxy saw."""

import pytest
from django.urls import reverse

from tests.factories import id_number, person_name

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.2"


def look(client, n, forwarded, peer=PROXY):
    data = {"name": person_name(n), "id_number": id_number(n), "year": ""}
    return client.post("/lookup/", data, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_a_trusted_proxy_each_villager_has_a_lookup_budget(client, site, settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.SUNLIGHT_LOOKUP_PER_CLIENT = 2
    assert [look(client, n, "198.51.100.1").status_code for n in range(3)] == [200, 200, 429]
    assert look(client, 5, "198.51.100.2").status_code == 200


def test_a_forged_header_from_an_untrusted_peer_buys_no_lookups(client, site, settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.SUNLIGHT_LOOKUP_PER_CLIENT = 2
    codes = [look(client, n, f"198.51.100.{n}", peer="203.0.113.9").status_code for n in range(4)]
    assert codes == [200, 200, 429, 429]


def test_objections_behind_a_proxy_count_per_villager(client, site, settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "1"
    settings.SUNLIGHT_OBJECTIONS_PER_CLIENT = 1
    url = reverse("publicity:objection", args=[site.published.pk])
    payload = {"text": "名单中有人已经去世。", "contact": "", "village": ""}

    def post(forwarded):
        return client.post(url, payload, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)

    assert [post("198.51.100.1").status_code, post("198.51.100.1").status_code] == [302, 429]
    assert post("198.51.100.2").status_code == 302


def test_public_downloads_share_the_export_limit(client, site, settings):
    settings.SUNLIGHT_THROTTLE_EXPORT = "2/hour"
    batch_csv = reverse("publicity:batch_download", args=[site.published.pk, "csv"])
    village_xlsx = reverse("publicity:village_download", args=[site.village.pk, "xlsx"])
    codes = [
        client.get(batch_csv, REMOTE_ADDR="203.0.113.5").status_code,
        client.get(village_xlsx, REMOTE_ADDR="203.0.113.5").status_code,
        client.get(batch_csv, REMOTE_ADDR="203.0.113.5").status_code,
    ]
    assert codes == [200, 200, 429]
    assert client.get(batch_csv, REMOTE_ADDR="203.0.113.6").status_code == 200


def test_public_downloads_stream(client, site):
    response = client.get(reverse("publicity:batch_download", args=[site.published.pk, "csv"]))
    assert response.status_code == 200 and response.streaming
