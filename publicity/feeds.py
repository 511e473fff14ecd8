"""An Atom feed of newly published batches (no personal data: programs, periods, totals)."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.urls import reverse, reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from funds.models import Batch
from publicity import queries
from publicity.templatetags.sunlight import format_money


class PublishedBatchesFeed(Feed):
    feed_type = Atom1Feed
    title = _("阳光公示：最新发放公示")
    subtitle = _("新发布的惠民惠农资金发放批次（姓名、证件号已脱敏）")
    link = reverse_lazy("publicity:home")

    def items(self):
        return queries.latest_batches(limit=50)

    def item_title(self, item: Batch) -> str:
        title = f"{item.program.name} {item.period} {item.township.name}"
        return f"{_('更正公示：')}{title}" if item.is_correction else title

    def item_description(self, item: Batch) -> str:
        if item.is_correction:
            return str(
                _("更正 #%(batch)s 号公示，合计净变化 %(amount)s 元。更正原因：%(reason)s")
                % {
                    "batch": item.corrects_id,
                    "amount": format_money(item.total_amount),
                    "reason": item.reason or "—",
                }
            )
        return str(
            _("共 %(rows)s 条，合计 %(amount)s 元，状态：%(status)s")
            % {
                "rows": item.row_count,
                "amount": format_money(item.total_amount),
                "status": item.get_status_display(),
            }
        )

    def item_link(self, item: Batch) -> str:
        return reverse("publicity:batch", args=[item.pk])

    def item_pubdate(self, item: Batch):
        return item.published_at

    def item_updateddate(self, item: Batch):
        return item.updated_at
