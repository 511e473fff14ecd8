"""The places and the people: townships, villages, households and persons.

No field here ever holds a raw ID number, bank account or full name: persons keep
a masked name, a masked ID and keyed hashes (see ``privacy``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from privacy import idnumbers, personal


class Township(models.Model):
    name = models.CharField(_("乡镇"), max_length=100, unique=True)
    code = models.CharField(_("区划代码"), max_length=12, blank=True)
    county = models.CharField(_("县（市、区）"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("乡镇")
        verbose_name_plural = _("乡镇")

    def __str__(self) -> str:
        return self.name


class StaffPlace(models.Model):
    """Where a staff account acts: one township, or every township of one county.

    Township staff get a row per township; county staff one row naming their county (the
    ``Township.county`` text). Exactly one of the two is set. ``funds.access`` reads these.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_places",
        verbose_name=_("工作人员"),
    )
    township = models.ForeignKey(
        Township,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff_places",
        verbose_name=_("乡镇"),
    )
    county = models.CharField(
        _("县（市、区）"), max_length=100, blank=True, help_text=_("县级工作人员填写县名")
    )

    class Meta:
        ordering = ["user", "county", "township"]
        verbose_name = _("工作地点")
        verbose_name_plural = _("工作地点")
        constraints = [
            models.CheckConstraint(
                condition=(Q(township__isnull=False) & Q(county=""))
                | (Q(township__isnull=True) & ~Q(county="")),
                name="staff_place_township_or_county",
                violation_error_message=_("请只填写乡镇或县（市、区）中的一项"),
            ),
            models.UniqueConstraint(
                fields=["user", "township"],
                condition=Q(township__isnull=False),
                name="staff_place_township_once",
            ),
            models.UniqueConstraint(
                fields=["user", "county"], condition=~Q(county=""), name="staff_place_county_once"
            ),
        ]

    def __str__(self) -> str:
        return str(self.township or self.county)


class Village(models.Model):
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("乡镇")
    )
    name = models.CharField(_("村（社区）"), max_length=100)
    code = models.CharField(_("区划代码"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["township__name", "name"]
        verbose_name = _("村（社区）")
        verbose_name_plural = _("村（社区）")
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], name="village_unique_per_township")
        ]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """A household (户), identified by its head: one household per head person.

    A roster names a household by its head's ID number; the loader finds it through the
    head's keyed ID hash (``Person.id_hash``), so the household stores no hash of its own.
    """

    village = models.ForeignKey(
        Village,
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("村"),
        db_index=False,  # the (village, group) index leads with it
        db_constraint=False,  # checked once per statement: funds.importing.refchecks
    )
    group = models.CharField(_("村民小组"), max_length=50, blank=True)
    head = models.OneToOneField(
        "Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_household",
        verbose_name=_("户主"),
        db_constraint=False,  # checked once per statement: funds.importing.refchecks
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["village", "group", "id"]
        verbose_name = _("农户")
        verbose_name_plural = _("农户")
        indexes = [models.Index(fields=["village", "group"])]

    def __str__(self) -> str:
        return str(_("%(village)s 第%(id)s户") % {"village": self.village_id, "id": self.pk})


class PersonManager(models.Manager["Person"]):
    def mask_names_in(self, text: str, *, also: models.QuerySet | None = None) -> str:
        """Mask in TEXT every full name of a person Sunlight knows, found by keyed name hash.

        Staff write reasons and notes that may be public ("王小明多发"): every 2–4 character run
        is hashed with the name key and looked up in one query; the names found are masked.
        ALSO is another queryset with a ``name_hash`` column whose names count as known (funds
        passes its payment rows: a later roster may name a person otherwise than the first,
        and that name is in the row only). A name nobody in the database has is left as written.
        """
        if not text:
            return text
        candidates = {personal.hash_name(c): c for c in personal.name_candidates(text)}
        if not candidates:
            return text
        hashes = list(candidates)
        known = self.filter(name_hash__in=hashes).values_list("name_hash", flat=True)
        if also is not None:
            known = known.order_by().union(
                also.filter(name_hash__in=hashes).order_by().values_list("name_hash", flat=True)
            )
        return personal.mask_known_names(text, {candidates[h] for h in set(known)})

    def identify(
        self, *, name: str, id_number: str, relation_to_head: str = "", household=None
    ) -> Person:
        """Return the person with this ID number, creating them from masked values."""
        check = idnumbers.check_id_number(id_number)
        if not check.valid:
            raise ValidationError(check.reason, code=check.code)
        values = Person.values_from(name=name, check=check)
        person, _created = self.get_or_create(
            id_hash=values.pop("id_hash"),
            defaults={**values, "relation_to_head": relation_to_head, "household": household},
        )
        return person

    def remask_id_numbers(self, *, batch_size: int = 5000) -> int:
        """Mask every stored masked ID number again by the deployment's policy; count changes.

        Masks are made at import, from the raw number, which is not kept: when the policy
        keeps fewer digits (as the default did, from 3 + 4 to 3 + 1), persons already stored
        keep their old mask until this runs. Masking a mask only hides more: a digit already
        hidden stays hidden whatever the policy says.
        """
        changed = 0
        with transaction.atomic():
            stale: list[Person] = []
            for person in self.only("pk", "id_masked").order_by("pk").iterator(batch_size):
                masked = personal.mask_id_number(person.id_masked)
                if masked != person.id_masked:
                    person.id_masked = masked
                    stale.append(person)
                if len(stale) >= batch_size:
                    changed += self.bulk_update(stale, ["id_masked"])
                    stale = []
            changed += self.bulk_update(stale, ["id_masked"])
        return changed


class Person(models.Model):
    """A person, known only by masked values, keyed hashes and what the ID tells."""

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")
        UNKNOWN = "", _("未知")

    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("所属农户"),
        db_constraint=False,  # checked at commit, once per statement: funds.importing.refchecks
    )
    name_masked = models.CharField(_("姓名（脱敏）"), max_length=50)
    name_hash = models.CharField(_("姓名密钥散列"), max_length=80)
    id_hash = models.CharField(_("身份证号密钥散列"), max_length=80)
    id_masked = models.CharField(_("身份证号（脱敏）"), max_length=20)
    key_version = models.PositiveSmallIntegerField(_("密钥版本"), default=1)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    relation_to_head = models.CharField(_("与户主关系"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = PersonManager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        constraints = [models.UniqueConstraint(fields=["id_hash"], name="person_id_hash_unique")]

    def __str__(self) -> str:
        return f"{self.name_masked} {self.id_masked}"

    @staticmethod
    def values_from(*, name: str, check: idnumbers.IdCheck) -> dict[str, Any]:
        """Return the stored values for a person: masks, hashes and what the ID tells."""
        birth_year, sex = idnumbers.birth_year_and_sex(check.number)
        return {
            "name_masked": personal.mask_name(name),
            "name_hash": personal.hash_name(name),
            "id_hash": personal.hash_id_number(check.number),
            "id_masked": personal.mask_id_number(check.number),
            "key_version": personal.key_version(),
            "birth_year": birth_year,
            "sex": sex,
        }

    def name_matches(self, name: str) -> bool:
        """Say whether NAME is this person's name (compared by keyed hash)."""
        return personal.hash_name(name) == self.name_hash
