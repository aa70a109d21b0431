"""Server-drawn SVG charts for the dashboards that run over months: no script and no style
attributes (the pages' Content-Security-Policy allows neither), readable without styles.

Each series gets a small chart of its own ("small multiples"), every one on the same scales, so
eleven lots are compared by eye without untangling eleven crossing lines; a target, where the
report has one, is drawn as a dashed line on each. Every chart carries a title and a description
that says in words what the line shows, and the report's table stays beside them with every figure.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from .reports.block_utilisation import BlockBedUtilisation
from .reports.common import month_label
from .reports.cost import MeanWeeklyCost
from .reports.timeliness import Timeliness

WIDTH, HEIGHT = 300, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 14, 12, 30
LINE = "#1d70b8"
TOTAL_LINE = "#0b0c0c"


@dataclass
class SmallChart:
    key: str
    title: str
    description: str
    path: str
    points: list[tuple[float, float, str]]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    target_y: float | None
    target_label: str
    colour: str = LINE
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


@dataclass
class Figure:
    """The small charts of one dashboard, with what they show in one sentence."""

    title: str
    summary: str
    charts: list[SmallChart]


@dataclass(frozen=True)
class Line:
    key: str
    title: str
    values: Sequence[Decimal | None]
    total: bool = False


def _path(points: Sequence[tuple[float, float, str] | None]) -> str:
    """A line through the points, broken where a month has no figure."""
    commands, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(commands)


def _nice_ceiling(value: Decimal) -> Decimal:
    """The top of a scale: the value rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return Decimal(step) * power
    return value.to_integral_value(rounding=ROUND_CEILING)


def small_multiples(
    *,
    months: Sequence[date],
    lines: Sequence[Line],
    top: Decimal,
    show: Callable[[Decimal], str],
    target: Decimal | None = None,
    describe: Callable[[Line], str],
) -> list[SmallChart]:
    """One small chart per line, all on a scale from 0 to `top` over the same months."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    count = len(months)
    step = plot_width / max(count - 1, 1)

    def x(index: int) -> float:
        return LEFT + (index * step if count > 1 else plot_width / 2)

    def y(value: Decimal) -> float:
        return TOP + plot_height * (1 - float(min(value, top)) / float(top))

    x_ticks = [(x(0), month_label(months[0]))] if months else []
    if count > 1:
        x_ticks.append((x(count - 1), month_label(months[-1])))
    y_ticks = [(y(top * share), show(top * share)) for share in (Decimal(0), Decimal("0.5"), Decimal(1))]
    charts = []
    for line in lines:
        points = [
            None if value is None else (x(index), y(value), f"{month_label(months[index])}: {show(value)}")
            for index, value in enumerate(line.values)
        ]
        charts.append(
            SmallChart(
                key=line.key,
                title=line.title,
                description=describe(line),
                path=_path(points),
                points=[point for point in points if point],
                x_ticks=x_ticks,
                y_ticks=y_ticks,
                target_y=y(target) if target is not None else None,
                target_label=f"Target {show(target)}" if target is not None else "",
                colour=TOTAL_LINE if line.total else LINE,
            )
        )
    return charts


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _latest(months: Sequence[date], values: Sequence[Decimal | None], show) -> str:
    for month, value in zip(reversed(months), reversed(values), strict=True):
        if value is not None:
            return f"latest {month_label(month)}: {show(value)}"
    return "no figures in these months"


def timeliness_figure(report: Timeliness) -> Figure:
    months = [row.month for row in report.rows]
    target = report.target_percent

    def describe(line: Line) -> str:
        shown = [value for value in line.values if value is not None]
        below = sum(1 for value in shown if value < target)
        return (
            f"{line.title}: percentage of placements sourced within target each month. "
            f"{below} of {len(shown)} months with placements below the {_percent(target)} target; "
            f"{_latest(months, line.values, _percent)}."
        )

    lines = [
        Line(f"lot-{lot.number}", f"Lot {lot.number}: {lot.name}", [row.cells[position].percent for row in report.rows])
        for position, lot in enumerate(report.lots)
    ]
    lines.append(Line("all", "All lots", [row.total.percent for row in report.rows], total=True))
    return Figure(
        "Timeliness of sourcing by lot",
        f"One chart per lot, each from 0% to 100% over {month_label(report.month_from)} to "
        f"{month_label(report.month_to)}; the dashed line is the target of {_percent(target)}.",
        small_multiples(months=months, lines=lines, top=Decimal(100), show=_percent, target=target, describe=describe),
    )


def _pounds(value: Decimal) -> str:
    return f"£{value:,.0f}"


def cost_figure(report: MeanWeeklyCost) -> Figure:
    months = report.months

    def describe(line: Line) -> str:
        shown = [value for value in line.values if value is not None]
        if not shown:
            return f"{line.title}: no placements with a fee in these months."
        return (
            f"{line.title}: mean gross weekly cost each month, from {_pounds(min(shown))} to "
            f"{_pounds(max(shown))}; {_latest(months, line.values, _pounds)}."
        )

    lines = [
        Line(f"group-{value}", label, [report.cells[index][position].mean for index in range(len(months))])
        for position, (value, label) in enumerate(report.groups)
    ]
    lines.append(Line("all", "All client groups", [cell.mean for cell in report.totals], total=True))
    highest = max((value for line in lines for value in line.values if value is not None), default=Decimal(0))
    top = _nice_ceiling(highest)
    return Figure(
        "Mean weekly cost by client group",
        f"One chart per client group, each from £0 to {_pounds(top)} over {month_label(report.month_from)} to "
        f"{month_label(report.month_to)}.",
        small_multiples(months=months, lines=lines, top=top, show=_pounds, describe=describe),
    )


def utilisation_figure(report: BlockBedUtilisation) -> Figure:
    periods = report.result.periods
    months = [period.start for period in periods]

    overall = report.result.overall.occupancy_rate

    def describe(line: Line) -> str:
        return (
            f"Occupancy of live block-booked bed-days each month; {_latest(months, line.values, _percent)}. "
            f"Over all the months: {_percent(overall) if overall is not None else 'no live beds'}."
        )

    line = Line("occupancy", "Occupancy of live block-booked beds", [p.occupancy_rate for p in periods], total=True)
    return Figure(
        "Block bed occupancy by month",
        f"Occupancy from 0% to 100% over {month_label(report.month_from)} to {month_label(report.month_to)}.",
        small_multiples(months=months, lines=[line], top=Decimal(100), show=_percent, describe=describe),
    )


FIGURES: dict[str, Callable] = {
    "timeliness": timeliness_figure,
    "mean-weekly-cost": cost_figure,
    "block-bed-utilisation": utilisation_figure,
}


def dashboard_figure(name: str, report) -> Figure | None:
    """The charts of a dashboard that runs over months; None for one that does not."""
    figure = FIGURES.get(name)
    return figure(report) if figure else None
