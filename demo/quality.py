"""Demo quality work for the demo council: its monitoring framework and visits with different scores,
a safeguarding concern that embargoes one home, an improvement plan with an overdue action, and a
lot whose quality score weighs monitoring. Idempotent: a second run finds what the first made."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from lots.models import Lot
from organisations.models import Organisation, Role, User
from providers.models import Admission, CareHome
from quality.models import (
    Concern,
    ImprovementAction,
    MonitoringFramework,
    MonitoringVisit,
    ProviderReturn,
    QualityScoringRule,
)
from quality.services import (
    concern_record,
    improvement_action_add,
    monitoring_framework_start,
    monitoring_visit_record,
    provider_return_submit,
    quality_scoring_rule_set,
)

# Each visited home's answers, cycled over the questions: scores from 100 down to 50.
VISIT_ANSWERS = [(4, 4), (4, 3), (3, 3), (3, 2), (2, 2)]


@transaction.atomic
def seed_quality(*, council_slug: str, stdout=None) -> None:
    council = Organisation.objects.filter(slug=council_slug).first()
    commissioner = User.objects.filter(organisation=council, role=Role.COMMISSIONER, is_service_account=False).first()
    if council is None or commissioner is None:
        return
    today = timezone.localdate()
    if not MonitoringFramework.objects.filter(commissioner=council).exists():
        monitoring_framework_start(actor=commissioner)
    questions = list(council.monitoring_framework.questions.filter(retired_at__isnull=True))
    homes = list(
        CareHome.objects.filter(admissions__commissioner=council, admissions__status=Admission.Status.ADMITTED)
        .distinct()
        .order_by("cqc_location_id")[: len(VISIT_ANSWERS)]
    )
    if not MonitoringVisit.objects.filter(commissioner=council).exists():
        for home, answers in zip(homes, VISIT_ANSWERS, strict=False):
            monitoring_visit_record(
                actor=commissioner,
                care_home=home,
                visited_on=today - timedelta(days=21),
                visitor="Contract monitoring officer",
                findings="Medicines, care plans and staffing rotas checked.",
                scores={q.pk: answers[i % 2] for i, q in enumerate(questions)},
            )
    if homes and not Concern.objects.filter(commissioner=council).exists():
        concern_record(
            actor=commissioner,
            care_home=homes[-1],
            kind=Concern.Kind.SAFEGUARDING,
            received_on=today - timedelta(days=10),
            category=Concern.Category.NEGLECT,
            severity=Concern.Severity.HIGH,
            reference="SG-DEMO-001",
            embargo=True,
            review_on=today + timedelta(days=4),
        )
        concern_record(
            actor=commissioner,
            care_home=homes[0],
            kind=Concern.Kind.COMPLAINT,
            received_on=today - timedelta(days=30),
            category=Concern.Category.CARE,
            severity=Concern.Severity.LOW,
            reference="CMP-DEMO-014",
        )
    if len(homes) > 1 and not ImprovementAction.objects.filter(commissioner=council).exists():
        for action, due_in in [
            ("Audit medicines records weekly", -5),
            ("Refresh safeguarding training for all staff", 30),
        ]:
            improvement_action_add(
                actor=commissioner,
                care_home=homes[-2],
                action=action,
                owner="Registered manager",
                due_on=today + timedelta(days=due_in),
                agreed_on=today - timedelta(days=20),
            )
    lot = Lot.objects.get(number=1)
    if not QualityScoringRule.objects.filter(commissioner=council, lot=lot).exists():
        quality_scoring_rule_set(
            actor=commissioner, lot=lot, weights={"overall": 50, "key_questions": 20, "monitoring": 30}
        )
    _seed_returns(council, homes[:3], today)
    if stdout:
        stdout.write(f"  {len(homes)} homes monitored, one under a safeguarding embargo, one with an improvement plan")


def _seed_returns(council, homes, today) -> None:
    """Each of a few homes' providers sends last year's return and this quarter's."""
    if ProviderReturn.objects.filter(commissioner=council).exists():
        return
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    for index, home in enumerate(homes):
        provider_user = User.objects.filter(
            organisation_id=home.provider_id, role=Role.PROVIDER, is_service_account=False
        ).first()
        if provider_user is None:
            continue
        for period, scale in ((str(today.year - 1), 4), (quarter, 1)):
            provider_return_submit(
                actor=provider_user,
                care_home=home,
                commissioner=council,
                period=period,
                answers={
                    "Staff in post": 40 + index,
                    "Staff vacancies": 2 + index,
                    "Agency hours in the period": 60 * scale + index * 15,
                    "Staff trained in safeguarding": 92 - index * 4,
                    "Falls": 3 * scale + index,
                    "Hospital admissions": scale + index,
                    "Complaints received": index,
                },
            )
