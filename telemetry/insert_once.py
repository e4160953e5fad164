"""`INSERT ... ON CONFLICT DO NOTHING RETURNING id` for one model instance."""

from __future__ import annotations

from django.db.models import Model
from django.db.models.constants import OnConflict


def insert_once(instance: Model) -> bool:
    """Insert `instance` unless a unique constraint already holds its twin; True (and pk set) if inserted.

    One statement, no savepoint: the constraint decides, so racing or retried
    uploads cannot store the row twice. Django has no public API for it.
    """
    model = type(instance)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = model._default_manager._insert(  # type: ignore[attr-defined]  # noqa: SLF001 - not in the stubs either
        [instance], fields=fields, returning_fields=[model._meta.pk], on_conflict=OnConflict.IGNORE
    )
    if not (rows and rows[0] and rows[0][0] is not None):
        return False
    instance.pk = rows[0][0]
    instance._state.adding = False
    return True
