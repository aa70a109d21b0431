"""Each existing placement's fee split (council and top-up, per fee period) becomes its funding
shares, then a deferred trigger holds the rule that a placement's shares add up to its fee on
every day."""

import datetime as dt

from django.db import migrations

CHECK_FUNCTION = """
CREATE OR REPLACE FUNCTION contracts_funding_shares_check(pid bigint) RETURNS void AS $$
DECLARE
    p record;
    d date;
    fee numeric;
    total numeric;
    first_from date;
BEGIN
    SELECT id, start_date, end_date, weekly_fee INTO p FROM placements_placement WHERE id = pid;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- A placement with no shares recorded is funded as its own council and top-up split says.
    IF NOT EXISTS (
        SELECT 1 FROM contracts_fundingshare WHERE placement_id = pid AND superseded_at IS NULL
    ) THEN
        RETURN;
    END IF;
    -- As with fees, the first shares cover the placement's start even if the start moved earlier.
    SELECT MIN(effective_from) INTO first_from FROM contracts_fundingshare
        WHERE placement_id = pid AND superseded_at IS NULL;
    -- Shares and fees change only on these days, so checking them checks every day.
    FOR d IN
        SELECT DISTINCT x FROM (
            SELECT p.start_date AS x
            UNION SELECT effective_from FROM contracts_fundingshare
                WHERE placement_id = pid AND superseded_at IS NULL
            UNION SELECT effective_to + 1 FROM contracts_fundingshare
                WHERE placement_id = pid AND superseded_at IS NULL AND effective_to IS NOT NULL
            UNION SELECT effective_from FROM contracts_feeperiod WHERE placement_id = pid
        ) AS days
        WHERE x >= p.start_date AND (p.end_date IS NULL OR x <= p.end_date)
    LOOP
        fee := COALESCE(
            (SELECT weekly_fee FROM contracts_feeperiod
                WHERE placement_id = pid AND effective_from <= d ORDER BY effective_from DESC LIMIT 1),
            (SELECT weekly_fee FROM contracts_feeperiod WHERE placement_id = pid ORDER BY effective_from LIMIT 1),
            p.weekly_fee
        );
        SELECT COALESCE(SUM(weekly_amount), 0) INTO total FROM contracts_fundingshare
            WHERE placement_id = pid AND superseded_at IS NULL
            AND (effective_from <= d OR effective_from = first_from)
            AND (effective_to IS NULL OR effective_to >= d);
        IF total <> fee THEN
            RAISE EXCEPTION 'funding shares of placement % add up to % on %, not its weekly fee %', pid, total, d, fee
                USING ERRCODE = 'check_violation', CONSTRAINT = 'fundingshare_sum_is_fee';
        END IF;
    END LOOP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION contracts_funding_shares_trigger() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'placements_placement' THEN
        PERFORM contracts_funding_shares_check(NEW.id);
    ELSE
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM contracts_funding_shares_check(OLD.placement_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM contracts_funding_shares_check(NEW.placement_id);
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER fundingshare_sum_is_fee AFTER INSERT OR UPDATE OR DELETE ON contracts_fundingshare
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contracts_funding_shares_trigger();
CREATE CONSTRAINT TRIGGER feeperiod_shares_sum_is_fee AFTER INSERT OR UPDATE OR DELETE ON contracts_feeperiod
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contracts_funding_shares_trigger();
CREATE CONSTRAINT TRIGGER placement_shares_sum_is_fee
    AFTER UPDATE OF weekly_fee, start_date, end_date ON placements_placement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contracts_funding_shares_trigger();
"""

DROP = """
DROP TRIGGER IF EXISTS placement_shares_sum_is_fee ON placements_placement;
DROP TRIGGER IF EXISTS feeperiod_shares_sum_is_fee ON contracts_feeperiod;
DROP TRIGGER IF EXISTS fundingshare_sum_is_fee ON contracts_fundingshare;
DROP FUNCTION IF EXISTS contracts_funding_shares_trigger();
DROP FUNCTION IF EXISTS contracts_funding_shares_check(bigint);
"""

BATCH = 2000


def shares_from_fees(apps, schema_editor):
    Placement = apps.get_model("placements", "Placement")
    FeePeriod = apps.get_model("contracts", "FeePeriod")
    FundingShare = apps.get_model("contracts", "FundingShare")
    periods: dict[int, list] = {}
    for period in FeePeriod.objects.order_by("placement_id", "effective_from").iterator(chunk_size=BATCH):
        periods.setdefault(period.placement_id, []).append(period)
    rows = []
    for placement in Placement.objects.order_by("pk").iterator(chunk_size=BATCH):
        history = periods.get(placement.pk) or [placement]
        for index, fee in enumerate(history):
            start = getattr(fee, "effective_from", placement.start_date)
            if index == 0:
                start = min(start, placement.start_date)
            end = history[index + 1].effective_from - dt.timedelta(days=1) if index + 1 < len(history) else None
            common = {"placement_id": placement.pk, "effective_from": start, "effective_to": end}
            reason = "initial" if index == 0 else ("uplift" if fee.reason == "uplift" else "fee_change")
            rows.append(
                FundingShare(
                    payer_type="council",
                    payer_organisation_id=placement.commissioner_id,
                    route="gross",
                    weekly_amount=fee.council_weekly_amount,
                    reason=reason,
                    **common,
                )
            )
            if fee.top_up_weekly_amount:
                rows.append(
                    FundingShare(
                        payer_type="top_up",
                        payer_name=placement.top_up_payer or "Top-up payer (not recorded)",
                        route="gross",
                        weekly_amount=fee.top_up_weekly_amount,
                        reason=reason,
                        **common,
                    )
                )
        if len(rows) >= BATCH:
            FundingShare.objects.bulk_create(rows)
            rows = []
    FundingShare.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0003_funding_shares"),
        ("placements", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(shares_from_fees, migrations.RunPython.noop),
        migrations.RunSQL(CHECK_FUNCTION, DROP),
    ]
