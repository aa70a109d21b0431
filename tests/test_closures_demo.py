"""The demo shows a closing home part way through its move plan, a provider's hand-back, and a
spot contract by the person's choice off the DPS."""

import pytest
from django.core.management import call_command

from closures.models import HandBack, HomeClosure, ResidentMove
from closures.selectors import home_closure_list
from organisations.models import User
from placements.models import Placement, PlacementRequest

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_closing_home_with_moves_under_way_and_a_hand_back(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    broker = User.objects.get(email="broker@staffordshire.example")
    [closure] = home_closure_list(actor=broker)
    assert closure.residents_at_start >= 2
    assert closure.moved == 1 and closure.remaining == closure.residents_at_start - 1
    assert closure.requests_open == closure.remaining  # one for each resident still to move, raised once
    assert ResidentMove.objects.filter(status=ResidentMove.Status.FAMILY_CONTACTED).exists()
    assert HandBack.objects.filter(commissioner=broker.organisation, placement__isnull=False).count() == 1
    client.force_login(broker)
    assert client.get(f"/closures/{closure.pk}/").status_code == 200
    assert HomeClosure.objects.count() == 1

    choice = Placement.objects.get(request__case_reference="DEMO-CHOICE-1")
    assert choice.source == Placement.Source.OFF_DPS_CHOICE
    waiting = PlacementRequest.objects.get(case_reference="DEMO-CHOICE-2")
    page = client.get(f"/broker/requests/{waiting.pk}/")
    assert b"Spot contract by choice" in page.content
