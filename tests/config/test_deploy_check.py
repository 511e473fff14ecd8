"""`manage.py check --deploy --fail-level WARNING` passes with production settings (issue #15.1).

scripts/test runs the same check before the suite; here the intranet switches are tried too:
turning HTTPS off is the operator's explicit choice and the check says so.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.config.test_keys import run_production


def _deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    return run_production(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **overrides
    )


def test_production_defaults_pass_the_deploy_check_with_nothing_silenced():
    result = _deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize(
    ("switch", "warning"),
    [
        ({"DJANGO_SSL_REDIRECT": "0"}, "security.W008"),
        ({"DJANGO_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_HSTS_INCLUDE_SUBDOMAINS": "0"}, "security.W005"),
        ({"DJANGO_HSTS_PRELOAD": "0"}, "security.W021"),
        ({"DJANGO_SECURE_COOKIES": "0"}, "security.W012"),
    ],
)
def test_each_intranet_switch_turns_its_protection_off_and_the_check_says_so(switch, warning):
    result = _deploy_check(**switch)
    assert result.returncode != 0
    assert warning in result.stderr + result.stdout
