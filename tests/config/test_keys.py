"""Production settings refuse to start with weak, missing or demo keys (issue #15.1).

Each case imports the production settings in a fresh interpreter, as gunicorn, manage.py and the
task worker do, and expects ImproperlyConfigured naming the variable at fault.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.security import check_keys

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "DJANGO_SECRET_KEY": "k7Vq2Lr9xT4mWc8Zp1Hs6Jd3Nf5Bg0Ya-Ue7Ri2Oo9Ql4Kt1Ev6Xw3Cz8Mn5Pb",
    "SUNLIGHT_HASH_KEY": "Qm3Xr8Lw2Vt7Kp9Zc4Hn6Jb1Fs5Dg0Ay",
    "SUNLIGHT_LOG_SIGNING_KEY": (
        "PRIVATE+KEY+county.example+e40fa9ec+AS/lbjAlp/1cFX5XQi6AsMEdrfibHiB8thd5smaO3mox"
    ),
}


def run_production(args: list[str], **overrides: str | None) -> subprocess.CompletedProcess:
    """Run ARGS in a fresh interpreter with good production keys, OVERRIDES applied (None drops
    a variable) and no settings module named, so manage.py's default applies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SUNLIGHT_"))}
    env.update(GOOD)
    env["SUNLIGHT_VAR_DIR"] = "/tmp/sl-var-keys"
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/none"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _start_production(**overrides: str | None) -> subprocess.CompletedProcess:
    return run_production(["-c", "import config.settings.production"], **overrides)


def test_good_keys_start():
    result = _start_production()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SUNLIGHT_HASH_KEY": "x"}, "SUNLIGHT_HASH_KEY"),
        ({"SUNLIGHT_HASH_KEY": "a" * 31}, "SUNLIGHT_HASH_KEY"),
        ({"SUNLIGHT_LOG_SIGNING_KEY": None}, "SUNLIGHT_LOG_SIGNING_KEY"),
        ({"SUNLIGHT_LOG_SIGNING_KEY": ""}, "SUNLIGHT_LOG_SIGNING_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "x1y2z3w4v5" * 5}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "ab" * 30}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "demo-" + GOOD["DJANGO_SECRET_KEY"]}, "DJANGO_SECRET_KEY"),
        ({"SUNLIGHT_HASH_KEY": "demo-" + GOOD["SUNLIGHT_HASH_KEY"]}, "SUNLIGHT_HASH_KEY"),
        (
            {
                "SUNLIGHT_LOG_SIGNING_KEY": GOOD["SUNLIGHT_LOG_SIGNING_KEY"].replace(
                    "county.example", "demo-only.sunlight.invalid"
                )
            },
            "SUNLIGHT_LOG_SIGNING_KEY",
        ),
        ({"SUNLIGHT_HASH_KEY": "test-only-not-secret-hash-key-padded"}, "SUNLIGHT_HASH_KEY"),
    ],
)
def test_bad_keys_refuse_to_start(overrides, named):
    result = _start_production(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr
    # The message names the variable, never its value.
    for value in overrides.values():
        if value and len(value) > 8:
            assert value not in result.stderr


def test_check_keys_accepts_good_keys_and_names_every_fault():
    check_keys(
        GOOD["DJANGO_SECRET_KEY"],
        GOOD["SUNLIGHT_HASH_KEY"].encode(),
        GOOD["SUNLIGHT_LOG_SIGNING_KEY"],
    )
    with pytest.raises(ImproperlyConfigured) as caught:
        check_keys("short", b"x", "")
    message = str(caught.value)
    for name in ("DJANGO_SECRET_KEY", "SUNLIGHT_HASH_KEY", "SUNLIGHT_LOG_SIGNING_KEY"):
        assert name in message


def test_the_worker_refuses_too():
    """The task worker is manage.py db_worker: with no settings module named it is production."""
    result = run_production(["manage.py", "db_worker", "--help"], SUNLIGHT_HASH_KEY="short")
    assert result.returncode != 0
    assert "SUNLIGHT_HASH_KEY" in result.stderr
