"""Server-drawn SVG line chart of timeliness: no script, readable without styles, with a text alternative."""

from dataclasses import dataclass
from decimal import Decimal

from .reports.common import month_label
from .reports.timeliness import Timeliness

WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 40, 16, 56
# GOV.UK palette colours, distinct enough to tell ten lines apart with the legend's labels.
COLOURS = [
    "#1d70b8",
    "#d4351c",
    "#00703c",
    "#f47738",
    "#4c2c92",
    "#912b88",
    "#28a197",
    "#801650",
    "#5694ca",
    "#85994b",
]


@dataclass
class Series:
    label: str
    colour: str
    path: str
    points: list[tuple[float, float, str]]
    width: int = 2


@dataclass
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    plot_right: int
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    target_y: float
    target_label: str
    series: list[Series]
    description: str


def _path(points: list[tuple[float, float, str] | None]) -> str:
    """A line through the points, broken where a month has nothing sourced."""
    commands, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(commands)


def timeliness_chart(report: Timeliness) -> Chart:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    count = len(report.rows)
    step = plot_width / max(count - 1, 1)

    def x(index: int) -> float:
        return LEFT + (index * step if count > 1 else plot_width / 2)

    def y(value: Decimal) -> float:
        return TOP + plot_height * (1 - float(value) / 100)

    def points_for(cells) -> list:
        return [
            None
            if cell.percent is None
            else (x(index), y(cell.percent), f"{month_label(report.rows[index].month)}: {cell.percent}%")
            for index, cell in enumerate(cells)
        ]

    series = []
    for position, lot in enumerate(report.lots):
        points = points_for([row.cells[position] for row in report.rows])
        series.append(
            Series(
                f"Lot {lot.number}",
                COLOURS[position % len(COLOURS)],
                _path(points),
                [p for p in points if p],
            )
        )
    totals = points_for([row.total for row in report.rows])
    series.append(Series("All lots", "#0b0c0c", _path(totals), [p for p in totals if p], width=4))
    label_every = max(1, count // 12 + (1 if count % 12 else 0))
    x_ticks = [(x(i), month_label(row.month)) for i, row in enumerate(report.rows) if i % label_every == 0]
    y_ticks = [(y(Decimal(v)), f"{v}%") for v in (0, 25, 50, 75, 100)]
    description = (
        f"Percentage of placements sourced within target for each lot, "
        f"{month_label(report.month_from)} to {month_label(report.month_to)}, against the target of "
        f"{report.target_percent}%. Overall {report.total.percent if report.total.percent is not None else 'no'}"
        f"{'%' if report.total.percent is not None else ' placements sourced'}. "
        f"The table gives every figure."
    )
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        RIGHT,
        TOP,
        BOTTOM,
        WIDTH - RIGHT,
        x_ticks,
        y_ticks,
        y(report.target_percent),
        f"Target {report.target_percent}%",
        series,
        description,
    )
