"""Who pays, by lot, for the placements active on a date: the mean weekly cost gross and net of the
residents' assessed contributions, the NHS share (FNC, joint funding and CHC) of the total weekly
cost, and the third-party top-ups."""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from contracts.models import NHS_PAYER_TYPES, PayerType
from contracts.selectors import funding_shares_prefetch, shares_on
from lots.models import Lot
from organisations.models import Organisation
from placements.models import Placement

from ..presentation import FundingFormat
from .common import ONE_DECIMAL, Report, money

ZERO = Decimal("0.00")


@dataclass
class FundingRow:
    """The placements of one lot (or all, for the total) and the weekly sums of their shares."""

    label: str
    lot_number: int | None = None
    placements: int = 0
    gross: Decimal = ZERO
    contributions: Decimal = ZERO
    nhs: Decimal = ZERO
    top_ups: int = 0
    top_up_weekly: Decimal = ZERO

    def add(self, fee: Decimal, contributions: Decimal, nhs: Decimal, top_up: Decimal) -> None:
        self.placements += 1
        self.gross += fee
        self.contributions += contributions
        self.nhs += nhs
        if top_up:
            self.top_ups += 1
            self.top_up_weekly += top_up

    @property
    def mean_gross(self) -> Decimal | None:
        return money(self.gross / self.placements) if self.placements else None

    @property
    def mean_net(self) -> Decimal | None:
        """The mean weekly cost less the residents' assessed contributions."""
        return money((self.gross - self.contributions) / self.placements) if self.placements else None

    @property
    def nhs_percent(self) -> Decimal | None:
        """The NHS's shares as a per cent of the total weekly cost, one decimal place, half up."""
        if not self.gross:
            return None
        return (self.nhs * 100 / self.gross).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass
class WhoPays(Report):
    at: date
    rows: list[FundingRow]
    total: FundingRow = field(default_factory=lambda: FundingRow("All lots"))

    format = FundingFormat


def who_pays(*, commissioner: Organisation, at: date) -> WhoPays:
    """Each placement active on `at` counts at the shares in force that day (its weekly fee is
    their sum). Four queries whatever the number of placements: the lots, the placements (with their
    body, which names the council's share), their fee history and their funding shares. Imported
    history without a known fee is left out."""
    rows = {lot.pk: FundingRow(f"Lot {lot.number}: {lot.name}", lot.number) for lot in Lot.objects.order_by("number")}
    report = WhoPays(at, list(rows.values()))
    placements = (
        Placement.objects.live()
        .filter(commissioner=commissioner, weekly_fee__gt=0, start_date__lte=at)
        .exclude(end_date__lt=at)
        .select_related("commissioner")
        .prefetch_related("fee_periods", funding_shares_prefetch())
        # No order: the sums do not depend on it, and the body's index finds the placements.
        .order_by()
    )
    for placement in placements:
        shares = shares_on(placement, at)
        if not shares:
            continue
        sums = dict.fromkeys(PayerType.values, ZERO)
        for share in shares:
            sums[share.payer_type] += share.weekly_amount
        figures = (
            sum(sums.values(), ZERO),
            sums[PayerType.CONTRIBUTION],
            sum((sums[t] for t in NHS_PAYER_TYPES), ZERO),
            sums[PayerType.TOP_UP],
        )
        rows[placement.lot_id].add(*figures)
        report.total.add(*figures)
    return report
