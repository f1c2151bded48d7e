"""Check the audit trail's hash chain from the first entry to the last.

    manage.py audit_verify                  # "OK: N entries, chain head <hash>", exit 0
                                            # or the first broken entry and what is wrong, exit 1

Keep the printed chain head somewhere else (a ticket, a signed e-mail): a later run whose chain
no longer contains it shows that the newest entries were removed or the chain was rewritten.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.audit_chain import CONTENT_FIELDS, verify_chain
from core.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain (content of every entry and the links between them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=2000, help="entries fetched per round trip")

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size = max(1, options["chunk_size"])
        events = AuditEvent.objects.order_by("id").only("id", "prev_hash", "entry_hash", *CONTENT_FIELDS)
        # The count is for the progress bar only: entries added meanwhile are not checked, or counted.
        total = AuditEvent.objects.count() if sys.stderr.isatty() else None
        with tqdm(total=total, desc="audit chain", unit="entry", disable=total is None, file=sys.stderr) as bar:
            result = verify_chain(
                events.iterator(chunk_size=chunk_size),
                lambda checked: bar.update(checked - bar.n),
                progress_every=chunk_size,
            )
        if not result.ok:
            raise CommandError(
                f"audit chain broken at entry #{result.broken_id}: {result.problem} ({result.detail}). "
                f"The {result.checked - 1} entries before it are intact (last good hash {result.head}).",
                returncode=1,
            )
        self.stdout.write(f"OK: {result.checked} entries, chain head {result.head}")
