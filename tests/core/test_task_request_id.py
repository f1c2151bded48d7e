"""Audit entries written by a Celery task name the task run; inside a request they keep the request's id."""

from __future__ import annotations

import pytest
from celery import shared_task

from core.models import AuditEvent
from core.request_context import request_id_scope
from core.services import audit_record

pytestmark = pytest.mark.django_db


@shared_task(name="tests.audit_something")
def audit_something(brand_id: int) -> str:
    from brands.models import Brand

    return audit_record(actor=None, action="test.touched", obj=Brand.objects.get(pk=brand_id)).request_id


def test_a_task_run_stamps_its_audit_entries_with_its_id(cast) -> None:
    result = audit_something.apply_async(args=[cast.brand_a.pk])
    assert result.get() == f"task:{result.id}"
    assert AuditEvent.objects.get(action="test.touched").request_id == f"task:{result.id}"


def test_a_task_run_in_process_inside_a_request_keeps_the_request_id(cast) -> None:
    with request_id_scope("req-123"):
        assert audit_something.apply_async(args=[cast.brand_a.pk]).get() == "req-123"
