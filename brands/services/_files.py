"""Storing checked uploads so that a failure leaves no orphan file and no half-saved row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from core.uploads import FileKind, stored_name


@contextmanager
def stored_upload(file: object, *, prefix: str, kind: FileKind) -> Iterator[str]:
    """Save `file` under a generated name; delete it again if the block raises.

    Use the name inside the block to create the row (in its own transaction).
    """
    name = default_storage.save(stored_name(prefix, kind), file)
    try:
        yield name
    except BaseException:
        default_storage.delete(name)
        raise


def create_or_duplicate(create: Callable[[], object], on_duplicate: Callable[[], Exception]) -> object:
    """Run `create` in a savepoint; turn a unique-constraint race into a clear duplicate error."""
    try:
        with transaction.atomic():
            return create()
    except IntegrityError as exc:
        raise on_duplicate() from exc
