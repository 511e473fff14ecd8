"""The deployment-bound functions and their bulk shortcuts agree; stored hashes stay stable."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from demo.rostergen import make_id_number
from privacy import normalize, personal
from privacy.hashing import keyed_hmac
from tests.factories import person_name


@pytest.mark.parametrize("policy", ["keep_surname_and_last", "keep_surname", "keep_last"])
def test_the_fast_masks_and_hashes_equal_the_reference_functions(settings, policy):
    """Staging's shortcuts give exactly what privacy.personal gives, name policy or not."""
    settings.SUNLIGHT_MASKING = {**settings.SUNLIGHT_MASKING, "name": policy}
    personal.masking_policy.cache_clear()
    try:
        fast = personal.Shortcuts()
        names = [
            "欧阳娜娜",
            "司马光",
            "张三",
            "王小明",
            "买买提·艾力",
            "Li Lei",
            "诸葛孔明明",
            "李",
        ]
        names += ["张\u3000三", " 王五", "买买提.艾力", "李\u200b四", "\uf900一", "ｗａｎｇ", "赵"]
        names += [person_name(n) for n in range(300)]
        for name in names:
            assert fast.normalize_name(name) == normalize.normalize_name(name), name
            assert fast.mask_name(name) == personal.mask_name(name), name
            assert fast.hash_name(name) == personal.hash_name(name), name
        for n in range(500):
            number = make_id_number(n * 7919)
            assert fast.hash_id(number) == personal.hash_id_number(number)
            assert fast.mask_id(number) == personal.mask_id_number(number)
        for account in ["6217000012345678901", "12345", "622848001234567", "62 1700-00123"]:
            assert fast.mask_account(account) == personal.mask_account(account)
            assert fast.hash_account(account) == personal.hash_account(account)
    finally:
        personal.masking_policy.cache_clear()


@pytest.mark.parametrize("key", [b"k", b"test-only-not-secret-hash-key", b"x" * 64, b"y" * 200])
def test_the_precomputed_keyed_hash_is_hmac_sha256(key):
    """Staging's HMAC with hashed-once pads equals hmac's, short, block-sized and long keys."""
    digest = keyed_hmac(key)
    messages = [b"", b"v1\x1fid:11010119900307777X", "v1\x1fname:欧阳娜娜".encode(), b"a" * 300]
    for message in messages:
        assert digest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()


def test_keyed_hashes_keep_their_published_values(settings):
    """Hashes already stored stay matchable: pinned outputs under a fixed key, version 1."""
    settings.SUNLIGHT_HASH_KEY, settings.SUNLIGHT_HASH_KEY_VERSION = b"pinned-key", 1
    fast = personal.Shortcuts()
    assert fast.hash_id("341122193502254331") == (
        "v1:62efa1dec4ea9adc24fcc08f7ca6493093fdf630f9be72a4b3d328a0853e29a3"
    )
    assert fast.hash_name("欧阳娜娜") == (
        "v1:59927aa91f0e87dd795ea7420b21dd36d4b863938dc50ef856dd37cc43bb8b0a"
    )
    assert fast.hash_account("6217000012345678901") == (
        "v1:64bb7ffc78e8034b448cf80b75a8a038bac6d4eac69f8adb248308ce274b5404"
    )


def test_known_names_are_masked_wherever_they_stand_and_others_are_left():
    text = "由欧阳娜娜代领，张三不在，王五在"
    masked = personal.mask_known_names(text, {"欧阳娜娜", "张三"})
    assert masked == "由欧阳*娜代领，张*不在，王五在"
    assert personal.mask_known_names("已核实", {"张三"}) == "已核实"
