"""`make audit` fails on a known vulnerability and never passes a package it could not check silently."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)


def test_a_known_vulnerability_fails_the_audit() -> None:
    report = {
        "dependencies": [
            {"name": "django", "version": "4.2.0", "vulns": [{"id": "PYSEC-2023-1", "fix_versions": ["4.2.1"]}]},
            {"name": "celery", "version": "5.7.0", "vulns": []},
        ]
    }
    lines, status = audit.summarize(report, strict=False)
    assert status == 1
    assert "VULNERABLE django==4.2.0: PYSEC-2023-1 (fixed in: 4.2.1)" in lines
    assert "2 pinned packages, 2 checked, 1 with known vulnerabilities" in lines[-1]


def test_packages_the_service_could_not_answer_for_are_named_and_fail_a_strict_run() -> None:
    report = {"dependencies": [{"name": "ruff", "skip_reason": "not found"}, {"name": "celery", "vulns": []}]}
    lines, status = audit.summarize(report, strict=False)
    assert status == 0
    assert lines[-1] == "NOT CHECKED (1): the advisory service did not answer for: ruff"
    assert audit.summarize(report, strict=True)[1] == 1
    assert audit.summarize({"dependencies": [{"name": "celery", "vulns": []}]}, strict=True)[1] == 0
