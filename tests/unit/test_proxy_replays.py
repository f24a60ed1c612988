"""One body per app proxy signature (app/intake/replays.py), remembered while
the signature can still be accepted, in bounded memory."""

from app.intake.replays import UsedSignatures


def test_a_first_use_is_allowed():
    assert UsedSignatures().claim("s", b"cart", 0, 600) == (True, None)


def test_the_same_body_again_gets_the_recorded_event():
    used = UsedSignatures()
    used.claim("s", b"cart", 0, 600)
    used.record("s", "event-1")
    assert used.claim("s", b"cart", 1, 600) == (True, "event-1")


def test_another_body_under_a_used_signature_is_refused():
    used = UsedSignatures()
    used.claim("s", b"cart", 0, 600)
    assert used.claim("s", b"another cart", 1, 600) == (False, None)


def test_a_signature_is_forgotten_once_it_could_no_longer_be_accepted():
    used = UsedSignatures()
    used.claim("s", b"cart", 0, 600)
    assert used.claim("s", b"another cart", 601, 600) == (True, None)


def test_beyond_its_bound_the_oldest_signature_is_forgotten_first():
    used = UsedSignatures(max_entries=2)
    for signature in ("a", "b", "c"):
        used.claim(signature, b"cart", 0, 600)
    assert used.claim("a", b"other", 0, 600) == (True, None)
    assert used.claim("c", b"other", 0, 600) == (False, None)
