"""Recording CQC ratings and importing CQC location data into care homes."""

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.text import slugify

from core.audit import audit_record
from core.errors import ApplicationError
from organisations.models import Organisation
from organisations.permissions import is_commissioner, require
from providers.models import CareHome, Specialism

from .cqc import CqcLocation, CqcRating, CqcRecordError, location_from_api
from .models import KEY_QUESTIONS, Rating, RatingValue

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


def _same_rating(current: Rating | None, overall: str, key_questions: dict, report_date: date | None) -> bool:
    if current is None:
        return False
    return (
        current.overall == overall
        and current.report_date == report_date
        and all(getattr(current, name) == key_questions.get(name, RatingValue.NOT_RATED) for name in KEY_QUESTIONS)
    )


def rating_record(
    *,
    care_home: CareHome,
    overall: str,
    key_questions: dict[str, str] | None = None,
    report_date: date | None = None,
    source: str = Rating.Source.MANUAL,
    actor=None,
) -> Rating | None:
    """Add a rating row and make it current; None when it repeats the current one.

    A change of the overall rating to Inadequate suspends the home's admissions at once.
    """
    if overall not in RatingValue.values:
        raise ApplicationError(f"Unknown rating {overall!r}.", code="unknown_rating", fields={"overall": "Unknown."})
    key_questions = key_questions or {}
    with transaction.atomic():
        home = CareHome.objects.select_for_update().get(pk=care_home.pk)
        # Read after taking the lock: a statement joined to the lock would see the rating row of
        # its own snapshot, and two imports of the same report would both record it.
        previous = Rating.objects.filter(pk=home.current_rating_id).first()
        if _same_rating(previous, overall, key_questions, report_date):
            return None
        if previous and previous.report_date and report_date and report_date < previous.report_date:
            # An older report arriving late (e.g. a stale spreadsheet) never replaces a newer one.
            return None
        rating = Rating.objects.create(
            care_home=home,
            overall=overall,
            report_date=report_date,
            source=source,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
            **{name: key_questions.get(name, RatingValue.NOT_RATED) for name in KEY_QUESTIONS},
        )
        home.current_rating = rating
        home.save(update_fields=["current_rating", "updated_at"])
        care_home.current_rating = rating
        audit_record(
            actor=actor,
            verb="quality.rating.recorded",
            target=home,
            detail={
                "overall": overall,
                "previous": previous.overall if previous else None,
                "report_date": report_date.isoformat() if report_date else None,
                "source": source,
            },
        )
        became_inadequate = overall == RatingValue.INADEQUATE and (
            previous is None or previous.overall != RatingValue.INADEQUATE
        )
        if became_inadequate:
            from providers.services import care_home_suspend_for_rating

            care_home_suspend_for_rating(care_home=home, rating=rating, actor=actor)
    return rating


def rating_enter(
    *, actor, care_home: CareHome, overall: str, key_questions: dict[str, str], report_date: date
) -> Rating | None:
    """A commissioner records a rating by hand, e.g. before the CQC data catches up."""
    require(is_commissioner(actor), "Only commissioners enter ratings by hand.")
    return rating_record(
        care_home=care_home,
        overall=overall,
        key_questions=key_questions,
        report_date=report_date,
        source=Rating.Source.MANUAL,
        actor=actor,
    )


def _provider_for(location: CqcLocation) -> Organisation:
    if not location.provider_id:
        raise CqcRecordError(location.location_id, "providerId is missing")
    provider = Organisation.objects.filter(cqc_provider_id=location.provider_id).first()
    if provider is not None:
        if not provider.is_provider:
            raise CqcRecordError(location.location_id, f"provider {location.provider_id} is not a care provider here")
        return provider
    # A provider CQC knows but we do not yet: the back office later adds its people to it.
    name = location.provider_name or f"CQC provider {location.provider_id}"
    return Organisation.objects.create(
        kind=Organisation.Kind.PROVIDER,
        name=name,
        slug=slugify(f"cqc-{location.provider_id}")[:60],
        cqc_provider_id=location.provider_id,
    )


HOME_FIELDS = (
    "name",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "local_authority",
    "region",
    "latitude",
    "longitude",
    "registered_beds",
    "provides_residential",
    "provides_nursing",
)


