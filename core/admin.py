"""Back-office views shared by every app: the audit trail, notifications, and the guard that keeps
sealed values sealed in every admin that can reach them.

A model declares its sealed fields once with `seal_fields`, saying which rows are sealed right now.
`SealedValuesAdmin` is then mixed into every admin and inline of that model and of the models related
to it. Through such an admin nobody, superusers included, can filter, search, order or count by a
sealed field, whether on the model itself or across relations (`bid__weekly_fee__gt`): those lookups
are refused the way Django refuses any disallowed lookup (400). Lists and change pages show the
value only for rows that are no longer sealed, and a placeholder for the others.

Filtering and ordering by a sealed field are refused even once every row in sight is unsealed: a
list mixes sealed and unsealed rows, and a count or an order over the mix would answer about the
sealed ones. The values themselves are shown as soon as their row is unsealed.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.utils import display_for_field
from django.contrib.admin.views.main import ChangeList
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.utils.text import capfirst

from .audit import verb_label
from .models import AuditEvent, Notification


@dataclass(frozen=True)
class Seal:
    fields: frozenset[str]
    is_sealed: Callable[[Model], bool]
    placeholder: Callable[[Model], str]
    prepare: Callable[[QuerySet], QuerySet]


_SEALS: dict[type[Model], Seal] = {}


def seal_fields(
    model: type[Model],
    fields: Iterable[str],
    *,
    is_sealed: Callable[[Model], bool] = lambda row: True,
    placeholder: Callable[[Model], str] = lambda row: "Sealed",
    prepare: Callable[[QuerySet], QuerySet] = lambda queryset: queryset,
) -> None:
    """Declare fields of `model` whose values the back office must not disclose while `is_sealed(row)`.

    `prepare` adds to an admin's queryset what `is_sealed` and `placeholder` read, so that a page
    decides every row without a query per row. Without `is_sealed` the fields are always sealed.
    """
    for name in fields:
        model._meta.get_field(name)
    _SEALS[model] = Seal(frozenset(fields), is_sealed, placeholder, prepare)


def _ordering_names(item) -> list[str]:
    """The field paths an ordering entry (a name or an expression) sorts by."""
    if isinstance(item, str):
        return [item.lstrip("-?")]
    if isinstance(item, F):
        return [item.name]
    return [name for source in item.get_source_expressions() for name in _ordering_names(source)]


def reads_sealed(model: type[Model], path: str, *, ordering: bool = False, depth: int = 0) -> bool:
    """Whether a lookup, search or ordering path that starts at `model` reads a sealed field.

    An ordering that ends on a relation sorts by the related model's own ordering, so with
    `ordering` that ordering is followed too.
    """
    for part in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            # A transform, a lookup, `pk` or an annotation: nothing left to walk.
            return False
        seal = _SEALS.get(model)
        if seal is not None and field.name in seal.fields:
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return (
        ordering
        and depth < 3
        and any(
            reads_sealed(model, name, ordering=True, depth=depth + 1)
            for item in model._meta.ordering
            for name in _ordering_names(item)
        )
    )


def _sealed_column(model: type[Model], path: str, empty_value_display: str):
    """A read-only column for a sealed field: its value once unsealed, the placeholder before."""
    *relations, name = path.split(LOOKUP_SEP)
    holder_model = model
    for relation in relations:
        holder_model = holder_model._meta.get_field(relation).related_model
    field = holder_model._meta.get_field(name)
    seal = _SEALS[holder_model]

    @admin.display(description=capfirst(field.verbose_name))
    def column(row):
        for relation in relations:
            row = getattr(row, relation, None)
            if row is None:
                return empty_value_display
        if seal.is_sealed(row):
            return seal.placeholder(row)
        return display_for_field(getattr(row, field.attname), field, empty_value_display)

    # Keeps the field's name for the column's CSS class and the change page's row.
    column.__name__ = path
    return column


class _SealedChangeList(ChangeList):
    def get_ordering_field(self, field_name):
        order_field = super().get_ordering_field(field_name)
        if order_field is not None and any(
            reads_sealed(self.model, name, ordering=True) for name in _ordering_names(order_field)
        ):
            return None
        return order_field


def _sealed_lookup(model, item) -> bool:
    if isinstance(item, str):
        return reads_sealed(model, item)
    if isinstance(item, (list, tuple)):
        return reads_sealed(model, item[0])
    # A SimpleListFilter decides its own queryset; it is the project's code and reviewed as such.
    return False


class SealedValuesAdmin:
    """Mixed into a ModelAdmin or an inline whose model carries a sealed value or is related to one.

    Every hook Django's admin reads a field through is narrowed here, so the rule holds for the
    admin however it is configured: lookups and `_to_field`, search, list filters and their facets,
    orderings (the admin's, the model's and `?o=`), list columns and change-page fields.
    """

    def _seal(self) -> Seal | None:
        return _SEALS.get(self.model)

    def _column(self, path: str):
        columns = self.__dict__.setdefault("_sealed_columns", {})
        if path not in columns:
            columns[path] = _sealed_column(self.model, path, self.get_empty_value_display())
        return columns[path]

    def lookup_allowed(self, lookup, value, request=None):
        if reads_sealed(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request, to_field):
        if reads_sealed(self.model, to_field):
            return False
        return super().to_field_allowed(request, to_field)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        seal = self._seal()
        return seal.prepare(queryset) if seal is not None else queryset

    def get_search_fields(self, request):
        return [name for name in super().get_search_fields(request) if not reads_sealed(self.model, name.lstrip("^=@"))]

    def get_list_filter(self, request):
        return [item for item in super().get_list_filter(request) if not _sealed_lookup(self.model, item)]

    def get_ordering(self, request):
        ordering = super().get_ordering(request) or self.model._meta.ordering
        kept = [
            item
            for item in ordering
            if not any(reads_sealed(self.model, name, ordering=True) for name in _ordering_names(item))
        ]
        # An empty ordering would fall back to the model's, sealed fields and all.
        return kept or ["-pk"]

    def get_sortable_by(self, request):
        return [
            name
            for name in super().get_sortable_by(request)
            if not (isinstance(name, str) and reads_sealed(self.model, name, ordering=True))
        ]

    def get_changelist(self, request, **kwargs):
        return _SealedChangeList

    def get_list_display(self, request):
        return [
            self._column(name) if isinstance(name, str) and reads_sealed(self.model, name) else name
            for name in super().get_list_display(request)
        ]

    def get_exclude(self, request, obj=None):
        excluded = super().get_exclude(request, obj)
        seal = self._seal()
        if seal is None:
            return excluded
        return [*(excluded or []), *sorted(seal.fields)]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        seal = self._seal()
        if seal is not None:
            declared_exclude = self.exclude or ()
            readonly += [self._column(name) for name in sorted(seal.fields) if name not in declared_exclude]
        return readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = []
        for name, options in super().get_fieldsets(request, obj):
            seen = set()
            fields = []
            for entry in options["fields"]:
                entry = self._sealed_entry(entry, seen)
                if entry:
                    fields.append(entry)
            fieldsets.append((name, {**options, "fields": fields}))
        return fieldsets

    def _sealed_entry(self, entry, seen):
        """One fieldset entry with sealed fields swapped for their columns, each shown once."""
        if isinstance(entry, (list, tuple)):
            return tuple(item for item in (self._sealed_entry(item, seen) for item in entry) if item)
        if isinstance(entry, str) and reads_sealed(self.model, entry):
            entry = self._column(entry)
        if entry in seen:
            return None
        seen.add(entry)
        return entry


def _needs_guard(model: type[Model]) -> bool:
    return model in _SEALS or any(
        field.is_relation and field.related_model in _SEALS for field in model._meta.get_fields()
    )


@checks.register(checks.Tags.admin)
def check_sealed_values_guarded(app_configs=None, site=None, **kwargs):
    """Every admin and inline of a model that carries a sealed value, or is related to one, uses the
    guard, and no date hierarchy is drawn over a sealed field."""
    errors = []
    for model, model_admin in (site or admin.site)._registry.items():
        shown = [(type(model_admin), model), *((inline, inline.model) for inline in model_admin.inlines)]
        for admin_class, shown_model in shown:
            if _needs_guard(shown_model) and not issubclass(admin_class, SealedValuesAdmin):
                errors.append(
                    checks.Error(
                        f"{admin_class.__qualname__} shows {shown_model.__name__}, which carries or reaches a "
                        "sealed value, without SealedValuesAdmin.",
                        obj=admin_class,
                        id="core.E001",
                    )
                )
        if model_admin.date_hierarchy and reads_sealed(model, model_admin.date_hierarchy):
            errors.append(
                checks.Error(
                    f"{type(model_admin).__qualname__} draws its date hierarchy over a sealed field.",
                    obj=type(model_admin),
                    id="core.E002",
                )
            )
    return errors


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(_ReadOnly, admin.ModelAdmin):
    """Rows only the services write, since they enforce the rules and audit every change: the back
    office reads them and adds, changes or deletes none. Put `SealedValuesAdmin` before it when the
    model carries or reaches a sealed value."""


class ReadOnlyTabularInline(_ReadOnly, admin.TabularInline):
    """The inline form of `ReadOnlyAdmin`."""


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail is never edited."""

    list_display = ["created_at", "what_happened", "verb", "actor", "organisation", "target_type", "target_id"]
    list_filter = ["verb", "organisation"]
    search_fields = ["verb", "target_id", "reason"]
    date_hierarchy = "created_at"

    @admin.display(description="What happened", ordering="verb")
    def what_happened(self, event: AuditEvent) -> str:
        return verb_label(event.verb)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "verb", "recipient", "organisation", "subject", "sent_at"]
    list_filter = ["verb", "organisation"]
    search_fields = ["subject", "recipient__email"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
