"""How each dashboard reads as JSON (the API and the export command) and as CSV (downloads and the
export command). The figures come from `dashboards.reports`; nothing here queries.

Numbers are written as text so decimals keep their places; a figure that cannot be computed
(nothing to divide) is null in JSON and an empty cell in CSV.
"""

from .reports.common import month_label


def as_text(value) -> str | None:
    return None if value is None else str(value)


def _range(report) -> dict:
    return {"from": month_label(report.month_from), "to": month_label(report.month_to)}


# Timeliness ----------------------------------------------------------------------------------


def _counts_json(cell) -> dict:
    return {"sourced": cell.sourced, "within_target": cell.within_target, "percent": as_text(cell.percent)}


def _by_lot_json(lots, cells) -> list[dict]:
    return [{"lot": lot.number, **_counts_json(cell)} for lot, cell in zip(lots, cells, strict=True)]


class TimelinessFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            **_range(report),
            "urgency": report.urgency,
            "target_percent": str(report.target_percent),
            "lots": [{"number": lot.number, "name": lot.name} for lot in report.lots],
            "months": [
                {
                    "month": month_label(row.month),
                    "lots": _by_lot_json(report.lots, row.cells),
                    "total": _counts_json(row.total),
                }
                for row in report.rows
            ],
            "lot_totals": _by_lot_json(report.lots, report.lot_totals),
            "total": _counts_json(report.total),
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        header = ["month"]
        for lot in report.lots:
            header += [f"lot {lot.number} sourced", f"lot {lot.number} within target", f"lot {lot.number} %"]
        return [*header, "total sourced", "total within target", "total %"]

    @staticmethod
    def csv_rows(report):
        def flat(cells):
            for cell in cells:
                yield from (cell.sourced, cell.within_target, as_text(cell.percent) or "")

        for row in report.rows:
            yield [month_label(row.month), *flat([*row.cells, row.total])]
        yield ["total", *flat([*report.lot_totals, report.total])]


# Placements by client group ------------------------------------------------------------------


def _client_group_json(row) -> dict:
    return {
        "client_group": row.client_group,
        "label": row.label,
        "in_county": row.in_county,
        "out_of_county": row.out_of_county,
        "total": row.total,
    }


class ClientGroupsFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            "at": report.at.isoformat(),
            "client_groups": [_client_group_json(row) for row in report.rows],
            "total": _client_group_json(report.total),
            "off_dps_choice": {
                "in_county": report.off_dps_choice.in_county,
                "out_of_county": report.off_dps_choice.out_of_county,
                "in_county_weekly_cost": as_text(report.off_dps_choice.in_county_weekly_cost),
                "out_of_county_weekly_cost": as_text(report.off_dps_choice.out_of_county_weekly_cost),
            },
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return ["client group", "in county", "out of county", "total"]

    @staticmethod
    def csv_rows(report):
        for row in [*report.rows, report.total]:
            yield [row.label, row.in_county, row.out_of_county, row.total]


# Mean gross weekly cost ----------------------------------------------------------------------


def _cost_json(cell) -> dict:
    return {"placements": cell.placements, "mean_weekly_cost": as_text(cell.mean)}


class CostFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            **_range(report),
            "months": [
                {
                    "month": month_label(month),
                    "client_groups": [
                        {"client_group": value, "label": label, **_cost_json(cell)}
                        for (value, label), cell in zip(report.groups, cells, strict=True)
                    ],
                    "total": _cost_json(total),
                }
                for month, cells, total in report.rows
            ],
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return ["month", *(label for _, label in report.groups), "all client groups"]

    @staticmethod
    def csv_rows(report):
        for month, cells, total in report.rows:
            yield [month_label(month), *(as_text(c.mean) or "" for c in [*cells, total])]


# CQC rating mix ------------------------------------------------------------------------------


def _rating_row_json(row, labels) -> dict:
    return {
        "setting": row.setting,
        "label": row.label,
        "homes": row.homes,
        "ratings": dict(zip(labels, row.ordered_counts, strict=True)),
        "rated": row.rated,
        "outstanding_or_good": row.good_or_outstanding,
        "percent_outstanding_or_good": as_text(row.share_good_or_outstanding),
    }


class RatingMixFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {"settings": [_rating_row_json(row, report.labels) for row in report.rows]}

    @staticmethod
    def csv_header(report) -> list[str]:
        return ["setting", "homes", *report.labels, "% outstanding or good of rated"]

    @staticmethod
    def csv_rows(report):
        for row in report.rows:
            yield [row.label, row.homes, *row.ordered_counts, as_text(row.share_good_or_outstanding) or ""]


# Bids per tender -----------------------------------------------------------------------------


def _bids_row_json(row) -> dict:
    return {
        "lot": row.lot.number,
        "tenders": row.tenders,
        "bids": row.bids,
        "bids_per_tender": as_text(row.bids_per_tender),
        "no_bid_tenders": row.no_bid_tenders,
        "no_bid_percent": as_text(row.no_bid_rate),
    }


class BidsFormat:
    @staticmethod
    def as_json(report) -> dict:
        total = _bids_row_json(report.total)
        total.pop("lot")
        return {**_range(report), "lots": [_bids_row_json(row) for row in report.rows], "total": total}

    @staticmethod
    def csv_header(report) -> list[str]:
        return ["lot", "closed tenders", "bids", "bids per tender", "tenders with no bids", "% with no bids"]

    @staticmethod
    def csv_rows(report):
        for row in [*report.rows, report.total]:
            yield [
                row.lot.number if row.lot.pk else "total",
                row.tenders,
                row.bids,
                as_text(row.bids_per_tender) or "",
                row.no_bid_tenders,
                as_text(row.no_bid_rate) or "",
            ]


# Market view ---------------------------------------------------------------------------------

DISTRIBUTION_PARTS = ["count", "min", "lower quartile", "median", "upper quartile", "max"]


def _distribution_json(distribution) -> dict:
    spread = distribution.spread()
    return {
        "count": spread.count,
        "min": as_text(spread.min),
        "lower_quartile": as_text(spread.lower_quartile),
        "median": as_text(spread.median),
        "upper_quartile": as_text(spread.upper_quartile),
        "max": as_text(spread.max),
    }


def _market_row_json(row) -> dict:
    return {
        "lot": row.lot,
        "area": row.area,
        "guide_weekly_fee": as_text(row.guide_fee),
        "bids": _distribution_json(row.bids),
        "bids_above_guide_fee": row.bids.above(row.guide_fee),
        "awarded": _distribution_json(row.awards),
        "awards_above_guide_fee": row.awards.above(row.guide_fee),
    }


def _blank_if_none(values) -> list:
    return [value if value is not None else "" for value in values]


class MarketFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {**_range(report), "rows": [_market_row_json(row) for row in report.rows]}

    @staticmethod
    def csv_header(report) -> list[str]:
        return [
            "lot",
            "area",
            "guide weekly fee",
            *(f"bids {p}" for p in DISTRIBUTION_PARTS),
            "bids above guide fee",
            *(f"awarded {p}" for p in DISTRIBUTION_PARTS),
            "awards above guide fee",
        ]

    @staticmethod
    def csv_rows(report):
        for row in report.rows:
            data = _market_row_json(row)
            yield [
                row.lot,
                row.area,
                data["guide_weekly_fee"] or "",
                *_blank_if_none(data["bids"].values()),
                data["bids_above_guide_fee"],
                *_blank_if_none(data["awarded"].values()),
                data["awards_above_guide_fee"],
            ]


# At-risk requests ----------------------------------------------------------------------------


def _at_risk_json(row) -> dict:
    request = row.request
    return {
        "id": request.pk,
        "case_reference": request.case_reference,
        "lot": request.lot.number,
        "status": request.status,
        "requested_at": request.requested_at.isoformat(),
        "target_date": request.target_date.isoformat(),
        "days_to_target": row.days_to_target,
        "overdue": row.overdue,
        "reason": row.reason,
        "latest_tender_closes_at": as_text(
            request.latest_tender_closes_at and request.latest_tender_closes_at.isoformat()
        ),
    }


def _overdue_review_json(review) -> dict:
    placement = review.placement
    return {
        "placement": placement.pk,
        "request": placement.request_id,
        "case_reference": placement.case_reference,
        "care_home": placement.care_home.name if placement.care_home else "",
        "lot": placement.lot.number,
        "review_on": placement.review_on.isoformat(),
        "days_overdue": review.days_overdue,
    }


class AtRiskFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            "today": report.today.isoformat(),
            "within_days": report.within_days,
            "requests": [_at_risk_json(row) for row in report.rows],
            "assessment_reviews_overdue": [_overdue_review_json(review) for review in report.reviews],
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return ["request", "case reference", "lot", "status", "target date", "days to target", "reason"]

    @staticmethod
    def csv_rows(report):
        for row in report.rows:
            yield [
                row.request.pk,
                row.request.case_reference,
                row.request.lot.number,
                row.request.get_status_display(),
                row.request.target_date.isoformat(),
                row.days_to_target,
                row.reason,
            ]
        for review in report.reviews:
            yield [
                review.placement.request_id or "",
                review.placement.case_reference,
                review.placement.lot.number,
                "Discharge-to-assess stay",
                review.placement.review_on.isoformat(),
                -review.days_overdue,
                review.reason,
            ]


# Block bed utilisation -----------------------------------------------------------------------


class BlockUtilisationFormat:
    @staticmethod
    def as_json(report) -> dict:
        overall = report.result.overall
        return {
            **_range(report),
            "at": report.result.at.isoformat(),
            "contracted": overall.contracted,
            "live": overall.live,
            "filled": overall.filled,
            "void": overall.void,
            "occupancy_percent": as_text(overall.occupancy_rate),
            "void_cost": as_text(overall.void_cost),
            "months": [
                {
                    "month": month_label(period.start),
                    "live_bed_days": period.live_bed_days,
                    "filled_bed_days": period.filled_bed_days,
                    "occupancy_percent": as_text(period.occupancy_rate),
                }
                for period in report.result.periods
            ],
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return ["month", "live bed-days", "filled bed-days", "void bed-days", "occupancy %"]

    @staticmethod
    def csv_rows(report):
        for period in report.result.periods:
            yield [
                month_label(period.start),
                period.live_bed_days,
                period.filled_bed_days,
                period.void_bed_days,
                as_text(period.occupancy_rate) or "",
            ]


# Hospital discharge and urgent sourcing -------------------------------------------------------


def _discharge_cell_json(report, urgency: str, cell) -> dict:
    return {
        "urgency": urgency,
        "referrals": cell.referrals,
        "sourced": cell.sourced,
        "median_hours": as_text(cell.median_hours),
        "p90_hours": as_text(cell.p90_hours),
        "within_target": cell.within_target,
        "percent_within_target": as_text(cell.percent_within_target),
        "delayed_days": cell.delayed_days,
        "assessment_outcomes": dict(zip((value for value, _ in report.outcomes), cell.outcomes, strict=True)),
    }


class DischargeFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            **_range(report),
            "today": report.today.isoformat(),
            "urgencies": [{"urgency": value, "label": label} for value, label in report.urgencies],
            "assessment_outcomes": [{"outcome": value, "label": label} for value, label in report.outcomes],
            "months": [
                {
                    "month": month_label(row.month),
                    "urgencies": [
                        _discharge_cell_json(report, value, cell)
                        for (value, _), cell in zip(report.urgencies, row.cells, strict=True)
                    ],
                }
                for row in report.rows
            ],
            "reviews_overdue": report.reviews_overdue,
            "vacancies": {
                "fresh_hours": report.fresh_hours,
                "rows": [
                    {
                        "area": row.area,
                        "setting": row.setting,
                        "room_type": row.room_type,
                        "homes": row.homes,
                        "fresh_beds": row.fresh_beds,
                        "stale_beds": row.stale_beds,
                        "last_confirmed_at": row.last_confirmed_at.isoformat(),
                    }
                    for row in report.vacancies
                ],
            },
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return [
            "month",
            "urgency",
            "referrals",
            "sourced",
            "median hours to sourced",
            "90th percentile hours to sourced",
            "sourced within target",
            "% within target",
            "delayed days",
            *(f"assessment outcome: {label}" for _, label in report.outcomes),
        ]

    @staticmethod
    def csv_rows(report):
        for row in report.rows:
            for (_, label), cell in zip(report.urgencies, row.cells, strict=True):
                yield [
                    month_label(row.month),
                    label,
                    cell.referrals,
                    cell.sourced,
                    as_text(cell.median_hours) or "",
                    as_text(cell.p90_hours) or "",
                    cell.within_target,
                    as_text(cell.percent_within_target) or "",
                    "" if cell.delayed_days is None else cell.delayed_days,
                    *cell.outcomes,
                ]


# Who pays ------------------------------------------------------------------------------------


def _funding_json(row) -> dict:
    return {
        "lot": row.lot_number,
        "label": row.label,
        "placements": row.placements,
        "mean_weekly_cost_gross": as_text(row.mean_gross),
        "mean_weekly_cost_net": as_text(row.mean_net),
        "weekly_cost": as_text(row.gross),
        "weekly_contributions": as_text(row.contributions),
        "weekly_nhs": as_text(row.nhs),
        "nhs_percent": as_text(row.nhs_percent),
        "top_ups": row.top_ups,
        "weekly_top_ups": as_text(row.top_up_weekly),
    }


class FundingFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            "at": report.at.isoformat(),
            "lots": [_funding_json(row) for row in report.rows],
            "total": _funding_json(report.total),
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return [
            "lot",
            "placements",
            "mean_weekly_cost_gross",
            "mean_weekly_cost_net",
            "weekly_cost",
            "weekly_contributions",
            "weekly_nhs",
            "nhs_percent",
            "top_ups",
            "weekly_top_ups",
        ]

    @staticmethod
    def csv_rows(report):
        for row in [*report.rows, report.total]:
            data = _funding_json(row)
            yield [
                row.label,
                *(data[key] if data[key] is not None else "" for key in FundingFormat.csv_header(report)[1:]),
            ]


# Market position ---------------------------------------------------------------------------------

MARKET_POSITION_HEADER = [
    "section",
    "name",
    "homes",
    "registered beds",
    "rated",
    "good or outstanding",
    "beds free",
    "body's placements",
    "all placements",
    "%",
]


class MarketPositionFormat:
    @staticmethod
    def as_json(report) -> dict:
        return {
            "at": report.at.isoformat(),
            "area": report.area,
            "by_lot": [{"lot": r.name, "homes": r.homes, "registered_beds": r.beds} for r in report.by_lot],
            "by_district": [
                {"district": r.name, "homes": r.homes, "registered_beds": r.beds} for r in report.by_district
            ],
            "good_or_outstanding": [
                {
                    "scope": s.scope,
                    "setting": s.setting,
                    "rated": s.rated,
                    "good_or_outstanding": s.good_or_outstanding,
                    "percent": as_text(s.percent),
                }
                for s in report.shares
            ],
            "vacancy": {
                "registered_beds": report.registered_beds,
                "beds_free": report.beds_free,
                "percent": as_text(report.vacancy_percent),
            },
            "placements_by_home": [
                {
                    "care_home": h.name,
                    "cqc_location_id": h.cqc_location_id,
                    "registered_beds": h.registered_beds,
                    "body_placements": h.body_placements,
                    "all_placements": h.all_placements,
                    "percent": as_text(h.percent),
                }
                for h in report.homes
            ],
        }

    @staticmethod
    def csv_header(report) -> list[str]:
        return MARKET_POSITION_HEADER

    @staticmethod
    def csv_rows(report):
        for r in report.by_lot:
            yield ["DPS by lot", r.name, r.homes, r.beds, "", "", "", "", "", ""]
        for r in report.by_district:
            yield ["DPS by district", r.name, r.homes, r.beds, "", "", "", "", "", ""]
        for s in report.shares:
            yield [
                "Good or outstanding",
                f"{s.scope}: {s.setting}",
                "",
                "",
                s.rated,
                s.good_or_outstanding,
                "",
                "",
                "",
                as_text(s.percent) or "",
            ]
        yield [
            "Vacancy",
            "DPS homes",
            "",
            report.registered_beds,
            "",
            "",
            report.beds_free,
            "",
            "",
            as_text(report.vacancy_percent) or "",
        ]
        for h in report.homes:
            yield [
                "Placements by home",
                h.name,
                "",
                h.registered_beds,
                "",
                "",
                "",
                h.body_placements,
                h.all_placements,
                as_text(h.percent) or "",
            ]
