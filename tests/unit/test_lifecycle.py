"""The draft order's lifecycle rules (app/lifecycle.py): what each report of
Shopify's changes, and when an open draft is read again."""

from app.lifecycle import DAY, DraftSeen, changes_for, next_reconcile_at

CREATED = 1_000_000.0


def event(**columns):
    return {"draft_state": "open", "draft_updated_at": CREATED, "order_id": None,
            "order_name": None, "created_at": CREATED, "reconcile_count": 0, **columns}


def test_a_newer_report_moves_the_draft_on():
    changes = changes_for(event(), DraftSeen("invoice_sent", CREATED + 5), CREATED + 6, 30)
    assert (changes["draft_state"], changes["draft_updated_at"]) == ("invoice_sent", CREATED + 5)


def test_a_report_no_newer_than_the_last_applied_is_ignored():
    seen = DraftSeen("open", CREATED + 5)
    assert changes_for(event(draft_state="invoice_sent", draft_updated_at=CREATED + 5), seen,
                       CREATED + 9, 30) is None


def test_a_deleted_draft_stays_deleted():
    assert changes_for(event(draft_state="deleted"), DraftSeen("open", CREATED + 50),
                       CREATED + 60, 30) is None


def test_an_order_completes_the_draft_and_ends_its_re_reads():
    changes = changes_for(event(), DraftSeen("open", None, 450789469, "#1001", "paid"),
                          CREATED + 60, 30)
    assert changes == {"draft_state": "completed", "order_id": 450789469,
                       "order_name": "#1001", "order_financial_status": "paid",
                       "reconcile_at": None}


def test_the_order_s_name_is_taken_after_the_draft_was_reported_completed():
    done = event(draft_state="completed", order_id=450789469)
    assert changes_for(done, DraftSeen("completed", None, 450789469, "#1001", "paid"),
                       CREATED + 60, 30) == {"order_id": 450789469, "order_name": "#1001",
                                             "order_financial_status": "paid"}


def test_another_order_s_name_is_not_taken_for_a_completed_draft():
    done = event(draft_state="completed", order_id=450789469)
    assert changes_for(done, DraftSeen("completed", None, 999, "#FAKE", "paid"),
                       CREATED + 60, 30) is None


def test_a_report_dated_far_ahead_of_our_clock_is_not_believed():
    # Believed, it would make every true report after it "out of order" for good.
    assert changes_for(event(), DraftSeen("invoice_sent", CREATED + 400 * DAY), CREATED + 60,
                       30) is None


def test_an_open_draft_is_read_again_after_a_minute_ten_minutes_an_hour_and_a_day():
    delays = [next_reconcile_at(CREATED, looks, CREATED, 30) - CREATED for looks in range(5)]
    assert delays == [60, 600, 3600, DAY, DAY]


def test_re_reads_stop_after_reconcile_days():
    assert next_reconcile_at(CREATED, 9, CREATED + 30 * DAY - 10, 30) is None
    assert next_reconcile_at(CREATED, 0, CREATED, 0) is None
