"""A bid is judged by when the service received it, not by when it was processed.

The tender row is held locked on one database connection across the deadline (as a burst of
bids, or a slow one, would hold it) while bids arrive on others, through the API with its
middleware stamping each request as it enters.
"""

import socket
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from bidding.models import Bid, Tender
from bidding.services import bid_submit, database_now, tender_close, tender_publish
from config.gunicorn_worker import request_complete, request_received, timestamp_arrivals
from core.clock import ReceiptTimeMiddleware, database_now_and_receipt, receipt_stamp
from core.errors import ConflictError
from lots.models import LotRules
from organisations.services import api_client_create

from .factories import PlacementRequestFactory, admitted_home


def _open_tender(council, broker):
    LotRules.objects.filter(commissioner=council, lot__number=1).update(min_window_hours=0)
    request = PlacementRequestFactory(commissioner=council, created_by=broker)
    return tender_publish(actor=broker, request=request, closes_at=database_now() + timedelta(hours=1))


def _deadline_in(tender, seconds: float):
    """Move the deadline close once everything else is ready, so a slow machine cannot miss it."""
    closes_at = database_now() + timedelta(seconds=seconds)
    Tender.objects.filter(pk=tender.pk).update(closes_at=closes_at)
    tender.closes_at = closes_at
    return closes_at


def _hold_tender_row(tender_id: int, locked: threading.Event, release: threading.Event) -> None:
    """On a connection of its own: lock the tender row and keep it until told."""
    try:
        with transaction.atomic():
            Tender.objects.select_for_update().get(pk=tender_id)
            locked.set()
            release.wait(30)
    finally:
        connection.close()


def _wait_until(moment) -> None:
    while database_now() < moment:
        time.sleep(0.02)


def _bid_body(home) -> dict:
    return {
        "care_home": home.pk,
        "weekly_fee": "812.00",
        "earliest_start": timezone.localdate().isoformat(),
        "needs_confirmed": True,
    }


@pytest.mark.django_db(transaction=True)
def test_a_bid_received_before_the_deadline_while_the_tender_is_locked_is_accepted_and_one_after_is_refused(
    council_a, broker_a, provider_a, provider_user_a
):
    early_home = admitted_home(council_a, provider=provider_a, name="Early Home")
    late_home = admitted_home(council_a, provider=provider_a, name="Late Home")
    _, token = api_client_create(organisation=provider_a, name="Provider system", scopes=["read", "bids"])
    tender = _open_tender(council_a, broker_a)
    url = f"/api/v1/tenders/{tender.pk}/bids/"
    locked, release = threading.Event(), threading.Event()
    answers = {}

    def send(name: str, home) -> None:
        try:
            answers[name] = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
                url, _bid_body(home), content_type="application/json"
            )
        finally:
            connection.close()

    closes_at = _deadline_in(tender, 3)
    holder = threading.Thread(target=_hold_tender_row, args=(tender.pk, locked, release))
    holder.start()
    assert locked.wait(10)
    early = threading.Thread(target=send, args=("early", early_home))
    early.start()  # received now, three seconds before the deadline; it waits on the row lock
    _wait_until(closes_at + timedelta(milliseconds=300))
    late = threading.Thread(target=send, args=("late", late_home))
    late.start()  # received after the deadline; it waits on the same lock
    time.sleep(0.5)
    assert "early" not in answers and "late" not in answers, "both wait on the locked tender row"
    release.set()
    for thread in (holder, early, late):
        thread.join(30)

    assert answers["early"].status_code == 201, answers["early"].content
    assert answers["late"].status_code == 409
    assert answers["late"].json()["code"] == "tender_closed"
    bid = Bid.objects.get(tender=tender)
    assert bid.care_home == early_home
    assert bid.submitted_at < closes_at
    assert database_now() > closes_at, "the early bid was decided after the deadline had passed"


