"""IP rights: filing and its checks, the verification workflow, expiry and reminders, validity checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from brands import services
from brands.models import IPRight
from brands.tasks import rights_expire_and_remind
from brands.validity import right_checks
from core.models import AuditEvent
from core.statemachine import IllegalTransition
from tests.conftest import Cast
from tests.factories import IPRightFactory, MembershipFactory, UserFactory, make_moderator, pdf_file, png_file

pytestmark = pytest.mark.django_db

TODAY = dt.date(2030, 6, 1)


def right_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "trademark_word",
        "title": "AURORA word mark, EU",
        "registration_number": "018000001",
        "office": "EUIPO",
        "jurisdictions": ["EU"],
        "nice_classes": [18, 25],
        "holder_name": "Aurora Leather S.p.A.",
        "valid_from": dt.date(2020, 1, 1),
        "valid_until": timezone.localdate() + dt.timedelta(days=3650),
        "word_mark": "AURORA",
    }
    data.update(overrides)
    return data


def decision_events(right: IPRight) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type="brands.ipright", object_id=str(right.pk))
        .exclude(action__in=["ipright.filed", "ipright.updated"])
        .order_by("at", "id")
    )


def snapshot(right: IPRight) -> dict[str, Any]:
    fresh = IPRight.objects.get(pk=right.pk)
    return {
        "status": fresh.status,
        "status_reason": fresh.status_reason,
        "brand_answer": fresh.brand_answer,
        "decided_by": fresh.decided_by_id,
        "decided_at": fresh.decided_at,
    }


# --- Filing ----------------------------------------------------------------------------


def test_filing_a_right_starts_pending_and_is_audited(cast: Cast) -> None:
    right = services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data())

    right.refresh_from_db()
    assert right.status == "pending"
    assert right.brand == cast.brand_a
    assert right.submitted_by == cast.manager_a
    assert right.submitted_at is not None
    assert right.jurisdictions == ["EU"]
    assert right.nice_classes == [18, 25]
    assert not right.is_usable
    event = AuditEvent.objects.get(action="ipright.filed", object_id=str(right.pk))
    assert event.actor == cast.manager_a
    assert event.brand_id == cast.brand_a.pk
    assert event.to_state == "pending"


def test_filing_normalises_codes_classes_and_spacing(cast: Cast) -> None:
    right = services.right_create(
        actor=cast.manager_a,
        brand=cast.brand_a,
        **right_data(
            title="  AURORA   word mark ",
            jurisdictions="fr, de;fr it",
            nice_classes="25, 18 18",
        ),
    )
    assert right.title == "AURORA word mark"
    assert right.jurisdictions == ["FR", "DE", "IT"]
    assert right.nice_classes == [18, 25]


def test_figurative_mark_with_its_image_is_filed_with_the_image_stored(cast: Cast, media: Path) -> None:
    right = services.right_create(
        actor=cast.manager_a,
        brand=cast.brand_a,
        mark_image=png_file("my logo.png", seed=3),
        **right_data(kind="trademark_figurative", word_mark=""),
    )
    assert right.mark_image.name.startswith(f"marks/{cast.brand_a.pk}/")
    assert "my logo" not in right.mark_image.name
    assert (media / right.mark_image.name).is_file()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"nice_classes": [0]}, "nice_classes", id="class-0"),
        pytest.param({"nice_classes": [18, 46]}, "nice_classes", id="class-46"),
        pytest.param({"nice_classes": ["leather"]}, "nice_classes", id="class-not-a-number"),
        pytest.param({"kind": "copyright", "nice_classes": [18]}, "nice_classes", id="classes-on-copyright"),
        pytest.param({"nice_classes": []}, "nice_classes", id="trademark-without-classes"),
        pytest.param({"jurisdictions": ["FRA"]}, "jurisdictions", id="three-letter-code"),
        pytest.param({"jurisdictions": ["F1"]}, "jurisdictions", id="digit-in-code"),
        pytest.param({"jurisdictions": []}, "jurisdictions", id="no-jurisdiction"),
        pytest.param(
            {"valid_from": dt.date(2024, 5, 1), "valid_until": dt.date(2024, 4, 30)},
            "valid_until",
            id="end-before-start",
        ),
        pytest.param({"word_mark": "   "}, "word_mark", id="word-mark-without-text"),
        pytest.param({"kind": "trademark_figurative", "word_mark": ""}, "mark_image", id="figurative-without-image"),
        pytest.param({"office": "OTHER", "office_other": " "}, "office_other", id="other-office-unnamed"),
        pytest.param({"office": "NOPE"}, "office", id="unknown-office"),
        pytest.param({"kind": "trademark_bogus"}, "kind", id="unknown-kind"),
        pytest.param({"holder_name": ""}, "holder_name", id="no-holder"),
        pytest.param({"registration_number": "  "}, "registration_number", id="no-number"),
    ],
)
def test_invalid_right_is_refused_naming_the_field_and_nothing_is_saved(
    cast: Cast, overrides: dict[str, Any], field: str, media: Path
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data(**overrides))

    assert field in excinfo.value.message_dict
    assert all(message.strip() for message in excinfo.value.message_dict[field])
    assert not IPRight.objects.exists()
    assert not AuditEvent.objects.filter(action="ipright.filed").exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_unknown_country_code_is_refused(cast: Cast) -> None:
    # "XX" has the right shape but is no country: a typo must not file a right protected nowhere.
    with pytest.raises(ValidationError) as excinfo:
        services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data(jurisdictions=["FR", "XX"]))
    assert "XX" in " ".join(excinfo.value.message_dict["jurisdictions"])
    assert not IPRight.objects.exists()


def test_filing_with_its_certificate_attaches_the_document(cast: Cast) -> None:
    right = services.right_create(
        actor=cast.manager_a, brand=cast.brand_a, certificate=pdf_file("EUTM certificate.pdf"), **right_data()
    )
    [document] = right.documents.all()
    assert document.kind == "certificate"
    assert document.brand == cast.brand_a
    assert document.original_name == "EUTM_certificate.pdf"


def test_filing_with_a_certificate_already_on_file_saves_nothing(cast: Cast, media: Path) -> None:
    services.document_upload(actor=cast.manager_a, brand=cast.brand_a, file=pdf_file("first.pdf"), kind="other")
    files_before = sorted(p for p in media.rglob("*") if p.is_file())

    with pytest.raises(ValidationError) as excinfo:
        services.right_create(
            actor=cast.manager_a,
            brand=cast.brand_a,
            mark_image=png_file(seed=11),
            certificate=pdf_file("same content.pdf"),
            **right_data(kind="trademark_combined"),
        )

    assert "first.pdf" in " ".join(excinfo.value.messages)
    assert not IPRight.objects.exists()
    assert sorted(p for p in media.rglob("*") if p.is_file()) == files_before


def test_filing_with_a_broken_certificate_saves_nothing(cast: Cast, media: Path) -> None:
    broken = pdf_file("scan.pdf")
    broken.file.truncate(100)
    with pytest.raises(ValidationError):
        services.right_create(actor=cast.manager_a, brand=cast.brand_a, certificate=broken, **right_data())
    assert not IPRight.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_duplicate_registration_is_refused_naming_the_existing_right(cast: Cast) -> None:
    first = services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data(title="AURORA EU mark"))

    with pytest.raises(ValidationError) as excinfo:
        services.right_create(
            actor=cast.manager_a,
            brand=cast.brand_a,
            **right_data(title="Another title", registration_number="018000001"),
        )

    message = " ".join(excinfo.value.message_dict["registration_number"])
    assert "AURORA EU mark" in message
    assert IPRight.objects.filter(brand=cast.brand_a).count() == 1
    assert IPRight.objects.get(brand=cast.brand_a) == first


def test_same_registration_in_another_office_or_brand_is_accepted(cast: Cast) -> None:
    services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data())
    services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data(office="DPMA", jurisdictions=["DE"]))
    services.right_create(actor=cast.manager_b, brand=cast.brand_b, **right_data())
    assert IPRight.objects.count() == 3


# --- Moderator decisions and resubmission ------------------------------------------------


@pytest.mark.parametrize(
    ("start", "action", "reason", "target"),
    [
        ("pending", "verify", "", "verified"),
        ("pending", "reject", "The certificate belongs to another holder.", "rejected"),
        ("pending", "request_info", "Please upload the renewal certificate.", "needs_info"),
        ("resubmitted", "verify", "", "verified"),
        ("resubmitted", "reject", "Still the wrong holder.", "rejected"),
        ("resubmitted", "request_info", "Which classes were renewed?", "needs_info"),
    ],
)
def test_moderator_decision_moves_the_right_and_is_audited(
    cast: Cast, start: str, action: str, reason: str, target: str
) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=start)

    result = services.right_decide(actor=cast.moderator, right=right, action=action, reason=reason)

    assert result.status == target
    fresh = IPRight.objects.get(pk=right.pk)
    assert fresh.status == target
    assert fresh.decided_by == cast.moderator
    assert fresh.decided_at is not None
    assert fresh.status_reason == reason
    [event] = decision_events(right)
    assert event.action == f"ipright.{action}"
    assert (event.from_state, event.to_state) == (start, target)
    assert event.actor == cast.moderator
    assert event.reason == reason
    assert event.brand_id == cast.brand_a.pk


def test_platform_admin_may_decide_too(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    services.right_decide(actor=cast.admin, right=right, action="verify")
    assert IPRight.objects.get(pk=right.pk).status == "verified"


@pytest.mark.parametrize("start", ["needs_info", "rejected"])
def test_manager_resubmits_with_an_answer(cast: Cast, start: str) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=start, status_reason="Which holder?")

    services.right_resubmit(actor=cast.manager_a, right=right, answer="  Uploaded the assignment deed.  ")

    fresh = IPRight.objects.get(pk=right.pk)
    assert fresh.status == "resubmitted"
    assert fresh.brand_answer == "Uploaded the assignment deed."
    [event] = decision_events(right)
    assert event.action == "ipright.resubmit"
    assert (event.from_state, event.to_state) == (start, "resubmitted")
    assert event.actor == cast.manager_a
    assert event.reason == "Uploaded the assignment deed."


def test_full_review_round_trip_ends_verified(cast: Cast) -> None:
    right = services.right_create(actor=cast.manager_a, brand=cast.brand_a, **right_data())
    services.right_decide(actor=cast.moderator, right=right, action="request_info", reason="Renewal certificate?")
    services.right_resubmit(actor=cast.manager_a, right=right, answer="Attached.")
    services.right_decide(actor=cast.moderator, right=right, action="verify")

    assert IPRight.objects.get(pk=right.pk).is_usable
    trail = [(e.from_state, e.to_state) for e in decision_events(right)]
    assert trail == [("pending", "needs_info"), ("needs_info", "resubmitted"), ("resubmitted", "verified")]


@pytest.mark.parametrize("start", ["verified", "rejected", "needs_info", "expired"])
@pytest.mark.parametrize("action", ["verify", "reject", "request_info"])
def test_decision_from_a_state_that_does_not_allow_it_is_refused_and_changes_nothing(
    cast: Cast, start: str, action: str
) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=start, status_reason="earlier")
    before = snapshot(right)

    with pytest.raises(IllegalTransition) as excinfo:
        services.right_decide(actor=cast.moderator, right=right, action=action, reason="A reason.")

    assert start.replace("_", " ") in excinfo.value.messages[0]
    assert snapshot(right) == before
    assert decision_events(right) == []


@pytest.mark.parametrize("start", ["pending", "resubmitted", "verified", "expired"])
def test_resubmitting_a_right_that_is_not_waiting_for_the_brand_is_refused(cast: Cast, start: str) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=start)
    before = snapshot(right)

    with pytest.raises(IllegalTransition):
        services.right_resubmit(actor=cast.manager_a, right=right, answer="Here it is.")

    assert snapshot(right) == before
    assert decision_events(right) == []


@pytest.mark.parametrize("action", ["reject", "request_info"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_or_question_without_a_reason_is_refused(cast: Cast, action: str, reason: str) -> None:
    right = IPRightFactory(brand=cast.brand_a)

    with pytest.raises(ValidationError) as excinfo:
        services.right_decide(actor=cast.moderator, right=right, action=action, reason=reason)

    assert "reason" in excinfo.value.message_dict
    assert snapshot(right)["status"] == "pending"
    assert decision_events(right) == []


def test_resubmitting_without_an_answer_is_refused(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, status="needs_info")

    with pytest.raises(ValidationError) as excinfo:
        services.right_resubmit(actor=cast.manager_a, right=right, answer="  ")

    assert "answer" in excinfo.value.message_dict
    assert snapshot(right)["status"] == "needs_info"


def test_unknown_decision_is_refused(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    with pytest.raises(ValidationError) as excinfo:
        services.right_decide(actor=cast.moderator, right=right, action="approve")
    assert "action" in excinfo.value.message_dict
    assert snapshot(right)["status"] == "pending"


@pytest.mark.parametrize("who", ["manager_a", "viewer_a", "manager_b"])
def test_brand_members_cannot_decide_on_rights(cast: Cast, who: str) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    before = snapshot(right)

    with pytest.raises(PermissionDenied):
        services.right_decide(actor=getattr(cast, who), right=right, action="verify")

    assert snapshot(right) == before
    assert decision_events(right) == []


@pytest.mark.parametrize("who", ["moderator", "viewer_a", "manager_b"])
def test_only_the_brands_managers_can_resubmit(cast: Cast, who: str) -> None:
    right = IPRightFactory(brand=cast.brand_a, status="needs_info")
    before = snapshot(right)

    with pytest.raises(PermissionDenied):
        services.right_resubmit(actor=getattr(cast, who), right=right, answer="Answer.")

    assert snapshot(right) == before


def test_verifying_a_right_whose_end_date_has_passed_is_refused(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, valid_until=timezone.localdate() - dt.timedelta(days=1))

    with pytest.raises(ValidationError) as excinfo:
        services.right_decide(actor=cast.moderator, right=right, action="verify")

    assert "cannot be verified" in " ".join(excinfo.value.messages)
    assert snapshot(right)["status"] == "pending"
    assert decision_events(right) == []


def test_a_stale_copy_cannot_be_decided_after_another_moderator_decided(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    stale = IPRight.objects.get(pk=right.pk)  # opened by the first moderator before anyone decided
    other = make_moderator("moderator2")
    services.right_decide(actor=other, right=IPRight.objects.get(pk=right.pk), action="verify")

    with pytest.raises(IllegalTransition):
        services.right_decide(actor=cast.moderator, right=stale, action="reject", reason="Looks forged.")

    fresh = IPRight.objects.get(pk=right.pk)
    assert fresh.status == "verified"
    assert fresh.decided_by == other
    assert fresh.status_reason == ""
    assert [e.actor for e in decision_events(right)] == [other]


# --- Editing -----------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["pending", "needs_info", "rejected", "resubmitted"])
def test_right_can_be_corrected_until_it_is_verified(cast: Cast, start: str) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=start, title="Old title")

    services.right_update(actor=cast.manager_a, right=right, title="New title", nice_classes=[18])

    fresh = IPRight.objects.get(pk=right.pk)
    assert (fresh.title, fresh.nice_classes, fresh.status) == ("New title", [18], start)
    event = AuditEvent.objects.get(action="ipright.updated", object_id=str(right.pk))
    assert event.actor == cast.manager_a
    assert event.data["title"] == {"from": "Old title", "to": "New title"}


@pytest.mark.parametrize("start", ["verified", "expired"])
def test_verified_or_expired_right_cannot_be_edited(cast: Cast, start: str) -> None:
    right = IPRightFactory(brand=cast.brand_a, status=start, title="Kept")

    with pytest.raises(ValidationError):
        services.right_update(actor=cast.manager_a, right=right, title="Changed")

    assert IPRight.objects.get(pk=right.pk).title == "Kept"
    assert not AuditEvent.objects.filter(action="ipright.updated").exists()


def test_correction_is_validated_like_a_filing(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a)
    with pytest.raises(ValidationError) as excinfo:
        services.right_update(actor=cast.manager_a, right=right, nice_classes=[99])
    assert "nice_classes" in excinfo.value.message_dict
    assert IPRight.objects.get(pk=right.pk).nice_classes == [18, 25]


def test_correction_cannot_collide_with_another_right_of_the_brand(cast: Cast) -> None:
    IPRightFactory(brand=cast.brand_a, registration_number="111", title="First mark")
    second = IPRightFactory(brand=cast.brand_a, registration_number="222")
    with pytest.raises(ValidationError) as excinfo:
        services.right_update(actor=cast.manager_a, right=second, registration_number="111")
    assert "First mark" in " ".join(excinfo.value.message_dict["registration_number"])
    assert IPRight.objects.get(pk=second.pk).registration_number == "222"


# --- Emails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("reject", "The certificate is illegible."),
        ("request_info", "Please upload the 2024 renewal certificate."),
        ("verify", ""),
    ],
)
def test_decision_emails_the_brands_managers(
    cast: Cast, django_capture_on_commit_callbacks: Any, action: str, reason: str
) -> None:
    second_manager = UserFactory(username="second_manager_a")
    MembershipFactory(user=second_manager, brand=cast.brand_a, role="manager")
    right = IPRightFactory(brand=cast.brand_a, title="AURORA word mark")

    with django_capture_on_commit_callbacks(execute=True):
        services.right_decide(actor=cast.moderator, right=right, action=action, reason=reason)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([cast.manager_a.email, second_manager.email])
    assert cast.viewer_a.email not in message.to
    assert cast.manager_b.email not in message.to
    assert "AURORA word mark" in message.subject
    assert reason in message.body
    assert f"/{right.pk}" in message.body  # a link to the right


def test_refused_decision_sends_no_email(cast: Cast, django_capture_on_commit_callbacks: Any) -> None:
    right = IPRightFactory(brand=cast.brand_a, status="verified")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
        services.right_decide(actor=cast.moderator, right=right, action="reject", reason="No.")
    assert mail.outbox == []


# --- Expiry and reminders (daily beat task) ------------------------------------------------


def test_daily_task_expires_verified_rights_past_their_end_and_tells_managers(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    today = timezone.localdate()
    ended = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=today - dt.timedelta(days=1))
    in_force = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=today + dt.timedelta(days=400))
    pending_ended = IPRightFactory(brand=cast.brand_a, valid_until=today - dt.timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        result = rights_expire_and_remind.apply()

    assert result.successful()
    assert result.get()["expired"] == 1
    assert IPRight.objects.get(pk=ended.pk).status == "expired"
    assert IPRight.objects.get(pk=in_force.pk).status == "verified"
    assert IPRight.objects.get(pk=pending_ended.pk).status == "pending"
    [event] = decision_events(ended)
    assert event.action == "ipright.expire"
    assert (event.from_state, event.to_state) == ("verified", "expired")
    assert event.actor is None
    assert event.actor_label == "system"
    assert next(m for m in mail.outbox if "expired" in m.subject).to == [cast.manager_a.email]


def test_right_ending_today_is_still_in_force(cast: Cast) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=TODAY)
    assert services.rights_expire_due(today=TODAY) == 0
    assert IPRight.objects.get(pk=right.pk).status == "verified"
    assert services.rights_expire_due(today=TODAY + dt.timedelta(days=1)) == 1
    assert IPRight.objects.get(pk=right.pk).status == "expired"


def test_reminders_go_once_30_and_7_days_before_the_end(cast: Cast, django_capture_on_commit_callbacks: Any) -> None:
    in_20_days = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=TODAY + dt.timedelta(days=20))
    in_5_days = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=TODAY + dt.timedelta(days=5))
    in_40_days = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=TODAY + dt.timedelta(days=40))
    pending_in_5 = IPRightFactory(brand=cast.brand_a, valid_until=TODAY + dt.timedelta(days=5))

    with django_capture_on_commit_callbacks(execute=True):
        first_run = services.rights_remind_expiring(today=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        second_run = services.rights_remind_expiring(today=TODAY)

    assert (first_run, second_run) == (2, 0)
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 2
    assert any(in_20_days.title in s and "ends in 20 days" in s for s in subjects)
    assert any(in_5_days.title in s and "ends in 5 days" in s for s in subjects)
    assert all(m.to == [cast.manager_a.email] for m in mail.outbox)
    assert IPRight.objects.get(pk=in_20_days.pk).reminder_30_sent_at is not None
    assert IPRight.objects.get(pk=in_20_days.pk).reminder_7_sent_at is None
    assert IPRight.objects.get(pk=in_5_days.pk).reminder_7_sent_at is not None
    assert IPRight.objects.get(pk=in_40_days.pk).reminder_30_sent_at is None
    assert IPRight.objects.get(pk=pending_in_5.pk).reminder_7_sent_at is None


def test_a_right_gets_its_30_day_then_its_7_day_reminder_and_nothing_more(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    right = IPRightFactory(brand=cast.brand_a, verified=True, valid_until=TODAY + dt.timedelta(days=30))

    sent = []
    for day in range(0, 31):
        with django_capture_on_commit_callbacks(execute=True):
            sent.append(services.rights_remind_expiring(today=TODAY + dt.timedelta(days=day)))

    assert sum(sent) == 2
    assert sent[0] == 1  # 30 days before
    assert sent[23] == 1  # 7 days before
    assert [m.subject.rsplit(" ", 3)[-3:] for m in mail.outbox] == [["in", "30", "days"], ["in", "7", "days"]]
    right.refresh_from_db()
    assert right.reminder_30_sent_at is not None
    assert right.reminder_7_sent_at is not None


def test_reminder_the_day_before_reads_in_the_singular(cast: Cast, django_capture_on_commit_callbacks: Any) -> None:
    IPRightFactory(brand=cast.brand_a, verified=True, title="AURORA", valid_until=TODAY + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.rights_remind_expiring(today=TODAY)
    [message] = mail.outbox
    assert "ends in 1 day" in message.body
    assert message.subject.endswith("AURORA ends in 1 day")


def test_daily_task_run_twice_reminds_once(cast: Cast, django_capture_on_commit_callbacks: Any) -> None:
    IPRightFactory(brand=cast.brand_a, verified=True, valid_until=timezone.localdate() + dt.timedelta(days=6))
    with django_capture_on_commit_callbacks(execute=True):
        first = rights_expire_and_remind.apply().get()
    with django_capture_on_commit_callbacks(execute=True):
        second = rights_expire_and_remind.apply().get()
    assert (first["reminded"], second["reminded"]) == (1, 0)
    assert len(mail.outbox) == 1


# --- Validity checks shown beside a right --------------------------------------------------


def checks_by_title(right: IPRight, today: dt.date = TODAY) -> dict[str, str]:
    return {check.title: check.level for check in right_checks(right, today=today)}


def detail_of(right: IPRight, title: str, today: dt.date = TODAY) -> str:
    return next(check.detail for check in right_checks(right, today=today) if check.title == title)


def test_checks_flag_an_expired_right(cast: Cast) -> None:
    right = IPRightFactory.build(brand=cast.brand_a, valid_until=TODAY - dt.timedelta(days=1))
    assert checks_by_title(right)["Expired"] == "problem"


def test_checks_warn_about_a_right_expiring_soon(cast: Cast) -> None:
    right = IPRightFactory.build(brand=cast.brand_a, valid_until=TODAY + dt.timedelta(days=10))
    assert checks_by_title(right)["Expiring soon"] == "warning"
    assert "10 days" in detail_of(right, "Expiring soon")


def test_checks_call_a_right_with_a_distant_end_in_force(cast: Cast) -> None:
    right = IPRightFactory.build(brand=cast.brand_a, valid_until=TODAY + dt.timedelta(days=400))
    titles = checks_by_title(right)
    assert titles["In force"] == "ok"
    assert "Expired" not in titles
    assert "Expiring soon" not in titles


@pytest.mark.parametrize(
    ("markets", "jurisdictions", "covered"),
    [
        (["EU"], ["FR"], True),  # a member state counts for the EU market
        (["FR"], ["EU"], True),  # an EU right counts for a member state's market
        (["US", "EU", "GB"], ["DE", "CN"], True),
        (["US", "EU", "GB"], ["CN"], False),
        (["EU"], ["CH", "NO"], False),
        (["US"], ["WO"], False),
    ],
)
def test_checks_flag_rights_outside_the_marketplace_markets(
    cast: Cast, settings: Any, markets: list[str], jurisdictions: list[str], covered: bool
) -> None:
    settings.MARKETPLACE_MARKETS = markets
    right = IPRightFactory.build(brand=cast.brand_a, jurisdictions=jurisdictions)
    titles = checks_by_title(right)
    if covered:
        assert titles["Covers this marketplace"] == "ok"
        assert "Outside this marketplace's markets" not in titles
    else:
        assert titles["Outside this marketplace's markets"] == "problem"
        assert "Covers this marketplace" not in titles


def test_checks_list_the_goods_categories_of_the_nice_classes(cast: Cast) -> None:
    right = IPRightFactory.build(brand=cast.brand_a, nice_classes=[18, 25])
    assert checks_by_title(right)["Goods covered"] == "ok"
    detail = detail_of(right, "Goods covered")
    assert "bags" in detail
    assert "clothing" in detail


def test_checks_warn_when_the_classes_cover_services_only(cast: Cast) -> None:
    right = IPRightFactory.build(brand=cast.brand_a, nice_classes=[35, 41])
    assert checks_by_title(right)["Services only"] == "warning"


def test_checks_say_nothing_about_classes_for_a_copyright(cast: Cast) -> None:
    right = IPRightFactory.build(brand=cast.brand_a, kind="copyright", nice_classes=[])
    titles = checks_by_title(right)
    assert not {"Goods covered", "Services only", "No goods classes"} & set(titles)
