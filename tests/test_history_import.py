"""Importing a council's placement history: all or nothing, line-numbered errors, safe to re-run."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from dashboards.models import TimelinessMonth
from placements.models import Placement

from .factories import CareHomeFactory, OrganisationFactory

HEADER = (
    "case_reference,lot,requested_at,target_date,sourced_at,care_home_cqc_id,weekly_fee,start_date,end_date,in_county"
)


def history_row(index: int, *, care_home_cqc_id: str = "") -> str:
    requested = datetime(2022, 1, 1, 9, 0) + timedelta(hours=index % 17000)
    target = (requested + timedelta(days=5)).date()
    sourced = requested + timedelta(days=index % 9)
    fee = Decimal("700.00") + index % 400
    end = "" if index % 4 else (sourced + timedelta(days=200)).date().isoformat()
    return (
        f"HIST-{index:06d},{1 + index % 10},{requested.isoformat()}Z,{target.isoformat()},"
        f"{sourced.isoformat()}+00:00,{care_home_cqc_id},{fee},{sourced.date().isoformat()},{end},"
        f"{'yes' if index % 5 else 'no'}"
    )


def write_file(path, rows: list[str], header: str = HEADER):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def run_import(path, commissioner):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_placements", str(path), "--commissioner", commissioner.slug, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_importing_100000_rows_twice_imports_them_once(tmp_path, council_a):
    path = write_file(tmp_path / "history.csv", [history_row(i) for i in range(100_000)])

    out, _ = run_import(path, council_a)

    assert Placement.objects.filter(commissioner=council_a, source=Placement.Source.IMPORTED).count() == 100_000
    assert "Checked 100000 rows" in out
    assert "Imported 100000 of 100000 new placements" in out
    assert "100000 rows: 100000 placements imported, 0 already imported." in out

    out, _ = run_import(path, council_a)

    assert Placement.objects.count() == 100_000
    assert "100000 rows: 0 placements imported, 100000 already imported." in out
    first = Placement.objects.get(case_reference="HIST-000000")
    assert first.lot.number == 1
    assert first.weekly_fee == first.council_weekly_amount == Decimal("700.00")
    assert first.end_date == date(2022, 7, 20)
    assert first.in_county is False
    assert first.care_home is None
    assert AuditEvent.objects.filter(verb="dashboards.placement_history.imported").count() == 2


@pytest.mark.django_db
def test_a_large_file_with_bad_rows_imports_nothing_and_names_every_bad_line(tmp_path, council_a):
    rows = [history_row(i) for i in range(100_000)]

    def spoil(index: int, column: int, value: str) -> None:
        parts = rows[index].split(",")
        parts[column] = value
        rows[index] = ",".join(parts)

    spoil(3, 1, "11")  # line 5
    spoil(4, 1, "two")  # line 6
    spoil(50_000, 2, "31/12/2022 09:00")  # line 50002
    spoil(99_998, 3, "2021-12-01")  # line 100000: target before the request
    spoil(99_999, 4, "2023-01-01T10:00:00")  # line 100001: no time zone
    path = write_file(tmp_path / "history.csv", rows)
    err = io.StringIO()

    with pytest.raises(CommandError, match="5 bad rows; nothing was imported"):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)

    assert [line.split(":")[0] for line in err.getvalue().splitlines()] == [
        "line 5",
        "line 6",
        "line 50002",
        "line 100000",
        "line 100001",
    ]
    assert "lot '11' is not a lot number from 1 to 10" in err.getvalue()
    assert "requested_at '31/12/2022 09:00' is not an ISO 8601 time" in err.getvalue()
    assert "line 100000: target_date is before the request date" in err.getvalue()
    assert "sourced_at '2023-01-01T10:00:00' needs a time zone offset or Z" in err.getvalue()
    assert Placement.objects.count() == 0


@pytest.mark.django_db
def test_one_bad_row_among_100000_imports_nothing_and_reports_that_row(tmp_path, council_a):
    run_import(write_file(tmp_path / "earlier.csv", [history_row(i) for i in range(1000)]), council_a)
    summary_before = list(TimelinessMonth.objects.order_by("pk").values_list("pk", "sourced", "within_target"))
    rows = [history_row(i) for i in range(100_000)]
    rows[77_776] = rows[77_776].replace(",yes", ",perhaps")  # line 77778
    path = write_file(tmp_path / "history.csv", rows)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="The file has 1 bad row; nothing was imported"):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=out, stderr=err)

    assert err.getvalue().splitlines() == ["line 77778: in_county 'perhaps' should be yes or no"]
    assert "Checked 90000 rows" in out.getvalue()
    assert "Imported" not in out.getvalue()
    assert Placement.objects.count() == 1000
    assert list(TimelinessMonth.objects.order_by("pk").values_list("pk", "sourced", "within_target")) == (
        summary_before
    )


@pytest.mark.django_db
def test_a_text_value_with_a_nul_character_is_a_row_error(tmp_path, council_a):
    path = write_file(tmp_path / "history.csv", [history_row(1), history_row(2).replace("HIST-", "HI\x00ST-")])
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)

    assert err.getvalue() == "line 3: case_reference contains a NUL character\n"
    assert Placement.objects.count() == 0


@pytest.mark.django_db
def test_bad_rows_are_reported_with_line_number_and_reason(tmp_path, council_a):
    good = history_row(1)
    parts = good.split(",")
    rows = [
        good,
        good.replace("HIST-000001,2,", "HIST-000002,0,"),
        ",".join([*parts[:2], "yesterday", *parts[3:]]),
        ",".join([*parts[:3], "2021-06-01", *parts[4:]]),
        good.replace("HIST-000001", "HIST-000005").replace(",yes", ",maybe"),
        good,
    ]
    path = write_file(tmp_path / "history.csv", rows)
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines == [
        "line 3: lot '0' is not a lot number from 1 to 10",
        "line 4: requested_at 'yesterday' is not an ISO 8601 time such as 2023-10-31T14:30:00Z",
        "line 5: target_date is before the request date",
        "line 6: in_county 'maybe' should be yes or no",
        "line 7: repeats the case reference and start date of line 2",
    ]
    assert Placement.objects.count() == 0


@pytest.mark.django_db
def test_unknown_or_missing_columns_are_refused_before_any_row(tmp_path, council_a):
    path = write_file(tmp_path / "history.csv", [history_row(1) + ",extra"], header=HEADER + ",ward")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith("line 1: unknown columns: ward")
    header = HEADER.replace(",in_county", "")
    path = write_file(tmp_path / "short.csv", [history_row(1).rsplit(",", 1)[0]], header=header)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)
    assert "missing columns: in_county" in err.getvalue()
    assert Placement.objects.count() == 0


@pytest.mark.django_db
def test_a_known_care_home_is_linked_and_decides_in_county_when_the_column_is_empty(tmp_path, council_a):
    home_in = CareHomeFactory(cqc_location_id="1-111", local_authority="Staffordshire")
    home_out = CareHomeFactory(cqc_location_id="1-222", local_authority="Derby")
    rows = [
        history_row(1, care_home_cqc_id="1-111")[: -len(",yes")] + ",",
        history_row(2, care_home_cqc_id="1-222")[: -len(",yes")] + ",",
        history_row(3, care_home_cqc_id="1-999"),
    ]
    path = write_file(tmp_path / "history.csv", rows)

    run_import(path, council_a)

    by_case = {p.case_reference: p for p in Placement.objects.all()}
    assert by_case["HIST-000001"].care_home == home_in and by_case["HIST-000001"].in_county is True
    assert by_case["HIST-000002"].care_home == home_out and by_case["HIST-000002"].in_county is False
    assert by_case["HIST-000003"].care_home is None and by_case["HIST-000003"].in_county is True


@pytest.mark.django_db
def test_in_county_cannot_be_left_empty_for_an_unknown_home(tmp_path, council_a):
    path = write_file(tmp_path / "history.csv", [history_row(1)[: -len(",yes")] + ","])
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)

    assert "line 2: in_county is empty and the care home is not known here" in err.getvalue()


@pytest.mark.django_db
def test_a_longer_file_adds_only_the_new_rows(tmp_path, council_a, council_b):
    run_import(write_file(tmp_path / "a.csv", [history_row(i) for i in range(3)]), council_a)
    run_import(write_file(tmp_path / "b.csv", [history_row(i) for i in range(3)]), council_b)

    out, _ = run_import(write_file(tmp_path / "c.csv", [history_row(i) for i in range(5)]), council_a)

    assert "5 rows: 2 placements imported, 3 already imported." in out
    assert Placement.objects.filter(commissioner=council_a).count() == 5
    assert Placement.objects.filter(commissioner=council_b).count() == 3


@pytest.mark.django_db
def test_imported_history_counts_in_the_timeliness_dashboard(tmp_path, council_a, commissioner_a, as_user):
    rows = [
        "C1,3,2023-05-01T09:00:00+01:00,2023-05-06,2023-05-06T22:30:00Z,,900,2023-05-08,,yes",
        "C2,3,2023-05-01T09:00:00+01:00,2023-05-06,2023-05-06T23:30:00Z,,900,2023-05-08,,yes",
    ]
    run_import(write_file(tmp_path / "history.csv", rows), council_a)

    body = as_user(commissioner_a).get("/api/v1/dashboards/timeliness/?from=2023-05&to=2023-05").json()

    # 23:30 UTC on 6 May is already 7 May in London, a day late.
    assert body["months"][0]["lots"][2] == {"lot": 3, "sourced": 2, "within_target": 1, "percent": "50.0"}


@pytest.mark.django_db
def test_commissioner_option_is_needed_only_when_there_are_several_bodies(tmp_path, council_a):
    path = write_file(tmp_path / "history.csv", [history_row(1)])

    call_command("import_placements", str(path), stdout=io.StringIO())
    assert Placement.objects.get().commissioner == council_a

    OrganisationFactory(slug="another-council")
    with pytest.raises(CommandError, match="--commissioner"):
        call_command("import_placements", str(path), stdout=io.StringIO())
    with pytest.raises(CommandError, match="No commissioning body"):
        call_command("import_placements", str(path), "--commissioner", "nowhere", stdout=io.StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("fee", ["1E+30", "9e999", "-5", "12.345"])
def test_a_fee_too_large_or_not_in_pence_is_a_row_error_not_a_crash(tmp_path, council_a, fee):
    parts = history_row(1).split(",")
    path = write_file(tmp_path / "history.csv", [",".join([*parts[:6], fee, *parts[7:]])])
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_placements", str(path), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith(f"line 2: weekly_fee '{fee}' is ")
    assert Placement.objects.count() == 0


SHARES_HEADER = (
    HEADER + ",contribution_weekly,contribution_payer,contribution_route,top_up_weekly,top_up_payer,"
    "fnc_weekly,nhs_payer"
)


@pytest.mark.django_db
def test_optional_share_columns_become_funding_shares_and_bad_ones_import_nothing(tmp_path, council_a):
    from contracts.selectors import shares_on

    base = history_row(3)  # lot 4, fee 703.00, no end date
    rows = [
        base + ",120.50,Mrs Three,net,40.00,Her son,235.88,Staffs ICB",
        history_row(6) + ",,,,,,,",
    ]
    path = write_file(tmp_path / "shares.csv", rows, header=SHARES_HEADER)
    run_import(path, council_a)

    with_shares = Placement.objects.get(case_reference="HIST-000003")
    assert (with_shares.council_weekly_amount, with_shares.top_up_weekly_amount, with_shares.top_up_payer) == (
        Decimal("663.00"),
        Decimal("40.00"),
        "Her son",
    )
    shares = {(s.payer_type, s.payer, s.route): s.weekly_amount for s in shares_on(with_shares, with_shares.start_date)}
    # The council pays the rest: 703.00 - 120.50 - 40.00 - 235.88 = 306.62.
    assert shares == {
        ("council", council_a.name, "gross"): Decimal("306.62"),
        ("contribution", "Mrs Three", "net"): Decimal("120.50"),
        ("top_up", "Her son", "gross"): Decimal("40.00"),
        ("fnc", "Staffs ICB", "net"): Decimal("235.88"),
    }
    plain = Placement.objects.get(case_reference="HIST-000006")
    assert [s.payer_type for s in shares_on(plain, plain.start_date)] == ["council"]
    assert not plain.funding_shares.exists()

    bad = write_file(
        tmp_path / "bad.csv",
        [
            history_row(7) + ",900.00,Mr Seven,gross,,,,",
            history_row(8) + ",50.00,,sideways,,,10.00,",
        ],
        header=SHARES_HEADER,
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_placements", str(bad), "--commissioner", council_a.slug, stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 2: the share columns add up to more than weekly_fee",
        "line 3: contribution_payer is empty: name who pays the contribution_weekly; contribution_route 'sideways' "
        "should be gross or net; nhs_payer is empty: name the NHS body that pays the fnc_weekly",
    ]
    assert not Placement.objects.filter(case_reference__in=["HIST-000007", "HIST-000008"]).exists()
