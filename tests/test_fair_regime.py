"""Each commissioning body chooses its procurement regime; names change, behaviour does not."""

import pytest
from django.urls import reverse

from fairness.models import MarketSettings, Regime
from fairness.selectors import regime_terms
from integrations.ocds import release_for, tenders_for_publication

from .fairness_world import evaluated, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    return make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)


def test_body_without_a_choice_runs_a_dps_under_the_2015_regulations(council_a):
    terms = regime_terms(council_a)
    assert terms["regime"] == Regime.PCR_2015_DPS and terms["arrangement"] == "dynamic purchasing system"


def test_dynamic_market_names_reach_pages_and_open_data(world, council_a, council_b, broker_a, as_user):
    tender, _bids = evaluated(world, {"a": "850.00"})
    MarketSettings.objects.create(commissioner=council_a, regime=Regime.PA_2023_DYNAMIC_MARKET)
    MarketSettings.objects.create(commissioner=council_b, regime=Regime.PCR_2015_DPS)
    page = as_user(broker_a).get(reverse("fairness:tender_fairness", args=[tender.pk]))
    assert "dynamic market" in page.content.decode()
    release = release_for(tenders_for_publication().get(pk=tender.pk))
    assert "dynamic market (Procurement Act 2023)" in release["tender"]["procurementMethodDetails"]
    assert regime_terms(council_b)["arrangement"] == "dynamic purchasing system"


def test_open_data_release_reads_the_regime_with_the_tender(world, django_assert_num_queries):
    tender, _bids = evaluated(world, {"a": "850.00"})
    loaded = tenders_for_publication().get(pk=tender.pk)
    with django_assert_num_queries(0):
        release_for(loaded)
