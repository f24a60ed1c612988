"""The merchant sees who asked: a guest's contact in the Slack-style text, the
message's document and the email's body (app/notifications/contact.py)."""

import json

from helpers import SHOP, TOKEN

from app.notifications import channels, messages

SETTINGS = {"SHOPIFY_BASE_URL": SHOP, "SHOPIFY_ACCESS_TOKEN": TOKEN,
            "NOTIFY_WEBHOOK_URL": "https://hooks.example.com/services/T0",
            "SMTP_URL": "smtp://127.0.0.1:2525", "NOTIFY_EMAIL": "merchant@example.com"}
CONTACT = {"email": "ann@example.com", "name": "Ann Lee", "phone": "+1 613 555 0100",
           "company": "Lee & Co", "message": "Can you ship by Friday?\nThanks",
           "custom": [{"name": "PO number", "value": "PO-7"}]}
EVENT = {"id": "e1", "customer_id": None, "line_count": 1, "draft_order_id": None,
         "payload": {"draft_order": {}, "guest_contact": CONTACT}}
CREATED = {"status": "completed", "draft_order_id": 7, "draft_order_name": "#D7",
           "invoice_url": None}
FAILED = {"status": "failed", "error_code": "shopify_rejected", "error_detail": "No."}


def document(changes, event=EVENT):
    return json.loads(messages.messages(event, changes, SETTINGS, 1.0)[0]["body"])


def test_the_text_names_the_guest_and_quotes_their_message():
    assert document(CREATED)["text"] == (
        'Draft order #D7 created from a cart of 1 line for a guest, Ann Lee of Lee &amp; Co '
        '(ann@example.com): "Can you ship by Friday? Thanks"')


def test_the_document_carries_the_contact_for_a_draft_and_for_a_failure():
    assert document(CREATED)["contact"] == CONTACT
    assert document(FAILED)["contact"] == CONTACT


def test_a_guest_who_gave_nothing_is_a_guest_without_a_contact():
    plain = document(CREATED, {**EVENT, "payload": {"draft_order": {}}})
    assert plain["text"].endswith("for a guest") and "contact" not in plain


def test_a_long_message_is_cut_in_the_text_but_whole_in_the_email():
    long = {**EVENT, "payload": {"guest_contact": {"message": "x" * 500}}}
    body = messages.messages(long, CREATED, SETTINGS, 1.0)[1]["body"]
    assert "x" * 200 not in json.loads(body)["text"]
    assert "x" * 500 in channels._email(json.loads(body), "a@example.com",
                                        "merchant@example.com").get_content()


def test_the_email_lists_the_whole_contact():
    body = messages.messages(EVENT, CREATED, SETTINGS, 1.0)[1]["body"]
    content = channels._email(json.loads(body), "a@example.com",
                              "merchant@example.com").get_content()
    for line in ("Name: Ann Lee", "Email: ann@example.com", "Phone: +1 613 555 0100",
                 "Company: Lee & Co", "PO number: PO-7", "Can you ship by Friday?", "Thanks"):
        assert line in content
