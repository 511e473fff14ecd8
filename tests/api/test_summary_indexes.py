"""The summaries' failed and reversed amounts are read through their partial indexes (funds
0016), not a scan of every row: the scale benchmark measured 6.2 s at 10,000,000 rows without
them. PostgreSQL only; sequential scans are switched off so that the plan says whether the
index can serve the query at all, whatever the (tiny) test table's statistics."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_batch, make_program, make_village, unique_id_number


@pytest.mark.django_db
@pytest.mark.parametrize("by", ["township", "program", "village"])
def test_summary_failed_and_reversed_amounts_use_their_partial_indexes(client, by):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    make_batch(make_program(), make_village(), [("张三", unique_id_number(1), Decimal("10.00"))])
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/summary/", {"by": by})
    assert response.status_code == 200 and response.json()["results"]
    plans = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            sql = query["sql"]
            for marker, index in (("'failed'", "disb_failed"), ("is_reversal", "disb_reversal")):
                if marker in sql and '"funds_disbursement"' in sql and "GROUP BY" in sql:
                    cursor.execute("EXPLAIN " + sql)
                    plans[index] = "\n".join(row[0] for row in cursor.fetchall())
    assert set(plans) == {"disb_failed", "disb_reversal"}, captured.captured_queries
    for index, plan in plans.items():
        assert "Seq Scan on funds_disbursement" not in plan, plan
        if by == "township":  # no other index leads with a batch's property
            assert index in plan, plan