@pytest.mark.django_db(transaction=True)
def test_the_close_waits_for_the_grace_and_for_a_bid_holding_the_tender(
    council_a, broker_a, provider_a, provider_user_a, settings
):
    settings.BID_RECEIPT_GRACE_SECONDS = 2
    home = admitted_home(council_a, provider=provider_a, name="Slow Home")
    tender = _open_tender(council_a, broker_a)
    _deadline_in(tender, 2)
    received = receipt_stamp()  # the bid arrives two seconds before the deadline
    bid_locked, let_bid_finish = threading.Event(), threading.Event()
    outcome = {}

    def slow_bid() -> None:
        try:
            with transaction.atomic():
                Tender.objects.select_for_update().get(pk=tender.pk)
                bid_locked.set()
                let_bid_finish.wait(30)  # still deciding when the close comes
                outcome["bid"] = bid_submit(
                    actor=provider_user_a,
                    tender=tender,
                    care_home=home,
                    weekly_fee=Decimal("790.00"),
                    earliest_start=timezone.localdate(),
                    needs_confirmed=True,
                    received=received,
                )
        finally:
            connection.close()

    def close() -> None:
        try:
            outcome["closed"] = tender_close(tender_id=tender.pk)
        finally:
            connection.close()

    bidder = threading.Thread(target=slow_bid)
    bidder.start()
    assert bid_locked.wait(10)
    _wait_until(tender.closes_at + timedelta(milliseconds=200))
    assert tender_close(tender_id=tender.pk) is False, "within the grace nothing closes"
    _wait_until(tender.closes_at + timedelta(seconds=2, milliseconds=100))
    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(0.5)
    assert "closed" not in outcome, "the close waits for the bid holding the tender row"
    let_bid_finish.set()
    bidder.join(30)
    closer.join(30)

    assert outcome["closed"] is True
    tender.refresh_from_db()
    assert tender.status == Tender.Status.CLOSED
    assert list(tender.bids.values_list("pk", flat=True)) == [outcome["bid"].pk]
    assert outcome["bid"].submitted_at < tender.closes_at
    with pytest.raises(ConflictError):
        bid_submit(
            actor=provider_user_a,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal("780.00"),
            earliest_start=timezone.localdate(),
            needs_confirmed=True,
            received=received,
        )


@pytest.mark.django_db
def test_a_receipt_stamp_converts_to_the_database_clock_at_the_moment_it_was_taken():
    stamp = receipt_stamp()
    before = database_now()
    time.sleep(0.3)
    now, received_at = database_now_and_receipt(stamp)
    after = database_now()

    assert received_at <= before + timedelta(milliseconds=50)
    assert received_at >= before - timedelta(milliseconds=50)
    assert now - received_at >= timedelta(milliseconds=300)
    assert now <= after
    unstamped_now, unstamped_receipt = database_now_and_receipt(None)
    assert unstamped_receipt == unstamped_now, "a task or command without a stamp is judged at the clock's now"


def test_a_request_is_stamped_once_its_body_has_arrived():
    seen = {}

    def view(request):
        seen["stamp"] = request.received_monotonic
        seen["body_read"] = hasattr(request, "_body")
        return HttpResponse()

    before = receipt_stamp()
    ReceiptTimeMiddleware(view)(RequestFactory().post("/x/", {"a": "1"}))
    assert seen["body_read"] is True
    assert before <= seen["stamp"] <= receipt_stamp()


def test_the_server_stamps_only_a_request_that_has_arrived_in_full():
    server, client = socket.socketpair()
    try:
        server.setblocking(False)
        assert request_complete(server) is False
        client.sendall(b"POST /api/v1/tenders/1/bids/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
        time.sleep(0.05)
        assert request_complete(server) is False, "half the body is not a received request"
        client.sendall(b"67890")
        time.sleep(0.05)
        assert request_complete(server) is True
        assert server.recv(4096).endswith(b"1234567890"), "the look leaves the request in the socket"
        client.sendall(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        time.sleep(0.05)
        assert request_complete(server) is False, "a chunked body is stamped by the middleware instead"
    finally:
        server.close()
        client.close()


def test_a_request_waiting_to_be_accepted_is_stamped_when_its_last_packet_arrived():
    """Over loopback TCP as gunicorn listens: a whole request that waits half a second in the
    listen queue before the server accepts it is stamped with its arrival, not the accept."""
    listener = socket.socket()
    timestamp_arrivals(listener)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    # The kernel turns packet stamping on a moment after it is asked (as when gunicorn starts):
    # wait until a probe comes back stamped.
    deadline = time.monotonic() + 5
    while True:
        probe = socket.create_connection(listener.getsockname())
        probe.sendall(b"x")
        accepted, _ = listener.accept()
        time.sleep(0.01)
        stamped = accepted.recvmsg(16, socket.CMSG_SPACE(16), socket.MSG_PEEK)[1]
        probe.close()
        accepted.close()
        if stamped or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert stamped, "the kernel never stamped a packet"
    client = socket.create_connection(listener.getsockname())
    try:
        client.sendall(b"POST /api/v1/tenders/1/bids/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        sent = receipt_stamp()
        time.sleep(0.5)
        server, _ = listener.accept()
        server.setblocking(False)
        looked = receipt_stamp()
        stamp = request_received(server)
        assert stamp is not None
        assert abs(stamp - sent) < 0.1, f"stamped {looked - stamp:.3f} s before the look, not about 0.5 s"
        assert stamp <= receipt_stamp()
        server.close()
    finally:
        client.close()
        listener.close()
