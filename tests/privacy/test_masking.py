"""Names, ID numbers, accounts and phones are masked, and free text is scrubbed of them."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy.idnumbers import PROVINCE_CODES
from privacy.masking import (
    COMPOUND_SURNAMES,
    DEFAULT_POLICY,
    MaskingPolicy,
    contains_personal_number,
    mask_account,
    mask_id_number,
    mask_name,
    mask_phone,
    scrub_text,
)
from tests.privacy.oracle import check_char

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
SURNAME = MaskingPolicy(name="keep_surname")
LAST = MaskingPolicy(name="keep_last")


# --- Names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("张小小三", "张**三"),
        ("欧阳娜娜", "欧阳*娜"),
        ("欧阳娜", "欧阳*"),
        ("司马光", "司马*"),
        ("司马相如", "司马*如"),
        ("诸葛亮", "诸葛*"),
        ("上官婉儿", "上官*儿"),
        ("慕容复", "慕容*"),
        ("歐陽修", "歐陽*"),
        ("欧阳", "欧*"),  # two characters: a surname and a given name, not a compound surname
        ("　张 三 ", "张*"),
        ("\t李\u00a0四\n", "李*"),
        ("张", "*"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_mask_name_default_policy(name, expected):
    assert mask_name(name) == expected
    assert mask_name(name, DEFAULT_POLICY) == expected


@pytest.mark.parametrize(
    ("name", "keep_surname", "keep_last"),
    [
        ("张三", "张*", "*三"),
        ("张小三", "张**", "**三"),
        ("欧阳娜娜", "欧阳**", "***娜"),
        ("诸葛亮", "诸葛*", "**亮"),
        ("张", "*", "*"),
    ],
)
def test_mask_name_other_policies(name, keep_surname, keep_last):
    assert mask_name(name, SURNAME) == keep_surname
    assert mask_name(name, LAST) == keep_last


@pytest.mark.parametrize(
    ("name", "expected", "expected_keep_last"),
    [
        ("买买提·艾力", "买**·**", "***·*力"),
        ("买买提•艾力", "买**·**", "***·*力"),  # other dots become the standard one
        ("阿依古丽・买买提", "阿***·***", "****·**提"),
        (" 帕尔哈提·买买提·吐尔逊 ", "帕***·***·***", "****·***·**逊"),
    ],
)
def test_mask_minority_names_keeps_one_end_and_the_dots(name, expected, expected_keep_last):
    assert mask_name(name) == expected
    assert mask_name(name, LAST) == expected_keep_last


@pytest.mark.parametrize(
    ("name", "expected"),
    [("John Smith", "J*** *****"), ("  Li   Na ", "L* **"), ("Ｍａｒｙ", "M***"), ("A", "*")],
)
def test_mask_latin_names_keeps_the_first_letter(name, expected):
    assert mask_name(name) == expected


def test_mask_name_uses_the_policy_mask_character():
    assert mask_name("张小三", MaskingPolicy(mask_char="○")) == "张○三"


def test_compound_surnames():
    pairs = (
        "欧阳司马诸葛上官东方皇甫尉迟公孙慕容长孙宇文司徒夏侯轩辕令狐钟离西门"
        "南宫独孤端木百里呼延澹台公冶太史申屠闻人东郭濮阳淳于单于赫连万俟司空"
        "第五拓跋完颜"
    )
    required = {pairs[i : i + 2] for i in range(0, len(pairs), 2)}
    assert len(required) == 37
    assert required <= COMPOUND_SURNAMES
    assert len(COMPOUND_SURNAMES) >= 40
    assert all(len(surname) == 2 for surname in COMPOUND_SURNAMES)
    assert isinstance(COMPOUND_SURNAMES, frozenset)


@given(
    name=st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=8
    ),
    policy=st.sampled_from([DEFAULT_POLICY, SURNAME, LAST]),
)
def test_a_chinese_name_never_comes_back_unmasked(name, policy):
    masked = mask_name(name, policy)
    assert masked != name
    assert len(masked) == len(name)
    assert "*" in masked


@given(name=st.text(min_size=1, max_size=12).filter(lambda s: "*" not in s))
def test_any_name_of_two_or_more_characters_is_changed(name):
    masked = mask_name(name)
    shown = "".join(unicodedata.normalize("NFKC", name).split())
    if len(shown) >= 2:
        assert masked != name
        assert "*" in masked


# --- Policy ----------------------------------------------------------------------------------


def test_policy_from_dict_ignores_unknown_keys():
    policy = MaskingPolicy.from_dict(
        {"name": "keep_last", "id_keep_head": 6, "mask_char": "#", "colour": "red"}
    )
    assert policy == MaskingPolicy(name="keep_last", id_keep_head=6, mask_char="#")
    assert MaskingPolicy.from_dict({}) == DEFAULT_POLICY


@pytest.mark.parametrize(
    "data",
    [
        {"name": "keep_everything"},
        {"id_keep_head": -1},
        {"account_keep_tail": "4"},
        {"phone_keep_head": 2.5},
        {"phone_keep_tail": True},
        {"mask_char": ""},
        {"mask_char": "**"},
        {"mask_char": "x"},
        {"mask_char": "5"},
        {"mask_char": " "},
    ],
)
def test_policy_from_dict_rejects_bad_values(data):
    with pytest.raises(ValueError):
        MaskingPolicy.from_dict(data)


def test_policy_is_frozen():
    with pytest.raises(AttributeError):
        DEFAULT_POLICY.mask_char = "#"  # type: ignore[misc]


# --- ID numbers, accounts, phones ------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("341122199001011234", "341**************4"),
        ("341122199001011234".translate(FULL_WIDTH), "341**************4"),
        (" 341122 19900101 1234 ", "341**************4"),
        ("44011320141005001x", "440**************X"),
        ("150102880730303", "150***********3"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_id_number(number, expected):
    assert mask_id_number(number) == expected


def test_mask_id_number_follows_the_policy():
    policy = MaskingPolicy(id_keep_head=6, id_keep_tail=2, mask_char="#")
    assert mask_id_number("341122199001011234", policy) == "341122##########34"
    assert mask_id_number("341122199001011234", MaskingPolicy(id_keep_head=10, id_keep_tail=8)) == (
        "*" * 18
    )


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("6222021234567890123", "6222***********0123"),
        ("6222 0212 3456 7890 123", "6222***********0123"),
        ("6222-0212-3456-7890", "6222********7890"),
        ("６２２２０２１２３４５６７８９０", "6222********7890"),
        ("123456789", "1234*6789"),
        ("12345678", "****5678"),
        ("123456", "**3456"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_mask_account(account, expected):
    assert mask_account(account) == expected


def test_mask_account_follows_the_policy():
    policy = MaskingPolicy(account_keep_head=6, account_keep_tail=2)
    assert mask_account("6222021234567890123", policy) == "622202***********23"


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13912345678", "139****5678"),
        ("139 1234 5678", "139****5678"),
        ("139-1234-5678", "139****5678"),
        ("１３９１２３４５６７８", "139****5678"),
        ("+86 139 1234 5678", "+86139****5678"),
        ("8613912345678", "86139****5678"),
        ("0551-12345678", "0551-****5678"),
        ("010-1234567", "010-***4567"),
        ("(0551)12345678", "0551-****5678"),
        ("（0551）12345678", "0551-****5678"),
        ("055112345678", "0551-****5678"),
        ("01012345678", "010-****5678"),
        ("12345", "*****"),
    ],
)
def test_mask_phone(phone, expected):
    assert mask_phone(phone) == expected


def test_mask_phone_follows_the_policy():
    policy = MaskingPolicy(phone_keep_head=0, phone_keep_tail=2, mask_char="#")
    assert mask_phone("13912345678", policy) == "#########78"
    assert mask_phone("0551-12345678", policy) == "0551-######78"


# --- Free text -------------------------------------------------------------------------------

SCRUBBED = [
    (
        "代领人李四，电话13912345678，卡号6222 0212 3456 7890 123，身份证341122199001011234",
        "代领人李四，电话139****5678，卡号6222 **** **** ***0 123，身份证341**************4",
    ),
    ("联系电话：0551-12345678，已核实", "联系电话：0551-****5678，已核实"),
    ("+86 139 1234 5678 本人领取", "+86 139 **** 5678 本人领取"),
    ("+8613912345678", "+86139****5678"),
    ("电话：１３９１２３４５６７８", "电话：１３９****５６７８"),
    ("身份证号33010219200403064X代领", "身份证号330**************X代领"),
    ("身份证44011320141005001x号", "身份证440**************x号"),
    ("身份证：４４０３０８１９９９０１１０１５１２", "身份证：４４０**************２"),
    ("旧身份证150102880730303", "旧身份证150***********3"),
    ("卡号：6228480402564890018，开户行农行", "卡号：6228***********0018，开户行农行"),
    ("手机13912345678和13812345678", "手机139****5678和138****5678"),
    ("身份证440308 19990110 1512", "身份证440*** ******** ***2"),
    ("电话139-1234-5678", "电话139-****-5678"),
    ("（0551）12345678", "（0551）****5678"),
    ("代领人王五(电话：18655512345)", "代领人王五(电话：186****2345)"),
    ("电话 13912345678 1200元", "电话 139****5678 1200元"),
    ("2024-03-01 13912345678 已领", "2024-03-01 139****5678 已领"),
    ("账号6222０２１２34567890123的户主", "账号6222***********0123的户主"),
    ("本人电话139\u30001234\u30005678", "本人电话139\u3000****\u30005678"),
]

LEFT_ALONE = [
    "补贴金额1200.50元，发放日期2024-03-01，面积3亩",
    "村代码341122100201，组别3组",
    "2024年3月1日，张三领取500元",
    "耕地面积12.5亩，每亩补贴125元，合计1562.5元",
    "第2组第15户，家庭人口4人",
    "批次20240301，凭证号1234567",
    "统一社会信用代码所在页码：第12页",
    "",
    "无",
]


@pytest.mark.parametrize(("text", "expected"), SCRUBBED)
def test_scrub_text_masks_each_number_by_its_kind(text, expected):
    assert scrub_text(text) == expected
    assert contains_personal_number(text)
    assert not contains_personal_number(expected)


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_scrub_text_leaves_amounts_dates_and_codes_alone(text):
    assert scrub_text(text) == text
    assert not contains_personal_number(text)


def test_scrub_text_follows_the_policy():
    policy = MaskingPolicy(mask_char="#", phone_keep_head=0, id_keep_head=6, id_keep_tail=4)
    text = "电话13912345678，身份证341122199001011234"
    assert scrub_text(text, policy) == "电话#######5678，身份证341122########1234"


# Random text around the numbers: Chinese, punctuation, letters, spaces, digits.
NOISE = st.text(
    alphabet="张三李四王五的电话卡号身份证代领人，。：；、（）() abcXx-+　\t0123456789１２",
    max_size=20,
)
# What sits right next to a number: anything but a digit.
BOUNDARY = st.sampled_from(list("，。：；电话号码是（）() -+　Ab"))


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    """Draw a valid 18-digit ID number (check digit computed here, not by the code under test)."""
    body = (
        draw(st.sampled_from(sorted(PROVINCE_CODES)))
        + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
        + draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))).strftime(
            "%Y%m%d"
        )
        + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    )
    check = check_char(body)
    return body + (draw(st.sampled_from("Xx")) if check == "X" else check)


@given(
    number=st.one_of(valid_ids(), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
    full_width=st.booleans(),
    before=NOISE,
    left=BOUNDARY,
    right=BOUNDARY,
    after=NOISE,
)
def test_scrub_text_never_leaves_a_valid_id_or_a_mobile(
    number, full_width, before, left, right, after
):
    written = number.translate(FULL_WIDTH) if full_width else number
    text = before + left + written + right + after
    scrubbed = scrub_text(text)
    assert len(scrubbed) == len(text)
    assert number.upper() not in unicodedata.normalize("NFKC", scrubbed).upper()
    assert contains_personal_number(text)


@given(text=st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=40))
def test_scrub_text_leaves_text_without_digits_unchanged(text):
    assert scrub_text(text) == text
    assert not contains_personal_number(text)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("身份证341122/19540707/1009", "19540707"),
        ("电话139.1234.5678", "1234"),
        ("电话139\t1234\t5678", "1234"),
        ("信用社账号 1234 5678 9012", "5678"),
        ("农商行账号880012345678", "1234"),
        ("账号88001234567890", "1234567"),
    ],
)
def test_scrub_text_closes_the_separator_and_short_account_gaps(text, hidden):
    assert hidden not in scrub_text(text)
