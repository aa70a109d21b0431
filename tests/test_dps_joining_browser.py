"""In a real browser (its own CSRF cookie and Origin): a provider registers itself with field errors
first, confirms by its link and signs in; a commissioner sets the questionnaire, the documents it
requires and an extension of the DPS; the provider uploads a document and applies with its answers;
the commissioner admits the home."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import Notification
from lots.services import dps_agreement_create
from organisations.models import User
from providers.models import Admission

from .browser import share_session
from .factories import CareHomeFactory

PASSWORD = "a-long-and-unusual-passphrase-2026"


def fill_date(page, name: str, day) -> None:
    page.fill(f"#id_{name}_0", str(day.day))
    page.fill(f"#id_{name}_1", str(day.month))
    page.fill(f"#id_{name}_2", str(day.year))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_provider_registers_itself_in_a_browser_with_field_errors_then_confirms_and_signs_in(
    reference_data, live_server, browser_page
):
    CareHomeFactory(provider__cqc_provider_id="1-808080808", cqc_provider_id="1-808080808", name="Lakeside View")
    page = browser_page
    page.goto(f"{live_server.url}/sign-up/")
    page.get_by_label("Name of your organisation").fill("Lakeside Care Ltd")
    page.get_by_label("CQC provider id").fill("1-000")
    page.get_by_label("Your full name").fill("Rhian Evans")
    page.get_by_label("Your e-mail address").fill("rhian@lakeside")
    page.get_by_role("button", name="Register").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter an e-mail address in the correct format")

    page.get_by_label("Your e-mail address").fill("rhian@lakeside.example")
    page.get_by_role("button", name="Register").click()
    expect(summary).to_contain_text("lists no care home under this provider id")
    expect(page.locator("#cqc_provider_id-error, .govuk-error-message").first).to_be_visible()

    page.get_by_label("CQC provider id").fill("1-808080808")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    user = User.objects.get(email="rhian@lakeside.example")
    assert not user.is_active
    link = Notification.objects.get(recipient=user, verb="providers.provider.registered").link
    page.goto(f"{live_server.url}{link}")
    expect(page.get_by_role("heading", name="Confirm your registration")).to_be_visible()
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.get_by_role("button", name="Confirm and set password").click()
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    page.get_by_label("E-mail address").fill("rhian@lakeside.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/provider/homes/")
    expect(page.get_by_text("Lakeside View")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_questionnaire_documents_extension_application_and_admission_through_the_pages(
    reference_data, live_server, browser_page, council_a, commissioner_a, provider_a, provider_user_a, tmp_path
):
    today = timezone.localdate()
    dps = dps_agreement_create(
        commissioner=council_a,
        title="Care homes DPS",
        procurement_regime="pcr_2015_light_touch",
        starts_on=date(2021, 10, 1),
        ends_on=today + timedelta(days=100),
        extension_options=[(12, today + timedelta(days=50))],
    )
    home = CareHomeFactory(provider=provider_a, name="Brook House", rating="Good")
    page = browser_page

    share_session(page.context, live_server, commissioner_a)
    page.goto(f"{live_server.url}/commissioner/lots/dps/")
    page.get_by_role("link", name=re.compile("Record its exercise")).click()
    page.get_by_role("button", name="Record the extension").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the date of the decision")
    page.get_by_label("Decision reference").fill("Cabinet decision CAB-2026-12")
    fill_date(page, "decided_on", today)
    page.get_by_role("button", name="Record the extension").click()
    expect(page.get_by_text("The DPS now runs to")).to_be_visible()
    assert dps.extensions.get().decision_reference == "Cabinet decision CAB-2026-12"

    page.goto(f"{live_server.url}/commissioner/questionnaire/")
    page.get_by_label("Lot", exact=True).select_option(label="Lot 1: Older people residential")
    page.get_by_label("Question", exact=True).fill("Does the home have a registered manager in post?")
    page.get_by_label("Yes or no").check()
    page.get_by_label("Answer required (optional)").fill("yes")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_text("Question added.")).to_be_visible()

    page.goto(f"{live_server.url}/commissioner/document-requirements/")
    page.get_by_label("Kind of document").select_option(label="Public liability insurance")
    page.get_by_label("Every home on our DPS must keep this document in date").check()
    page.get_by_label("When it expires, stop new placements").check()
    page.get_by_role("button", name="Save setting").click()
    expect(page.get_by_text("Document setting saved.")).to_be_visible()

    share_session(page.context, live_server, provider_user_a)
    page.goto(f"{live_server.url}/provider/homes/{home.pk}/documents/")
    document = tmp_path / "public-liability.pdf"
    document.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    page.get_by_label("Kind of document").select_option(label="Public liability insurance")
    page.get_by_label("The document").set_input_files(str(document))
    fill_date(page, "expires_on", today + timedelta(days=365))
    page.get_by_role("button", name="Upload document").click()
    expect(page.get_by_text("Public liability insurance uploaded")).to_be_visible()

    page.goto(f"{live_server.url}/provider/homes/{home.pk}/apply/")
    page.get_by_role("link", name=f"Apply to {council_a.name}").click()
    page.get_by_label("Lot 1: Older people residential").check()
    page.get_by_label("Your usual weekly fee").fill("875")
    page.get_by_label("The home holds employer's").check()
    fill_date(page, "insurance_expires_on", today + timedelta(days=200))
    page.get_by_label("I accept the DPS terms and conditions").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Answer this question.")
    page.get_by_role("group", name=re.compile("registered manager")).get_by_label("Yes").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text(f"Application sent to {council_a.name}.")).to_be_visible()

    admission = Admission.objects.get(care_home=home)
    share_session(page.context, live_server, commissioner_a)
    page.goto(f"{live_server.url}/commissioner/applications/{admission.pk}/")
    expect(page.get_by_text("Met", exact=True)).to_be_visible()
    page.get_by_label("Admit to the lot").check()
    page.get_by_label("Reason for the decision").fill("Meets the selection criteria")
    page.get_by_role("button", name="Record decision").click()
    admission.refresh_from_db()
    assert admission.status == Admission.Status.ADMITTED
