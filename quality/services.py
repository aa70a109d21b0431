"""Recording CQC ratings and importing CQC location data into care homes."""

import enum
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import DatabaseError, connection, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from core.audit import audit_record
from core.bulk import copy_rows
from core.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from core.metrics import import_rows_count
from core.notifications import notify_organisation
from lots.models import Lot
from organisations.models import Organisation
from organisations.permissions import is_commissioner, is_council_user, is_provider_user
from providers.models import Admission, AdmissionClosure, CareHome, Specialism
from providers.services import admission_closure_lift, admission_closure_open, care_home_suspend_for_rating
from providers.signals import care_home_deregistered

from .cqc import CqcLocation, CqcRating, CqcRecordError, location_from_api
from .models import (
    DEFAULT_MONITORING_QUESTIONS,
    DEFAULT_RETURN_MEASURES,
    KEY_QUESTIONS,
    QUALITY_PARTS,
    Concern,
    ImprovementAction,
    MonitoringAnswer,
    MonitoringFramework,
    MonitoringQuestion,
    MonitoringVisit,
    ProviderReturn,
    QualityScoringRule,
    Rating,
    RatingValue,
    ReturnAnswer,
    ReturnMeasure,
)
from .permissions import can_enter_rating, can_see_ratings_of
from .selectors import default_return_measures, returns_outstanding

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


def rating_replaces_current(
    current: Rating | None, *, overall: str, key_questions: dict, report_date: date | None
) -> bool:
    """Whether a report becomes the home's rating: it says something new, and an older report
    never replaces a newer one (a stale spreadsheet arriving late). For one rating and for a batch."""
    if _same_rating(current, overall, key_questions, report_date):
        return False
    return not (current and current.report_date and report_date and report_date < current.report_date)


def rating_change_suspends(previous: Rating | None, overall: str) -> bool:
    """Inadequate suspends: a rating that turns Inadequate suspends the home's admissions on every
    DPS at once; repeating an Inadequate rating suspends nothing new. For one rating and for a batch."""
    return overall == RatingValue.INADEQUATE and (previous is None or previous.overall != RatingValue.INADEQUATE)


CQC_SOURCES = (Rating.Source.CQC_API, Rating.Source.CQC_DIRECTORY)


def _check_authority(*, actor, care_home: CareHome, source: str, report_date: date | None) -> None:
    """A rating is the CQC's word: an Inadequate one suspends the home on every body's DPS.

    The CQC's own data arrives only through the imports, which act as nobody. A person may
    only enter a rating by hand, from the CQC's published report, and only with the permission
    for it. Anyone else is refused before anything is read or written: a home they have no
    link to is unknown to them (404), one they do know is not theirs to rate (403).
    """
    if source in CQC_SOURCES:
        if actor is not None:
            raise ForbiddenError("Only the CQC import records a rating as CQC data; a person enters one by hand.")
        return
    if source != Rating.Source.MANUAL:
        raise ApplicationError(f"Unknown rating source {source!r}.", code="unknown_source")
    if not can_enter_rating(actor):
        if not can_see_ratings_of(actor, care_home):
            raise NotFoundError("No such care home.")
        raise ForbiddenError("Only back-office staff allowed to enter CQC ratings can record one by hand.")
    if report_date is None:
        message = "Enter the date the CQC published the report."
        raise ApplicationError(message, code="report_date_required", fields={"report_date": message})
    if report_date > timezone.localdate():
        message = "The date the CQC published the report must be today or in the past."
        raise ApplicationError(message, code="report_date_in_future", fields={"report_date": message})


def rating_record(
    *,
    care_home: CareHome,
    overall: str,
    key_questions: dict[str, str] | None = None,
    report_date: date | None = None,
    source: str = Rating.Source.CQC_API,
    actor=None,
) -> Rating | None:
    """Add a rating row and make it current; None when it repeats the current one or is older.

    The one way a rating is written, by the imports (no actor, a CQC source) and by back-office
    staff entering the CQC's report by hand (their actor, the manual source); see `_check_authority`.
    A change of the overall rating to Inadequate suspends the home's admissions on every DPS at once.
    """
    _check_authority(actor=actor, care_home=care_home, source=source, report_date=report_date)
    if overall not in RatingValue.values:
        raise ApplicationError(f"Unknown rating {overall!r}.", code="unknown_rating", fields={"overall": "Unknown."})
    key_questions = key_questions or {}
    unknown = {name: "Unknown." for name, value in key_questions.items() if value not in RatingValue.values}
    if unknown:
        raise ApplicationError("Unknown key question rating.", code="unknown_rating", fields=unknown)
    with transaction.atomic():
        home = CareHome.objects.select_for_update().get(pk=care_home.pk)
        # Read after taking the lock: a statement joined to the lock would see the rating row of
        # its own snapshot, and two imports of the same report would both record it.
        previous = Rating.objects.filter(pk=home.current_rating_id).first()
        if not rating_replaces_current(previous, overall=overall, key_questions=key_questions, report_date=report_date):
            return None
        rating = Rating.objects.create(
            care_home=home,
            overall=overall,
            report_date=report_date,
            source=source,
            recorded_by=actor,
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
                "recorded_by": str(actor) if actor is not None else "CQC import",
            },
        )
        if rating_change_suspends(previous, overall):
            care_home_suspend_for_rating(care_home=home, rating=rating, actor=actor)
    return rating


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
# The import writes these text fields as CQC sends them (the name cut to fit); longer values are refused.
CHECKED_LENGTHS = {
    name: CareHome._meta.get_field(name).max_length
    for name in (*HOME_FIELDS, "cqc_location_id", "cqc_provider_id")
    if getattr(CareHome._meta.get_field(name), "max_length", None)
}


def _home_values(location: CqcLocation) -> dict:
    values = {name: getattr(location, name) for name in HOME_FIELDS}
    values["name"] = values["name"][:200]
    values["registration_status"] = (
        CareHome.RegistrationStatus.REGISTERED if location.registered else CareHome.RegistrationStatus.DEREGISTERED
    )
    values["cqc_provider_id"] = location.provider_id
    return values


