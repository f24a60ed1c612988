"""Past the process's queue of submissions (app/store/batching.py): 503, in the
API's error shape, with Retry-After, and nothing stored."""

from helpers import cart_body

from app.store.batching import Batcher


def test_a_submission_past_the_queue_bound_is_503_with_retry_after(client, store):
    store._batcher = Batcher(store._write_batch, most_waiting=0)
    response = client.post("/webhooks/cart", json=cart_body())
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    error = response.get_json()["error"]
    assert error["code"] == "busy" and error["detail"] and error["retry_after"] == 1
    assert store.count_events() == 0
