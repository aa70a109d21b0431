"""The service agreement as a PDF document."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .models import Route, ServiceAgreement

ROUTES = {Route.GROSS: "gross: paid by the council, which collects it", Route.NET: "net: paid to the home directly"}

DATE_FORMAT = "%d %B %Y"


def _text(value) -> str:
    # The built-in PDF fonts cover Latin-1 only; anything else would stop the document.
    return str(value).replace("\u2013", "-").replace("\u2019", "'").encode("latin-1", "replace").decode("latin-1")


def _money(amount) -> str:
    return f"\u00a3{amount:,.2f}"


def agreement_pdf(agreement: ServiceAgreement) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Individual service agreement {agreement.reference}"))
    pdf.set_author(_text(agreement.commissioner_name))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, "Individual service agreement", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0,
        6,
        _text(
            f"Reference {agreement.reference}. Version {agreement.version} "
            f"({agreement.get_reason_display()}), issued {timezone.localtime(agreement.created_at):{DATE_FORMAT}}. "
            f"Terms version {agreement.terms_version}."
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)

    def section(title: str, rows: list[tuple[str, str]]) -> None:
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for label, value in rows:
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(60, 6, _text(label))
            pdf.set_font("Helvetica", "", 10)
            pdf.multi_cell(0, 6, _text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)

    section(
        "Parties",
        [
            ("Commissioner", agreement.commissioner_name),
            ("Provider", agreement.provider_name),
        ],
    )
    section(
        "Placement",
        [
            ("Case reference", agreement.case_reference),
            ("Care home", agreement.care_home_name),
            ("Address", agreement.care_home_address),
            ("CQC location id", agreement.cqc_location_id),
            ("Lot", agreement.lot_name),
            ("Start date", f"{agreement.start_date:{DATE_FORMAT}}"),
            ("End date", f"{agreement.end_date:{DATE_FORMAT}}" if agreement.end_date else "Not set"),
        ],
    )
    fee_rows = [
        ("Weekly fee", _money(agreement.weekly_fee)),
        ("Paid by the council", _money(agreement.council_weekly_amount)),
        ("Third-party top-up", _money(agreement.top_up_weekly_amount)),
    ]
    if agreement.top_up_weekly_amount:
        fee_rows.append(("Top-up paid by", agreement.top_up_payer or "Not recorded"))
    fee_rows.append(("Fee in force from", f"{agreement.fee_effective_from:{DATE_FORMAT}}"))
    section("Fee", fee_rows)
    if agreement.funding_shares:
        section(
            "Who pays",
            [
                (
                    share.get("payer_type_label", share["payer_type"]),
                    f"{_money(Decimal(share['weekly_amount']))} a week by {share['payer']} "
                    f"({ROUTES.get(share['route'], share['route'])}), from "
                    f"{dt.date.fromisoformat(share['effective_from']):{DATE_FORMAT}}",
                )
                for share in agreement.funding_shares
            ],
        )
    if agreement.top_up_terms:
        section("Top-up agreement", [("Agreed", agreement.top_up_terms)])
    if agreement.payment_terms:
        section("Absences and deaths", [("Payment rules", agreement.payment_terms)])
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(
        0,
        6,
        "The provider is paid for each day of the placement at the weekly fee divided by seven. "
        "This agreement is a call-off under the commissioner's Dynamic Purchasing System for care "
        "homes and is governed by the terms version shown above.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)
    if agreement.is_accepted:
        accepted_at = timezone.localtime(agreement.accepted_at)
        accepted = f"Accepted by {agreement.accepted_by} on {accepted_at:{DATE_FORMAT} at %H:%M}."
    else:
        accepted = "Not yet accepted by the provider."
    pdf.multi_cell(0, 6, _text(accepted), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
