"""The client address behind proxies: only trusted proxies' X-Forwarded-For is believed."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from privacy.clients import client_address, client_key

rf = RequestFactory()


def ask(peer, forwarded=None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return rf.get("/", **extra)


def test_no_trusted_proxy_means_the_peer_only(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = ""
    assert client_address(ask("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_a_trusted_proxy_by_address_gives_the_rightmost_untrusted(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8, 192.168.1.5"
    # The villager (198.51.100.7) sent a forged header; nginx appended the real address.
    request = ask("10.0.0.2", "6.6.6.6, 198.51.100.7, 192.168.1.5")
    assert client_address(request) == "198.51.100.7"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8"
    assert client_address(ask("203.0.113.9", "10.0.0.3, 1.2.3.4")) == "203.0.113.9"


def test_a_count_of_hops(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "2"
    assert client_address(ask("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1")) == "198.51.100.7"
    # Fewer entries than hops: not through the proxies, the peer is all we know.
    assert client_address(ask("10.0.0.2", "198.51.100.7")) == "10.0.0.2"


@pytest.mark.parametrize(
    "forwarded", ["not-an-ip", "1.2.3.4:80", "", " , ", "999.1.1.1", "1.2.3.4\x00"]
)
def test_malformed_values_are_ignored(settings, forwarded):
    settings.SUNLIGHT_TRUSTED_PROXIES = "1"
    assert client_address(ask("10.0.0.2", forwarded)) == "10.0.0.2"


def test_junk_left_of_the_client_does_not_matter(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8"
    assert client_address(ask("10.0.0.2", "junk, ::1:zz, 2001:db8::7")) == "2001:db8::7"


def test_every_hop_trusted_gives_the_leftmost(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8"
    assert client_address(ask("10.0.0.2", "10.0.0.9, 10.0.0.1")) == "10.0.0.9"


def test_a_bad_setting_refuses_with_a_clear_message(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = "10.0.0.0/8, nginx"
    with pytest.raises(ImproperlyConfigured, match="SUNLIGHT_TRUSTED_PROXIES"):
        client_address(ask("10.0.0.2", "1.2.3.4"))


def test_the_key_is_a_keyed_hash_not_the_address(settings):
    settings.SUNLIGHT_TRUSTED_PROXIES = ""
    key = client_key(ask("203.0.113.9"))
    assert "203.0.113.9" not in key and len(key) >= 32
    assert key == client_key(ask("203.0.113.9")) != client_key(ask("203.0.113.10"))


def test_the_settings_refuse_a_bad_value_at_start_up():
    import subprocess
    import sys

    env = {
        "SUNLIGHT_TRUSTED_PROXIES": "nginx",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0 and "SUNLIGHT_TRUSTED_PROXIES" in done.stderr
