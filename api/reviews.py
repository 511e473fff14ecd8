"""Reviews of red-flag cases: an auditor's note on a case, stored scrubbed and recorded."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from api.models import REVIEW_AUDIT_KIND, RedFlagReview
from funds import audit
from funds.publishing import public_reason

#: The longest note an auditor may write (characters, as sent).
NOTE_MAX = 1000


@transaction.atomic
def review_case(*, kind: str, case: str, note: str, user: Any) -> RedFlagReview:
    """Append USER's review of KIND's CASE with NOTE, and record it in the audit record.

    The note is staff-like free text ("欧阳娜娜本人说明，电话…"): ID-, phone- and account-like
    numbers are scrubbed and the names of persons Sunlight knows are masked before it is
    stored, as the audit record does with reasons. The review and its audit entry commit or
    roll back together.
    """
    review = RedFlagReview.objects.create(
        kind=kind, case=case, note=public_reason(note), user=user, username=user.get_username()
    )
    audit.record(REVIEW_AUDIT_KIND, user=user, obj=review, reason=review.note, flag=kind, case=case)
    return review
