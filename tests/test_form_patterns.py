"""GOV.UK form patterns every page shares: the date input with the Design System's messages,
money fields with "£" and "a week", money shown with thousands separators, and one error summary
per page linked to its fields."""

from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse

from core.forms import DateField, MoneyField

from .factories import CareHomeFactory


class PlanForm(forms.Form):
    starts = DateField(label="Starts", what="the start date")
    fee = MoneyField(label="Weekly fee", what="a weekly fee", min_value=Decimal("0.01"))


def errors_for(data: dict) -> dict:
    form = PlanForm(data)
    form.is_valid()
    return form.errors


def dated(day="27", month="3", year="2027", fee="850") -> dict:
    return {"starts_0": day, "starts_1": month, "starts_2": year, "fee": fee}


def test_a_whole_date_is_read_from_its_three_boxes():
    form = PlanForm(dated())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["starts"].isoformat() == "2027-03-27"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (dated(day="", month="", year=""), "Enter the start date"),
        (dated(year=""), "The date must include a year"),
        (dated(day="", month=""), "The date must include a day and a month"),
        (dated(day="31", month="2"), "Enter a real date"),
        (dated(month="March"), "Enter a real date"),
        (dated(year="27"), "The year must include 4 numbers"),
    ],
)
def test_dates_are_refused_in_the_design_systems_words(data, message):
    assert errors_for(data)["starts"] == [message]


@pytest.mark.parametrize(("typed", "amount"), [("850", "850"), ("£1,200.50", "1200.50"), (" 99999.99 ", "99999.99")])
def test_money_may_be_typed_as_people_write_it(typed, amount):
    form = PlanForm(dated(fee=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["fee"] == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12345678901", "Enter a weekly fee of £99,999.99 or less"),
        ("100000", "Enter a weekly fee of £99,999.99 or less"),
        ("850.505", "Enter a weekly fee to the nearest penny, like 850.50"),
        ("lots", "Enter a weekly fee in pounds and pence, like 850 or 850.50"),
        ("0", "Enter a weekly fee above zero"),
        ("", "Enter a weekly fee"),
    ],
)
def test_money_is_refused_in_plain_english(typed, message):
    assert errors_for(dated(fee=typed))["fee"] == [message]


def test_a_money_field_shows_pounds_before_and_a_week_after():
    html = str(PlanForm()["fee"])
    assert 'class="govuk-input__prefix" aria-hidden="true">£<' in html
    assert 'class="govuk-input__suffix" aria-hidden="true">a week<' in html
    assert "govuk-input--width-5" in html


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("1268601.32"), "£1,268,601.32"), (Decimal("850"), "£850.00"), ("-12.5", "-£12.50"), (None, "")],
)
def test_money_is_shown_with_thousands_separators(value, shown):
    assert Template("{% load govuk %}{{ value|money }}").render(Context({"value": value})) == shown


@pytest.mark.django_db
def test_the_request_form_uses_the_date_input_and_money_patterns(broker_a, as_user):
    page = as_user(broker_a).get(reverse("placements:request_create")).content.decode()

    assert 'class="govuk-date-input"' in page
    assert 'id="id_needed_from_0"' in page and 'id="id_needed_from_2"' in page
    assert 'type="date"' not in page
    assert "govuk-input__prefix" in page


@pytest.mark.django_db
def test_a_refused_request_shows_one_summary_in_plain_english(broker_a, as_user):
    response = as_user(broker_a).post(
        reverse("placements:request_create"),
        {"case_reference": "X", "needs_summary": "x", "max_weekly_rate": "12345678901", "needed_from_2": "2027"},
    )

    page = response.content.decode()
    assert page.count('class="govuk-error-summary"') == 1
    assert "Enter a maximum weekly rate of £99,999.99 or less" in page
    assert "Ensure that there are no more than" not in page
    assert 'href="#id_needed_from_0"' in page
    assert "The date must include a day and a month" in page


@pytest.mark.django_db
def test_the_vacancies_form_shows_an_error_summary(provider_a, provider_user_a, as_user):
    home = CareHomeFactory(provider=provider_a)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "0",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-beds_free": "2",
        "form-0-available_from_0": "31",
        "form-0-available_from_1": "2",
        "form-0-available_from_2": "2027",
    }

    response = as_user(provider_user_a).post(reverse("providers:home_vacancies", args=[home.pk]), data)

    page = response.content.decode()
    assert page.count('class="govuk-error-summary"') == 1
    assert 'href="#id_form-0-available_from_0">Enter a real date' in page
