"""Block contract rates become a dated history, and each contract states its uplift rule.

Every existing contract gets its current rate as its first rate row, from its start date.
A contract with a yearly uplift percentage becomes fixed-annual; the rest as negotiated.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_rates_into_history(apps, schema_editor):
    BlockContract = apps.get_model("blockbeds", "BlockContract")
    BlockContractRate = apps.get_model("blockbeds", "BlockContractRate")
    BlockContractRate.objects.bulk_create(
        BlockContractRate(
            contract_id=contract.pk,
            effective_from=contract.start_date,
            weekly_rate=contract.weekly_rate,
            reason="initial",
            basis="Rate held on the contract before rates had a history.",
            created_by_id=contract.created_by_id,
        )
        for contract in BlockContract.objects.all().iterator()
    )
    BlockContract.objects.filter(uplift_percentage__gt=0).update(uplift_basis="fixed_annual")
    BlockContract.objects.filter(uplift_percentage__lte=0).update(uplift_percentage=None)


def copy_rates_back(apps, schema_editor):
    """Going back keeps the rate in force today on each contract."""
    import datetime as dt

    BlockContract = apps.get_model("blockbeds", "BlockContract")
    BlockContractRate = apps.get_model("blockbeds", "BlockContractRate")
    today = dt.date.today()
    for contract in BlockContract.objects.all().iterator():
        rates = BlockContractRate.objects.filter(contract_id=contract.pk).order_by("effective_from")
        current = rates.filter(effective_from__lte=today).last() or rates.first()
        if current is not None:
            contract.weekly_rate = current.weekly_rate
            contract.save(update_fields=["weekly_rate"])


class Migration(migrations.Migration):
    dependencies = [
        ("blockbeds", "0002_occupancy_no_overlap"),
        ("contracts", "0002_uplift_block_count"),
        ("lots", "0003_the_ten_lots"),
        ("organisations", "0001_initial"),
        ("providers", "0004_dps_membership"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BlockContractRate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("effective_from", models.DateField()),
                (
                    "weekly_rate",
                    models.DecimalField(
                        decimal_places=2,
                        help_text="Per bed per week.",
                        max_digits=10,
                        validators=[django.core.validators.MinValueValidator(0)],
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("initial", "Rate agreed at contract"),
                            ("uplift", "Fee uplift"),
                            ("negotiated", "Negotiated change"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "basis",
                    models.TextField(
                        blank=True, help_text="Why the rate changed: the rule applied or the agreement made."
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["contract_id", "effective_from"],
            },
        ),
        migrations.AddField(
            model_name="blockcontractrate",
            name="contract",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="rates", to="blockbeds.blockcontract"
            ),
        ),
        migrations.AddField(
            model_name="blockcontractrate",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="blockcontractrate",
            name="uplift",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="block_rates",
                to="contracts.uplift",
            ),
        ),
        migrations.AddField(
            model_name="blockcontract",
            name="uplift_basis",
            field=models.CharField(
                choices=[
                    ("fixed_annual", "Fixed percentage on each anniversary"),
                    ("index_linked", "Index-linked"),
                    ("negotiated", "As negotiated"),
                ],
                default="negotiated",
                help_text="How the weekly rate follows the commissioner's fee uplifts.",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="blockcontract",
            name="uplift_index",
            field=models.CharField(
                blank=True, help_text="The index the rate follows, e.g. CPI (12 months to January).", max_length=120
            ),
        ),
        migrations.RunPython(copy_rates_into_history, migrations.RunPython.noop),
        # Going back, the column comes back empty and is filled before it is required again.
        migrations.AlterField(
            model_name="blockcontract",
            name="weekly_rate",
            field=models.DecimalField(
                decimal_places=2,
                help_text="Per bed per week.",
                max_digits=10,
                null=True,
                validators=[django.core.validators.MinValueValidator(0)],
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, copy_rates_back),
        migrations.RemoveField(
            model_name="blockcontract",
            name="weekly_rate",
        ),
        migrations.AlterField(
            model_name="blockcontract",
            name="uplift_percentage",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="Fixed annual uplift, per cent, applied on each anniversary of the start date.",
                max_digits=5,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0.01")),
                    django.core.validators.MaxValueValidator(100),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="blockcontract",
            name="uplift_rule",
            field=models.TextField(blank=True, help_text="Anything else agreed about uplifts."),
        ),
        migrations.AddConstraint(
            model_name="blockcontract",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("uplift_basis", "fixed_annual"), _negated=True),
                    ("uplift_percentage__isnull", False),
                    _connector="OR",
                ),
                name="blockcontract_fixed_uplift_has_percentage",
            ),
        ),
        migrations.AddConstraint(
            model_name="blockcontract",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("uplift_basis", "index_linked"), _negated=True),
                    models.Q(("uplift_index", ""), _negated=True),
                    _connector="OR",
                ),
                name="blockcontract_index_uplift_names_index",
            ),
        ),
        migrations.AddConstraint(
            model_name="blockcontractrate",
            constraint=models.UniqueConstraint(fields=("contract", "effective_from"), name="blockrate_one_per_day"),
        ),
        migrations.AddConstraint(
            model_name="blockcontractrate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("uplift__isnull", False)),
                fields=("uplift", "contract"),
                name="blockrate_once_per_uplift",
            ),
        ),
        migrations.AddConstraint(
            model_name="blockcontractrate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("reason", "uplift"), ("uplift__isnull", False)),
                    models.Q(models.Q(("reason", "uplift"), _negated=True), ("uplift__isnull", True)),
                    _connector="OR",
                ),
                name="blockrate_uplift_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="blockcontractrate",
            constraint=models.CheckConstraint(
                condition=models.Q(("weekly_rate__gte", 0)), name="blockrate_not_negative"
            ),
        ),
    ]
