"""The load generator: a tiny national set, every model rule kept, realistic shape."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q

from bidding.models import Award, Bid, Invitation, Tender
from blockbeds.models import BlockBed, BlockContract
from lots.models import LotRules
from organisations.models import Organisation
from placements.models import Placement, PlacementRequest
from providers.models import Admission, CareHome, Vacancy
from quality.models import Rating, RatingValue

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(capsys):
    call_command("generate_load_data", scale=0.001, seed=7)
    return capsys.readouterr().out


def test_tiny_scale_makes_the_scaled_counts_and_prints_progress(loaded):
    assert CareHome.objects.count() == 15
    assert Rating.objects.count() == 15
    assert Tender.objects.count() == 100
    assert Placement.objects.count() == 1000
    assert Bid.objects.filter(tender__status=Tender.Status.NO_BIDS).count() == 0
    assert Bid.objects.count() > 100 * 3
    assert BlockContract.objects.exists() and BlockBed.objects.exists()
    assert not BlockContract.objects.filter(rates__isnull=True).exists(), "every block contract has a rate"
    assert Vacancy.objects.exists()
    assert LotRules.objects.count() == 10 * Organisation.objects.filter(kind="council").count()
    assert "care homes: 15" in loaded
    assert "placements: 1,000" in loaded
    assert "Done:" in loaded


def test_every_home_has_its_current_rating_and_coordinates_in_england(loaded):
    for home in CareHome.objects.select_related("current_rating"):
        assert home.current_rating.care_home_id == home.pk
        assert 49.9 < home.latitude < 55.9 and -6.0 < home.longitude < 2.0
        assert home.provides_residential or home.provides_nursing
    assert Rating.objects.filter(overall=RatingValue.GOOD).exists()


def test_placements_split_the_fee_and_awards_match_the_top_ranked_bid(loaded):
    assert not Placement.objects.exclude(weekly_fee=F("council_weekly_amount") + F("top_up_weekly_amount")).exists()
    assert not Placement.objects.filter(end_date__lt=F("start_date")).exists()
    assert not Placement.objects.filter(sourced_at__lt=F("requested_at")).exists()
    for award in Award.objects.select_related("bid", "tender"):
        assert award.bid.tender_id == award.tender_id
        assert award.bid.rank == 1 and award.top_ranked
        assert award.tender.status == Tender.Status.AWARDED
        placement = Placement.objects.get(request=award.tender.request)
        assert placement.care_home_id == award.bid.care_home_id
        assert placement.weekly_fee == award.bid.weekly_fee
        assert placement.top_up_weekly_amount == award.top_up_weekly_amount
    awarded = Tender.objects.filter(status=Tender.Status.AWARDED).count()
    assert Award.objects.count() == awarded
    assert PlacementRequest.objects.filter(status=PlacementRequest.Status.PLACED).count() == awarded


def test_bids_are_ranked_once_each_on_evaluated_tenders_only(loaded):
    for tender in Tender.objects.annotate(n=Count("bids")):
        ranks = sorted(tender.bids.values_list("rank", flat=True), key=lambda r: r or 0)
        if tender.status in (Tender.Status.EVALUATED, Tender.Status.AWARDED):
            assert ranks == list(range(1, tender.n + 1))
        else:
            assert set(ranks) <= {None}
        assert tender.closes_at > tender.opened_at
    assert not Bid.objects.exclude(invitation__tender=F("tender")).exists()
    assert not Bid.objects.exclude(invitation__care_home=F("care_home")).exists()
    assert not Bid.objects.exclude(provider=F("care_home__provider")).exists()
    assert not Bid.objects.filter(
        Q(submitted_at__lt=F("tender__opened_at")) | Q(submitted_at__gte=F("tender__closes_at"))
    ).exists()
    assert Invitation.objects.count() > Bid.objects.count()
    # Invited homes are admitted on the tender's lot by the tender's commissioning body.
    invited = Invitation.objects.values_list("care_home", "tender__request__commissioner", "tender__request__lot")
    admitted = set(
        Admission.objects.filter(status=Admission.Status.ADMITTED).values_list("care_home", "commissioner", "lot")
    )
    assert set(invited) <= admitted


def test_every_kind_of_tender_outcome_is_present(loaded):
    statuses = set(Tender.objects.values_list("status", flat=True))
    assert {Tender.Status.AWARDED, Tender.Status.EVALUATED, Tender.Status.CLOSED} <= statuses
    assert not Tender.objects.filter(status=Tender.Status.OPEN).exists()


def test_sourcing_is_seasonal_more_in_winter_than_in_summer(loaded):
    months = Counter(
        Placement.objects.filter(source=Placement.Source.IMPORTED).values_list("requested_at__month", flat=True)
    )
    winter = months[12] + months[1] + months[2]
    summer = months[6] + months[7] + months[8]
    assert winter > summer * 1.15


def test_models_validate_a_sample_of_each(loaded):
    for model in (CareHome, Admission, PlacementRequest, Tender, Bid, Placement, Vacancy, BlockContract):
        for row in model.objects.all()[:5]:
            row.full_clean()


def test_a_second_run_adds_a_second_set_beside_the_first(loaded):
    call_command("generate_load_data", scale=0.001, seed=8)
    assert CareHome.objects.count() == 30
    assert Placement.objects.count() == 2000
    assert Organisation.objects.filter(kind="council").count() == 4