def cqc_location_import(*, location: CqcLocation, source: str = Rating.Source.CQC_API) -> Outcome:
    """Create or update one care home from a CQC location record, all or nothing."""
    if not location.is_care_home:
        return Outcome.SKIPPED
    with transaction.atomic():
        home = CareHome.objects.select_for_update().filter(cqc_location_id=location.location_id).first()
        values = _home_values(location)
        created = home is None
        deregistered = False
        if created:
            if not location.registered:
                return Outcome.SKIPPED
            home = CareHome(provider=_provider_for(location), cqc_location_id=location.location_id, **values)
            changed = True
        else:
            changed = any(getattr(home, name) != value for name, value in values.items())
            deregistered = home.is_registered and not location.registered
            for name, value in values.items():
                setattr(home, name, value)
        if changed:
            home.cqc_synced_at = timezone.now()
            home.save()
        if deregistered:
            care_home_deregistered.send(sender=CareHome, care_home=home)
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


BATCH_SIZE = 1000


def cqc_locations_import(
    *,
    records: Iterable,
    source: str = Rating.Source.CQC_API,
    progress: Callable[[int, ImportReport], None] | None = None,
    every: int = 50,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import location records in batches; a bad record is reported and nothing of it written.

    Each batch is read and written set-based in one transaction. Should the database still
    refuse a batch, its homes are imported again one at a time so that only the homes at fault
    are reported and the rest go in.
    """
    report = ImportReport()
    batch: dict[str, CqcLocation] = {}
    for number, record in enumerate(records, start=1):
        try:
            if isinstance(record, CqcRecordError):
                raise record
            location = location_from_api(record)
            if location.is_care_home:
                _check_lengths(location)
        except CqcRecordError as error:
            report.errors.append(error)
        except ValueError as error:
            record_id = str(record.get("locationId", "")) if isinstance(record, dict) else ""
            report.errors.append(CqcRecordError(record_id, f"could not be read ({error})"))
        else:
            if location.location_id in batch:
                # The same home twice: the later record is applied after the earlier one.
                _import_batch(list(batch.values()), source, report)
                batch = {}
            batch[location.location_id] = location
            if len(batch) >= batch_size:
                _import_batch(list(batch.values()), source, report)
                batch = {}
        if progress and number % every == 0:
            progress(number, report)
    if batch:
        _import_batch(list(batch.values()), source, report)
    import_rows_count("cqc_locations", {**report.counts, "refused": len(report.errors)})
    return report


def _check_lengths(location: CqcLocation) -> None:
    values = _home_values(location)
    values["cqc_location_id"] = location.location_id
    for name, limit in CHECKED_LENGTHS.items():
        if len(values[name]) > limit:
            raise CqcRecordError(location.location_id, f"could not be saved ({name} is longer than {limit} characters)")


def _import_batch(locations: list[CqcLocation], source: str, report: ImportReport) -> None:
    outcomes, errors = None, []
    try:
        with transaction.atomic():
            outcomes, errors = _write_batch(locations, source)
    except (DatabaseError, ValueError):
        logger.warning("CQC import: a batch of %d was refused; importing its homes one at a time", len(locations))
    if outcomes is None:
        outcomes, errors = [], []
        for location in locations:
            try:
                outcomes.append(cqc_location_import(location=location, source=source))
            except CqcRecordError as error:
                errors.append(error)
            except (DatabaseError, ValueError) as error:
                errors.append(CqcRecordError(location.location_id, f"could not be saved ({error})"))
    for outcome in outcomes:
        report.counts[outcome.value] += 1
    report.errors.extend(errors)


@dataclass
class _Batch:
    """One batch being written: the homes already known (locked), those arriving, and what changed."""

    source: str
    now: datetime
    care: list[CqcLocation]
    homes: dict[str, CareHome]
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[CqcRecordError] = field(default_factory=list)
    arriving: list[CqcLocation] = field(default_factory=list)
    providers: dict[str, int] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    recorded: list[tuple[CqcLocation, Rating | None]] = field(default_factory=list)
    deregistered: list[CareHome] = field(default_factory=list)
    rating_ids: dict[str, int] = field(default_factory=dict)
    home_ids: dict[str, int] = field(default_factory=dict)


def _write_batch(locations: list[CqcLocation], source: str) -> tuple[list[Outcome], list[CqcRecordError]]:
    """Create and update the homes of one batch (distinct location ids) with a fixed number of
    statements: new homes, their ratings and specialisms go in by COPY. The rules are the ones
    `rating_record` applies to one rating: `rating_replaces_current` and `rating_change_suspends`."""
    batch = _batch_lock_homes(locations, source)
    _batch_sort_arrivals(batch)
    _batch_update_known_homes(batch)
    _batch_write_ratings(batch)
    imported = [location for location in batch.care if location.location_id in batch.home_ids]
    batch.changed |= _set_specialisms(imported, batch.home_ids, new=set(batch.home_ids) - set(batch.homes))
    _batch_audit(batch, imported)
    _batch_suspend_inadequate(batch)
    return batch.outcomes, batch.errors


def _batch_lock_homes(locations: list[CqcLocation], source: str) -> _Batch:
    """Care homes only (other locations are skipped), with the known ones locked in a stable order."""
    care = [location for location in locations if location.is_care_home]
    homes = {
        home.cqc_location_id: home
        for home in CareHome.objects.select_for_update(of=("self",))
        .filter(cqc_location_id__in=[location.location_id for location in care])
        .order_by("pk")
    }
    batch = _Batch(source=source, now=timezone.now(), care=care, homes=homes)
    batch.outcomes += [Outcome.SKIPPED] * (len(locations) - len(care))
    return batch


def _batch_sort_arrivals(batch: _Batch) -> None:
    """New homes: registered ones only, under their provider (added when CQC knows it and we do not)."""
    arriving = []
    for location in batch.care:
        if location.location_id in batch.homes:
            continue
        if not location.registered:
            batch.outcomes.append(Outcome.SKIPPED)
        elif not location.provider_id:
            batch.errors.append(CqcRecordError(location.location_id, "providerId is missing"))
        else:
            arriving.append(location)
    batch.providers, refused = _providers_for(arriving, batch.now)
    batch.errors += refused
    batch.arriving = [location for location in arriving if location.provider_id in batch.providers]


def _batch_update_known_homes(batch: _Batch) -> None:
    """Known homes: only changed values are written, and only then do the times move."""
    for location in batch.care:
        home = batch.homes.get(location.location_id)
        if home is None:
            continue
        values = _home_values(location)
        if any(getattr(home, name) != value for name, value in values.items()):
            if home.is_registered and not location.registered:
                batch.deregistered.append(home)
            for name, value in values.items():
                setattr(home, name, value)
            home.cqc_synced_at = home.updated_at = batch.now
            batch.changed.add(location.location_id)
    if batch.changed:
        CareHome.objects.bulk_update(
            [batch.homes[location_id] for location_id in batch.changed],
            [*HOME_FIELDS, "registration_status", "cqc_provider_id", "cqc_synced_at", "updated_at"],
            batch_size=200,
        )
    for home in batch.deregistered:
        care_home_deregistered.send(sender=CareHome, care_home=home)


def _batch_write_ratings(batch: _Batch) -> None:
    """New homes and the ratings that replace current ones (`rating_replaces_current`), by COPY.

    Read after the homes are locked, as `rating_record` does.
    """
    now, arriving, homes = batch.now, batch.arriving, batch.homes
    batch.recorded = [(location, None) for location in arriving if location.rating is not None]
    batch.recorded += _changed_ratings([location for location in batch.care if location.location_id in homes], homes)
    located = [location.location_id for location, _ in batch.recorded]
    batch.rating_ids = dict(zip(located, _next_ids(Rating, len(located)), strict=True))
    batch.home_ids = {location_id: home.pk for location_id, home in homes.items()}
    batch.home_ids.update(
        zip((location.location_id for location in arriving), _next_ids(CareHome, len(arriving)), strict=True)
    )
    # A new home points at its first rating from the start: the key is checked at commit.
    copy_rows(
        CareHome,
        ["id", "cqc_location_id", "provider", "current_rating", "cqc_synced_at", "created_at", "updated_at", *NEW_HOME],
        [
            (
                batch.home_ids[location.location_id],
                location.location_id,
                batch.providers[location.provider_id],
                batch.rating_ids.get(location.location_id),
                now,
                now,
                now,
                *_home_values(location).values(),
            )
            for location in arriving
        ],
    )
    copy_rows(
        Rating,
        ["id", "care_home", "overall", *KEY_QUESTIONS, "report_date", "source", "recorded_at"],
        [
            (
                batch.rating_ids[location.location_id],
                batch.home_ids[location.location_id],
                location.rating.overall,
                *(location.rating.key_questions.get(name, RatingValue.NOT_RATED) for name in KEY_QUESTIONS),
                location.rating.report_date,
                batch.source,
                now,
            )
            for location, _ in batch.recorded
        ],
    )
    rerated = [location.location_id for location, previous in batch.recorded if location.location_id in homes]
    if rerated:
        new_ratings = Rating.objects.filter(pk__in=[batch.rating_ids[i] for i in rerated], care_home=OuterRef("pk"))
        CareHome.objects.filter(pk__in=[batch.home_ids[location_id] for location_id in rerated]).update(
            current_rating=Subquery(new_ratings.values("pk")),
            updated_at=now,
        )
        for location_id in rerated:
            homes[location_id].current_rating_id = batch.rating_ids[location_id]
            homes[location_id].updated_at = now
        batch.changed.update(rerated)


def _batch_audit(batch: _Batch, imported: list[CqcLocation]) -> None:
    """Each imported home's outcome, and one audit event for the batch when anything changed."""
    new_ids = set(batch.home_ids) - set(batch.homes)
    for location in imported:
        if location.location_id in new_ids:
            batch.outcomes.append(Outcome.CREATED)
        else:
            batch.outcomes.append(Outcome.UPDATED if location.location_id in batch.changed else Outcome.UNCHANGED)
    if new_ids or batch.changed:
        audit_record(
            actor=None,
            verb="quality.cqc.batch_imported",
            target=("quality.cqc_import", batch.source),
            detail={
                "source": batch.source,
                "created": sorted(new_ids),
                "updated": sorted(batch.changed),
                "ratings": {
                    location.location_id: {
                        "overall": location.rating.overall,
                        "previous": previous.overall if previous else None,
                        "report_date": location.rating.report_date.isoformat() if location.rating.report_date else None,
                    }
                    for location, previous in batch.recorded
                },
            },
        )


def _batch_suspend_inadequate(batch: _Batch) -> None:
    """`rating_change_suspends` at once; a home created just now has nothing to suspend."""
    for location, previous in batch.recorded:
        if location.location_id not in batch.homes or not rating_change_suspends(previous, location.rating.overall):
            continue
        rating = Rating(
            pk=batch.rating_ids[location.location_id],
            care_home=batch.homes[location.location_id],
            overall=location.rating.overall,
            report_date=location.rating.report_date,
            source=batch.source,
        )
        care_home_suspend_for_rating(care_home=batch.homes[location.location_id], rating=rating, actor=None)


NEW_HOME = [*HOME_FIELDS, "registration_status", "cqc_provider_id"]


def _next_ids(model, count: int) -> list[int]:
    """Take `count` ids from the table's own sequence, for rows written by COPY."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _changed_ratings(locations: list[CqcLocation], homes: dict[str, CareHome]) -> list[tuple[CqcLocation, Rating]]:
    rated = [location for location in locations if location.rating is not None]
    current = [homes[location.location_id].current_rating_id for location in rated]
    previous_by_id = Rating.objects.in_bulk([pk for pk in current if pk]) if any(current) else {}
    changed = []
    for location in rated:
        previous = previous_by_id.get(homes[location.location_id].current_rating_id)
        rating = location.rating
        if rating_replaces_current(
            previous, overall=rating.overall, key_questions=rating.key_questions, report_date=rating.report_date
        ):
            changed.append((location, previous))
    return changed


def _providers_for(locations: list[CqcLocation], now) -> tuple[dict[str, int], list[CqcRecordError]]:
    """The provider organisation of each new home by CQC provider id, adding those we lack."""
    wanted = {location.provider_id for location in locations}
    found = {
        provider_id: (pk, kind)
        for provider_id, pk, kind in Organisation.objects.filter(cqc_provider_id__in=wanted).values_list(
            "cqc_provider_id", "pk", "kind"
        )
    }
    errors = []
    providers: dict[str, int] = {}
    missing: dict[str, str] = {}
    for location in locations:
        provider_id = location.provider_id
        if provider_id in found:
            pk, kind = found[provider_id]
            if kind != Organisation.Kind.PROVIDER:
                errors.append(
                    CqcRecordError(location.location_id, f"provider {provider_id} is not a care provider here")
                )
            else:
                providers[provider_id] = pk
        elif provider_id not in missing:
            # A provider CQC knows but we do not yet: the back office later adds its people to it.
            missing[provider_id] = location.provider_name or f"CQC provider {provider_id}"
    ids = dict(zip(missing, _next_ids(Organisation, len(missing)), strict=True))
    defaults = {"local_authority": "", "is_active": True, "created_at": now}
    defaults["timeliness_target_percent"] = Organisation._meta.get_field("timeliness_target_percent").default
    copy_rows(
        Organisation,
        ["id", "kind", "name", "slug", "cqc_provider_id", *defaults],
        [
            (
                ids[provider_id],
                Organisation.Kind.PROVIDER,
                name,
                slugify(f"cqc-{provider_id}")[:60],
                provider_id,
                *defaults.values(),
            )
            for provider_id, name in missing.items()
        ],
    )
    providers.update(ids)
    return providers, errors


def _set_specialisms(locations: list[CqcLocation], home_ids: dict[str, int], *, new: set[str]) -> set[str]:
    """Make each home's specialisms those CQC lists; the known homes whose specialisms changed."""
    through = CareHome.specialisms.through
    names = {name for location in locations for name in location.specialisms}
    by_name = dict(Specialism.objects.filter(name__in=names).values_list("name", "pk")) if names else {}
    known = [home_ids[location.location_id] for location in locations if location.location_id not in new]
    have: dict[int, dict[int, int]] = {}
    if known:
        for row_id, home_id, specialism_id in through.objects.filter(carehome_id__in=known).values_list(
            "pk", "carehome_id", "specialism_id"
        ):
            have.setdefault(home_id, {})[specialism_id] = row_id
    added, removed, changed = [], [], set()
    for location in locations:
        home_id = home_ids[location.location_id]
        wanted = {by_name[name] for name in location.specialisms if name in by_name}
        current = have.get(home_id, {})
        if wanted == set(current):
            continue
        if location.location_id not in new:
            changed.add(location.location_id)
        added += [(home_id, pk) for pk in wanted - set(current)]
        removed += [row_id for pk, row_id in current.items() if pk not in wanted]
    if removed:
        through.objects.filter(pk__in=removed).delete()
    copy_rows(through, ["carehome", "specialism"], added)
    return changed


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


# --- Contract monitoring ------------------------------------------------------------------------


def _require_quality_officer(actor) -> Organisation:
    """A commissioner of a body (or the body's own system) records its quality work; never a broker."""
    if not (
        getattr(actor, "is_authenticated", False)
        and is_council_user(actor)
        and (is_commissioner(actor) or getattr(actor, "is_service_account", False))
    ):
        raise ForbiddenError("Only the body's commissioners record contract monitoring and concerns.")
    return actor.organisation


def _require_home_on_dps(actor, care_home: CareHome) -> None:
    if not care_home.admissions.filter(commissioner_id=actor.organisation_id).exists():
        raise NotFoundError("No such care home on your DPS.")


@transaction.atomic
def monitoring_framework_start(*, actor) -> MonitoringFramework:
    """Start the body's framework from the default domains and questions (once)."""
    body = _require_quality_officer(actor)
    framework, created = MonitoringFramework.objects.get_or_create(commissioner=body)
    if created:
        MonitoringQuestion.objects.bulk_create(
            MonitoringQuestion(framework=framework, domain=domain, text=text, position=position)
            for position, (domain, text) in enumerate(DEFAULT_MONITORING_QUESTIONS, start=1)
        )
        audit_record(
            actor=actor,
            verb="quality.monitoring_framework.started",
            target=framework,
            organisation=body,
            detail={"questions": len(DEFAULT_MONITORING_QUESTIONS), "scale_max": framework.scale_max},
        )
    return framework


@transaction.atomic
def monitoring_question_add(*, actor, domain: str, text: str) -> MonitoringQuestion:
    body = _require_quality_officer(actor)
    errors = {}
    if not domain.strip():
        errors["domain"] = "Enter the domain the question belongs to."
    if not text.strip():
        errors["text"] = "Enter the question."
    if errors:
        raise ApplicationError("The question is not complete.", code="question_invalid", fields=errors)
    framework, _ = MonitoringFramework.objects.get_or_create(commissioner=body)
    last = framework.questions.order_by("-position").values_list("position", flat=True).first() or 0
    question = MonitoringQuestion.objects.create(
        framework=framework, domain=domain.strip(), text=text.strip(), position=last + 1
    )
    audit_record(
        actor=actor,
        verb="quality.monitoring_question.added",
        target=question,
        organisation=body,
        detail={"domain": question.domain, "text": question.text},
    )
    return question


@transaction.atomic
def monitoring_question_retire(*, actor, question: MonitoringQuestion) -> MonitoringQuestion:
    """Later visits no longer ask it; earlier visits keep their answers."""
    body = _require_quality_officer(actor)
    question = MonitoringQuestion.objects.select_for_update().select_related("framework").get(pk=question.pk)
    if question.framework.commissioner_id != body.pk:
        raise NotFoundError("No such question.")
    if question.retired_at is None:
        question.retired_at = timezone.now()
        question.save(update_fields=["retired_at"])
        audit_record(
            actor=actor,
            verb="quality.monitoring_question.retired",
            target=question,
            organisation=body,
            detail={"text": question.text},
        )
    return question


@transaction.atomic
def monitoring_scale_set(*, actor, scale_max: int) -> MonitoringFramework:
    """Visits already recorded keep the scale they were scored on."""
    body = _require_quality_officer(actor)
    if not 2 <= scale_max <= 10:
        raise ApplicationError(
            "Choose a scale.", code="scale_invalid", fields={"scale_max": "The highest score must be 2 to 10."}
        )
    framework, _ = MonitoringFramework.objects.select_for_update().get_or_create(commissioner=body)
    previous = framework.scale_max
    framework.scale_max = scale_max
    framework.save(update_fields=["scale_max", "updated_at"])
    audit_record(
        actor=actor,
        verb="quality.monitoring_framework.scale_set",
        target=framework,
        organisation=body,
        detail={"from": previous, "to": scale_max},
    )
    return framework


def monitoring_score(answers: Iterable[int], scale_max: int) -> Decimal:
    """A visit's score out of 100: the mean answer over the highest score (all 4s of 4 is 100)."""
    answers = list(answers)
    return (Decimal(sum(answers)) * 100 / (len(answers) * scale_max)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@transaction.atomic
def monitoring_visit_record(
    *, actor, care_home: CareHome, visited_on: date, visitor: str, findings: str, scores: dict[int, int | None]
) -> MonitoringVisit:
    """Record a visit with a score for every current question of the body's framework."""
    body = _require_quality_officer(actor)
    _require_home_on_dps(actor, care_home)
    framework = MonitoringFramework.objects.filter(commissioner=body).first()
    questions = list(framework.questions.filter(retired_at__isnull=True)) if framework else []
    if not questions:
        raise ApplicationError(
            "Set up your monitoring framework's questions before recording a visit.", code="no_framework"
        )
    errors = {}
    if visited_on is None:
        errors["visited_on"] = "Enter the date of the visit."
    elif visited_on > timezone.localdate():
        errors["visited_on"] = "The date of the visit must be today or in the past."
    if not visitor.strip():
        errors["visitor"] = "Enter who visited."
    for question in questions:
        value = scores.get(question.pk)
        if value is None or not 1 <= int(value) <= framework.scale_max:
            errors[f"q{question.pk}"] = f"Score this question from 1 to {framework.scale_max}."
    if errors:
        raise ApplicationError("Some of the visit is not complete.", code="visit_invalid", fields=errors)
    answers = {question.pk: int(scores[question.pk]) for question in questions}
    visit = MonitoringVisit.objects.create(
        commissioner=body,
        care_home=care_home,
        visited_on=visited_on,
        visitor=visitor.strip(),
        findings=findings.strip(),
        scale_max=framework.scale_max,
        score=monitoring_score(answers.values(), framework.scale_max),
        recorded_by=actor,
    )
    MonitoringAnswer.objects.bulk_create(
        MonitoringAnswer(visit=visit, question_id=pk, score=value) for pk, value in answers.items()
    )
    audit_record(
        actor=actor,
        verb="quality.monitoring_visit.recorded",
        target=care_home,
        organisation=body,
        detail={"visit": visit.pk, "visited_on": visited_on.isoformat(), "score": str(visit.score)},
    )
    return visit


# --- Complaints and safeguarding concerns -------------------------------------------------------


def _embargo_review_errors(review_on: date | None) -> dict:
    if review_on is None:
        return {"review_on": "Enter the date the embargo will be reviewed."}
    if review_on < timezone.localdate():
        return {"review_on": "The review date must be today or in the future."}
    return {}


def _embargo_place(*, actor, concern: Concern, review_on: date) -> AdmissionClosure:
    """A safeguarding embargo: the home closed to admissions from this body only, until a recorded
    decision lifts it. Its review date never lifts it; it shows the review as due."""
    closure = admission_closure_open(
        actor=actor,
        care_home=concern.care_home,
        reason=AdmissionClosure.Reason.SAFEGUARDING_EMBARGO,
        details=f"Safeguarding concern {concern.reference}",
        review_on=review_on,
        commissioner=concern.commissioner,
    )
    concern.embargo = closure
    concern.save(update_fields=["embargo"])
    return closure


@transaction.atomic
def concern_record(
    *,
    actor,
    care_home: CareHome,
    kind: str,
    received_on: date | None,
    category: str,
    severity: str,
    reference: str,
    embargo: bool = False,
    review_on: date | None = None,
) -> Concern:
    """Record a complaint or safeguarding concern; a safeguarding concern may embargo the home for this body."""
    body = _require_quality_officer(actor)
    _require_home_on_dps(actor, care_home)
    errors = {}
    if kind not in Concern.Kind.values:
        errors["kind"] = "Choose complaint or safeguarding concern."
    if received_on is None:
        errors["received_on"] = "Enter the date the concern was received."
    elif received_on > timezone.localdate():
        errors["received_on"] = "The date received must be today or in the past."
    if category not in Concern.Category.values:
        errors["category"] = "Choose the category."
    if severity not in Concern.Severity.values:
        errors["severity"] = "Choose the severity."
    if not reference.strip():
        errors["reference"] = "Enter your case reference."
    if embargo:
        if kind != Concern.Kind.SAFEGUARDING:
            errors["embargo"] = "Only a safeguarding concern places an embargo."
        errors |= _embargo_review_errors(review_on)
    if errors:
        raise ApplicationError("Some of the concern is not complete.", code="concern_invalid", fields=errors)
    concern = Concern.objects.create(
        commissioner=body,
        care_home=care_home,
        kind=kind,
        received_on=received_on,
        category=category,
        severity=severity,
        reference=reference.strip(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        verb="quality.concern.recorded",
        target=care_home,
        organisation=body,
        detail={"concern": concern.pk, "kind": kind, "severity": severity, "reference": concern.reference},
    )
    if embargo:
        _embargo_place(actor=actor, concern=concern, review_on=review_on)
    return concern


def _concern_locked(actor, concern: Concern) -> Concern:
    body = _require_quality_officer(actor)
    concern = (
        Concern.objects.select_for_update(of=("self",))
        .select_related("care_home", "commissioner", "embargo")
        .filter(pk=concern.pk, commissioner=body)
        .first()
    )
    if concern is None:
        raise NotFoundError("No such concern.")
    return concern


@transaction.atomic
def concern_update(*, actor, concern: Concern, status: str, outcome: str) -> Concern:
    """Move a concern on; closing it needs its outcome. Closing never lifts an embargo: that is a decision."""
    concern = _concern_locked(actor, concern)
    errors = {}
    if status not in Concern.Status.values:
        errors["status"] = "Choose the status."
    if outcome not in Concern.Outcome.values:
        errors["outcome"] = "Choose the outcome."
    elif status == Concern.Status.CLOSED and not outcome:
        errors["outcome"] = "Choose the outcome before closing the concern."
    if errors:
        raise ApplicationError("The update is not complete.", code="concern_invalid", fields=errors)
    previous = concern.status
    concern.status = status
    concern.outcome = outcome
    concern.closed_on = timezone.localdate() if status == Concern.Status.CLOSED else None
    concern.save(update_fields=["status", "outcome", "closed_on"])
    audit_record(
        actor=actor,
        verb="quality.concern.updated",
        target=concern.care_home,
        organisation=concern.commissioner,
        detail={"concern": concern.pk, "from": previous, "to": status, "outcome": outcome},
    )
    return concern


@transaction.atomic
def concern_embargo_place(*, actor, concern: Concern, review_on: date | None) -> AdmissionClosure:
    concern = _concern_locked(actor, concern)
    if concern.kind != Concern.Kind.SAFEGUARDING:
        raise ApplicationError("Only a safeguarding concern places an embargo.", code="not_safeguarding")
    if concern.embargo_id is not None and concern.embargo.lifted_at is None:
        raise ConflictError("This concern's embargo is already in place.", code="embargo_in_place")
    errors = _embargo_review_errors(review_on)
    if errors:
        raise ApplicationError("Enter the review date.", code="embargo_invalid", fields=errors)
    return _embargo_place(actor=actor, concern=concern, review_on=review_on)


@transaction.atomic
def concern_embargo_lift(*, actor, concern: Concern, decision: str) -> AdmissionClosure:
    """Lift the embargo by a recorded decision (the only way it ends)."""
    concern = _concern_locked(actor, concern)
    if concern.embargo_id is None:
        raise ConflictError("This concern placed no embargo.", code="no_embargo")
    if not decision.strip():
        raise ApplicationError(
            "Record the decision.", code="decision_required", fields={"decision": "Enter the decision to lift it."}
        )
    return admission_closure_lift(actor=actor, closure=concern.embargo, reason=decision)


# --- Improvement plans ---------------------------------------------------------------------------


@transaction.atomic
def improvement_action_add(
    *, actor, care_home: CareHome, action: str, owner: str, due_on: date | None, agreed_on: date | None
) -> ImprovementAction:
    """Add an action, agreed with the provider, to the body's improvement plan for a home."""
    body = _require_quality_officer(actor)
    _require_home_on_dps(actor, care_home)
    today = timezone.localdate()
    errors = {}
    if not action.strip():
        errors["action"] = "Enter the action."
    if not owner.strip():
        errors["owner"] = "Enter who owns the action."
    if due_on is None:
        errors["due_on"] = "Enter the date the action is due."
    if agreed_on is None:
        errors["agreed_on"] = "Enter the date the action was agreed with the provider."
    elif agreed_on > today:
        errors["agreed_on"] = "The date agreed must be today or in the past."
    if due_on and agreed_on and due_on < agreed_on:
        errors["due_on"] = "The action must be due on or after the day it was agreed."
    if errors:
        raise ApplicationError("Some of the action is not complete.", code="action_invalid", fields=errors)
    item = ImprovementAction.objects.create(
        commissioner=body,
        care_home=care_home,
        action=action.strip(),
        owner=owner.strip(),
        due_on=due_on,
        agreed_on=agreed_on,
        created_by=actor,
        updated_by=actor,
    )
    audit_record(
        actor=actor,
        verb="quality.improvement_action.added",
        target=care_home,
        organisation=body,
        detail={"action": item.pk, "text": item.action, "due_on": due_on.isoformat()},
    )
    return item


def _require_may_update_action(actor, item: ImprovementAction) -> None:
    """The body's commissioners, and the home's own provider; anyone else does not know it (404)."""
    if is_provider_user(actor) and item.care_home.provider_id == actor.organisation_id:
        return
    if is_council_user(actor) and item.commissioner_id == actor.organisation_id:
        _require_quality_officer(actor)
        return
    raise NotFoundError("No such improvement action.")


@transaction.atomic
def improvement_action_update(*, actor, action: ImprovementAction, status: str, note: str = "") -> ImprovementAction:
    """Report progress on an action; done records the day it was completed."""
    item = (
        ImprovementAction.objects.select_for_update(of=("self",))
        .select_related("care_home", "commissioner")
        .get(pk=action.pk)
    )
    _require_may_update_action(actor, item)
    if status not in ImprovementAction.Status.values:
        raise ApplicationError("Choose the status.", code="action_invalid", fields={"status": "Choose the status."})
    previous = item.status
    item.status = status
    if note.strip():
        item.progress_note = note.strip()
    if status == ImprovementAction.Status.DONE:
        item.completed_on = item.completed_on or timezone.localdate()
    else:
        item.completed_on = None
    item.updated_by = actor
    item.save(update_fields=["status", "progress_note", "completed_on", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        verb="quality.improvement_action.updated",
        target=item.care_home,
        organisation=item.commissioner,
        detail={"action": item.pk, "from": previous, "to": status},
    )
    return item


# --- How quality is scored --------------------------------------------------------------------------


@transaction.atomic
def quality_scoring_rule_set(*, actor, lot: Lot, weights: dict[str, int | None]) -> QualityScoringRule:
    """Choose how quality is scored for a lot: weights in whole %, adding up to 100. Tenders already
    published keep the rule they copied."""
    body = _require_quality_officer(actor)
    if not is_commissioner(actor):
        raise ForbiddenError("Only the body's commissioners choose how quality is scored.")
    errors = {}
    clean = {}
    for part in QUALITY_PARTS:
        value = weights.get(part)
        if value is None:
            value = 0
        if not 0 <= int(value) <= 100:
            errors[part] = "Enter a whole % from 0 to 100."
        clean[part] = int(value)
    if not errors and sum(clean.values()) != 100:
        errors["overall"] = f"The weights must add up to 100%; they add up to {sum(clean.values())}%."
    if errors:
        raise ApplicationError("The weights are not valid.", code="weights_invalid", fields=errors)
    rule, _ = QualityScoringRule.objects.select_for_update().get_or_create(commissioner=body, lot=lot)
    previous = rule.weights()
    for part, value in clean.items():
        setattr(rule, part, value)
    rule.updated_by = actor
    rule.save()
    audit_record(
        actor=actor,
        verb="quality.scoring_rule.updated",
        target=rule,
        organisation=body,
        detail={"lot": lot.number, "from": previous, "to": clean},
    )
    return rule


# --- Provider returns ------------------------------------------------------------------------------

PERIOD_PATTERNS = {
    ProviderReturn.PeriodKind.QUARTERLY: re.compile(r"^(\d{4})-Q([1-4])$"),
    ProviderReturn.PeriodKind.ANNUAL: re.compile(r"^(\d{4})$"),
}
YES = {"yes", "true", "1", "y"}
NO = {"no", "false", "0", "n"}


@transaction.atomic
def return_measures_start(*, commissioner: Organisation, actor=None) -> None:
    """A body with no return measures yet starts from the default set (once)."""
    if ReturnMeasure.objects.filter(commissioner=commissioner).exists():
        return
    Organisation.objects.select_for_update().get(pk=commissioner.pk)
    if ReturnMeasure.objects.filter(commissioner=commissioner).exists():
        return
    ReturnMeasure.objects.bulk_create(default_return_measures(commissioner.pk))
    audit_record(
        actor=actor,
        verb="quality.return_measures.started",
        target=commissioner,
        organisation=commissioner,
        detail={"measures": len(DEFAULT_RETURN_MEASURES)},
    )


def return_period_kind(period: str) -> str | None:
    """`2026-Q3` is quarterly, `2026` annual; anything else is no period."""
    for kind, pattern in PERIOD_PATTERNS.items():
        if pattern.match(period):
            return kind
    return None


def _answer_value(measure: ReturnMeasure, raw) -> tuple[Decimal | None, str | None]:
    """The value to keep for one answer, or the message saying what is wrong with it."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        return None, (f"Enter {measure.name.lower()}." if measure.required else None)
    if measure.kind == ReturnMeasure.Kind.YES_NO:
        if text.lower() in YES:
            return Decimal(1), None
        if text.lower() in NO:
            return Decimal(0), None
        return None, f"Answer yes or no for {measure.name.lower()}."
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        return None, f"{measure.name} must be a number."
    if value < 0:
        return None, f"{measure.name} cannot be negative."
    if measure.kind == ReturnMeasure.Kind.INTEGER and value != value.to_integral_value():
        return None, f"{measure.name} must be a whole number."
    if measure.kind == ReturnMeasure.Kind.PERCENTAGE and value > 100:
        return None, f"{measure.name} must be a percentage from 0 to 100."
    if value >= Decimal("10000000000"):
        return None, f"{measure.name} is too large."
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP), None


def return_measures_for_home(*, commissioner: Organisation, care_home: CareHome) -> list[ReturnMeasure]:
    """The body's active measures for the lots the home is admitted to (and those for every lot); a
    body that has kept none yet asks the default set (unsaved, as `default_return_measures`)."""
    if not ReturnMeasure.objects.filter(commissioner=commissioner).exists():
        return default_return_measures(commissioner.pk)
    lots = Admission.objects.filter(
        commissioner=commissioner, care_home=care_home, status=Admission.Status.ADMITTED
    ).values("lot_id")
    return list(
        ReturnMeasure.objects.filter(commissioner=commissioner, active=True).filter(
            Q(lot__isnull=True) | Q(lot_id__in=lots)
        )
    )


def provider_return_submit(
    *, actor, care_home: CareHome, commissioner: Organisation | None, period: str, answers: dict
) -> ProviderReturn:
    """A provider submits its own home's return to a body whose DPS the home is admitted to. Every
    required measure answered, numbers not negative, percentages at most 100; nothing is kept unless
    the whole return is valid. Resubmitting the same period before the body accepts it replaces the answers."""
    if not is_provider_user(actor):
        raise ForbiddenError("Only the home's provider submits its returns.")
    if care_home.provider_id != actor.organisation_id:
        raise NotFoundError("No such care home.")
    if (
        commissioner is None
        or not Admission.objects.filter(
            commissioner=commissioner, care_home=care_home, status=Admission.Status.ADMITTED
        ).exists()
    ):
        raise ApplicationError(
            "Choose a body whose DPS the home is admitted to.",
            code="return_invalid",
            fields={"commissioner": "Choose a body whose DPS the home is admitted to."},
        )
    # The body's default measures are kept even when this return is refused: its field errors name them.
    return_measures_start(commissioner=commissioner, actor=actor)
    with transaction.atomic():
        return _provider_return_write(
            actor=actor, care_home=care_home, commissioner=commissioner, period=period, answers=answers
        )


def _provider_return_write(*, actor, care_home, commissioner, period, answers) -> ProviderReturn:
    errors = {}
    period = (period or "").strip().upper()
    period_kind = return_period_kind(period)
    if period_kind is None:
        errors["period"] = "Enter the period as a year, like 2026, or a quarter, like 2026-Q3."
    measures = return_measures_for_home(commissioner=commissioner, care_home=care_home)
    given = {str(key).strip(): value for key, value in (answers or {}).items()}
    values = {}
    for measure in measures:
        raw = given.get(str(measure.pk), given.get(measure.name))
        value, message = _answer_value(measure, raw)
        if message:
            errors[str(measure.pk)] = message
        elif value is not None:
            values[measure.pk] = value
    if errors:
        raise ApplicationError("Some of the return is not right.", code="return_invalid", fields=errors)
    existing = (
        ProviderReturn.objects.select_for_update()
        .filter(care_home=care_home, commissioner=commissioner, period=period)
        .first()
    )
    now = timezone.now()
    detail = {"period": period, "answers": {str(pk): str(v) for pk, v in values.items()}}
    if existing is None:
        item = ProviderReturn.objects.create(
            care_home=care_home,
            commissioner=commissioner,
            period_kind=period_kind,
            period=period,
            submitted_by=actor,
            submitted_at=now,
        )
        verb = "quality.provider_return.submitted"
    else:
        if existing.accepted_at is not None:
            raise ApplicationError(
                "The body has accepted this return; it can no longer be changed.",
                code="return_accepted",
                fields={"period": "The body has accepted the return for this period; choose another period."},
            )
        item = existing
        detail["previous"] = {str(a.measure_id): str(a.value) for a in item.answers.all()}
        item.answers.all().delete()
        item.submitted_by = actor
        item.submitted_at = now
        item.save(update_fields=["submitted_by", "submitted_at"])
        verb = "quality.provider_return.resubmitted"
    ReturnAnswer.objects.bulk_create(
        ReturnAnswer(provider_return=item, measure_id=pk, value=value) for pk, value in values.items()
    )
    audit_record(
        actor=actor, verb=verb, target=care_home, organisation=commissioner, detail={"return": item.pk, **detail}
    )
    return item


@transaction.atomic
def provider_return_accept(*, actor, provider_return: ProviderReturn) -> ProviderReturn:
    """The body accepts a return: from then on the provider can no longer replace its answers."""
    body = _require_quality_officer(actor)
    item = ProviderReturn.objects.select_for_update().filter(pk=provider_return.pk, commissioner=body).first()
    if item is None:
        raise NotFoundError("No such return.")
    if item.accepted_at is None:
        item.accepted_at = timezone.now()
        item.save(update_fields=["accepted_at"])
        audit_record(
            actor=actor,
            verb="quality.provider_return.accepted",
            target=item.care_home,
            organisation=body,
            detail={"return": item.pk, "period": item.period},
        )
    return item


# --- The body's return measures and reminders of returns owed ------------------------------------


def return_measure_add(
    *, actor, name: str, kind: str, unit: str = "", lot: Lot | None = None, required: bool = True
) -> ReturnMeasure:
    """The body asks its DPS homes (of one lot, or all) for one more figure in their returns, after
    the ones it asks already. A name already in use is refused."""
    body = _require_quality_officer(actor)
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Enter the name of the measure."
    if kind not in ReturnMeasure.Kind.values:
        errors["kind"] = "Choose what kind of figure the measure is."
    if errors:
        raise ApplicationError("The measure is not right.", code="measure_invalid", fields=errors)
    return_measures_start(commissioner=body, actor=actor)
    with transaction.atomic():
        Organisation.objects.select_for_update().get(pk=body.pk)
        mine = ReturnMeasure.objects.filter(commissioner=body)
        if mine.filter(active=True, name__iexact=name).exists():
            raise ApplicationError(
                "The measure is not right.",
                code="measure_invalid",
                fields={"name": f"You already ask for {name.lower()}."},
            )
        position = (mine.aggregate(last=Max("position"))["last"] or 0) + 1
        measure = ReturnMeasure.objects.create(
            commissioner=body,
            lot=lot,
            name=name,
            kind=kind,
            unit=(unit or "").strip(),
            required=required,
            position=position,
        )
        audit_record(
            actor=actor,
            verb="quality.return_measure.added",
            target=body,
            organisation=body,
            detail={"measure": measure.pk, "name": name, "kind": kind, "lot": lot.number if lot else None},
        )
    return measure


@transaction.atomic
def return_measure_retire(*, actor, measure: ReturnMeasure) -> ReturnMeasure:
    """The body stops asking for a measure: later returns leave it out; the answers already sent stay."""
    body = _require_quality_officer(actor)
    item = ReturnMeasure.objects.select_for_update().filter(pk=measure.pk, commissioner=body).first()
    if item is None:
        raise NotFoundError("No such measure.")
    if item.active:
        item.active = False
        item.save(update_fields=["active"])
        audit_record(
            actor=actor,
            verb="quality.return_measure.retired",
            target=body,
            organisation=body,
            detail={"measure": item.pk, "name": item.name},
        )
    return item


def return_reminders_send(*, on: date) -> int:
    """Remind each home's provider of the returns it owes: once when the period has ended and once
    more when the return is past due, however often this runs. Returns how many reminders went out."""
    sent = 0
    for owed in returns_outstanding(on=on):
        period, home, body = owed.period, owed.care_home, owed.commissioner
        overdue = on > period.due_on
        stage = "overdue" if overdue else "due"
        verb = "quality.provider_return.overdue" if overdue else "quality.provider_return.due"
        due = f"{period.due_on:%-d %B %Y}"
        what = f"The {period.kind} return of {home.name} for {period.period} to {body.name}"
        message = f"{what} was due on {due}. Send it now." if overdue else f"{what} is due by {due}."
        with transaction.atomic():
            created = notify_organisation(
                organisation=home.provider,
                verb=verb,
                subject=f"{home.name}: return for {period.period} {'overdue' if overdue else 'due'}",
                template="emails/dps_message.txt",
                context={"message": message},
                dedupe_key=f"return-{stage}:{body.pk}:{home.pk}:{period.period}",
                link=reverse("quality:provider_returns", args=[home.pk]) + f"?body={body.pk}",
            )
            if created:
                audit_record(
                    actor=None,
                    verb=verb,
                    target=home,
                    organisation=body,
                    detail={"period": period.period, "due_on": period.due_on.isoformat()},
                )
                sent += 1
    return sent
