"""The public site's views: published batches only, masked values only."""

from django.db.models import Sum
from django.shortcuts import render

from funds.models import Batch, Program


def home(request):
    batches = Batch.objects.published().select_related("program", "township")[:10]
    programs = Program.objects.order_by("name")
    total = Batch.objects.published().aggregate(total=Sum("total_amount"))["total"]
    return render(
        request, "publicity/home.html", {"batches": batches, "programs": programs, "total": total}
    )