def cqc_location_import(*, location: CqcLocation, source: str = Rating.Source.CQC_API) -> Outcome:
    """Create or update one care home from a CQC location record, all or nothing."""
    if not location.is_care_home:
        return Outcome.SKIPPED
    with transaction.atomic():
        home = CareHome.objects.select_for_update().filter(cqc_location_id=location.location_id).first()
        values = {name: getattr(location, name) for name in HOME_FIELDS}
        values["name"] = values["name"][:200]
        values["registration_status"] = (
            CareHome.RegistrationStatus.REGISTERED if location.registered else CareHome.RegistrationStatus.DEREGISTERED
        )
        values["cqc_provider_id"] = location.provider_id
        created = home is None
        if created:
            if not location.registered:
                return Outcome.SKIPPED
            home = CareHome(provider=_provider_for(location), cqc_location_id=location.location_id, **values)
            changed = True
        else:
            changed = any(getattr(home, name) != value for name, value in values.items())
            for name, value in values.items():
                setattr(home, name, value)
        if changed:
            home.cqc_synced_at = timezone.now()
            home.save()
        wanted = set(Specialism.objects.filter(name__in=location.specialisms).values_list("pk", flat=True))
        have = set() if created else set(home.specialisms.values_list("pk", flat=True))
        if wanted != have:
            home.specialisms.set(wanted)
            changed = True
        if location.rating is not None:
            changed = _import_rating(home, location.rating, source) or changed
    if created:
        return Outcome.CREATED
    return Outcome.UPDATED if changed else Outcome.UNCHANGED


def _import_rating(home: CareHome, rating: CqcRating, source: str) -> bool:
    return (
        rating_record(
            care_home=home,
            overall=rating.overall,
            key_questions=rating.key_questions,
            report_date=rating.report_date,
            source=source,
        )
        is not None
    )


def cqc_directory_rating_import(*, location_id: str, rating: CqcRating) -> Outcome:
    """A rating from the care directory spreadsheet, for a home we already know."""
    home = CareHome.objects.filter(cqc_location_id=location_id).first()
    if home is None:
        return Outcome.SKIPPED
    changed = _import_rating(home, rating, Rating.Source.CQC_DIRECTORY)
    return Outcome.UPDATED if changed else Outcome.UNCHANGED


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=lambda: {outcome.value: 0 for outcome in Outcome})
    errors: list[CqcRecordError] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(self.counts.values())


def cqc_locations_import(
    *,
    records: Iterable,
    source: str = Rating.Source.CQC_API,
    progress: Callable[[int, ImportReport], None] | None = None,
    every: int = 50,
) -> ImportReport:
    """Import location records one home at a time; a bad record is reported, the rest go on."""
    report = ImportReport()
    for number, record in enumerate(records, start=1):
        try:
            if isinstance(record, CqcRecordError):
                raise record
            outcome = cqc_location_import(location=location_from_api(record), source=source)
        except CqcRecordError as error:
            report.errors.append(error)
        except (DatabaseError, ValueError) as error:
            record_id = str(record.get("locationId", "")) if isinstance(record, dict) else ""
            report.errors.append(CqcRecordError(record_id, f"could not be saved ({error})"))
        else:
            report.counts[outcome.value] += 1
        if progress and number % every == 0:
            progress(number, report)
    return report


def cqc_refresh_dps_homes(*, api=None) -> ImportReport | None:
    """Refresh every home on any DPS from the CQC API; without an API key there is nothing to do."""
    from django.conf import settings

    from .cqc import CqcApi

    if api is None:
        if not settings.CQC_API_KEY:
            logger.info("CQC refresh skipped: CQC_API_KEY is not set.")
            return None
        api = CqcApi(api_key=settings.CQC_API_KEY, base_url=settings.CQC_API_BASE_URL)
    location_ids = (
        CareHome.objects.filter(admissions__status__in=["applied", "admitted", "suspended"])
        .values_list("cqc_location_id", flat=True)
        .distinct()
        .order_by("cqc_location_id")
    )

    def records():
        for location_id in location_ids:
            try:
                yield api.location(location_id)
            except CqcRecordError as error:
                yield error

    report = cqc_locations_import(records=records())
    logger.info("CQC refresh: %s; %d errors", report.counts, len(report.errors))
    return report
