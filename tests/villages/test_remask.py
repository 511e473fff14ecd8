"""Stored masks follow a stricter policy once remasked; a hidden digit is never revealed."""

import pytest
from django.core.management import call_command

from privacy import personal
from tests.factories import id_number
from villages.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(settings):
    """Set the ID mask of the deployment's policy: policy(head, tail)."""

    def set_policy(head: int, tail: int) -> None:
        masking = {**settings.SUNLIGHT_MASKING, "id_keep_head": head, "id_keep_tail": tail}
        settings.SUNLIGHT_MASKING = masking
        personal.masking_policy.cache_clear()

    yield set_policy
    personal.masking_policy.cache_clear()


def test_masks_made_under_3_plus_4_keep_only_3_plus_1_once_remasked(policy, capsys):
    """Persons imported while the policy kept the sex digit stop showing it."""
    policy(3, 4)
    old = Person.objects.identify(name="张三", id_number=id_number(1))
    assert old.id_masked == id_number(1)[:3] + "*" * 11 + id_number(1)[-4:]
    policy(3, 1)
    new = Person.objects.identify(name="李四", id_number=id_number(2))
    call_command("remask_ids")
    old.refresh_from_db()
    assert old.id_masked == id_number(1)[:3] + "*" * 14 + id_number(1)[-1]
    assert Person.objects.get(pk=new.pk).id_masked == personal.mask_id_number(id_number(2))
    assert "重新脱敏 1 个" in capsys.readouterr().out


def test_a_policy_that_keeps_more_reveals_nothing(policy):
    policy(3, 1)
    person = Person.objects.identify(name="王五", id_number=id_number(3))
    policy(6, 4)
    assert Person.objects.remask_id_numbers() == 0
    person.refresh_from_db()
    assert person.id_masked == id_number(3)[:3] + "*" * 14 + id_number(3)[-1]
