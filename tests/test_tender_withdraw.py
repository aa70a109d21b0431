"""A suspended home leaves every open tender: invitation withdrawn, bid excluded, audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bidding.models import Bid, Invitation
from bidding.services import invitations_withdraw_for_care_home
from core.models import AuditEvent

from .factories import BidFactory, CareHomeFactory, InvitationFactory, TenderFactory

pytestmark = pytest.mark.django_db


def test_suspension_withdraws_open_invitations_and_excludes_their_bids(broker_a):
    home = CareHomeFactory()
    open_tender = TenderFactory()
    bid = BidFactory(invitation=InvitationFactory(tender=open_tender, care_home=home))
    invitation_without_bid = InvitationFactory(tender=TenderFactory(), care_home=home)
    past_deadline = TenderFactory(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    closed_invitation = InvitationFactory(tender=past_deadline, care_home=home)
    other_home_invitation = InvitationFactory(tender=open_tender)

    count = invitations_withdraw_for_care_home(
        care_home=home, actor=broker_a, reason="CQC rated Inadequate", commissioner=None
    )

    assert count == 2
    bid.refresh_from_db()
    assert bid.status == Bid.Status.EXCLUDED
    assert bid.excluded_reason == "CQC rated Inadequate"
    invitation_without_bid.refresh_from_db()
    assert invitation_without_bid.status == Invitation.Status.WITHDRAWN
    assert invitation_without_bid.withdrawn_at is not None
    assert invitation_without_bid.withdrawn_reason == "CQC rated Inadequate"
    closed_invitation.refresh_from_db()
    assert closed_invitation.status == Invitation.Status.INVITED
    other_home_invitation.refresh_from_db()
    assert other_home_invitation.status == Invitation.Status.INVITED
    verbs = sorted(AuditEvent.objects.values_list("verb", flat=True))
    assert verbs == ["bidding.bid.excluded", "bidding.invitation.withdrawn", "bidding.invitation.withdrawn"]


def test_withdrawing_twice_withdraws_nothing_more(broker_a):
    home = CareHomeFactory()
    InvitationFactory(care_home=home)

    assert (
        invitations_withdraw_for_care_home(care_home=home, actor=broker_a, reason="Suspended", commissioner=None) == 1
    )
    assert invitations_withdraw_for_care_home(care_home=home, actor=None, reason="Suspended", commissioner=None) == 0


def test_the_scope_of_a_withdrawal_must_be_stated():
    with pytest.raises(TypeError):
        invitations_withdraw_for_care_home(care_home=CareHomeFactory(), actor=None, reason="Suspended")


def test_withdrawal_can_be_narrowed_to_one_commissioner_and_lot(broker_a, council_a, council_b):
    from .factories import PlacementRequestFactory, lot

    home = CareHomeFactory()
    lot_1 = InvitationFactory(
        care_home=home, tender=TenderFactory(request=PlacementRequestFactory(commissioner=council_a))
    )
    lot_2 = InvitationFactory(
        care_home=home, tender=TenderFactory(request=PlacementRequestFactory(commissioner=council_a, lot=lot(2)))
    )
    other_body = InvitationFactory(
        care_home=home, tender=TenderFactory(request=PlacementRequestFactory(commissioner=council_b))
    )

    count = invitations_withdraw_for_care_home(
        care_home=home, actor=broker_a, reason="Safeguarding", commissioner=council_a, lot=lot(1)
    )

    assert count == 1
    statuses = {
        name: Invitation.objects.get(pk=invitation.pk).status
        for name, invitation in (("lot_1", lot_1), ("lot_2", lot_2), ("other_body", other_body))
    }
    assert statuses == {"lot_1": "withdrawn", "lot_2": "invited", "other_body": "invited"}
