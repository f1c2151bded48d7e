"""Known vulnerabilities in our pinned dependencies (pip-audit against PyPI's advisory data).

Fails when a pinned version has a known vulnerability. A package the advisory service could not
answer for (offline, a mirror without per-version data) is listed and counted, never silently passed:
with --strict, even one such package fails the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def summarize(report: dict[str, Any], *, strict: bool) -> tuple[list[str], int]:
    """The lines to print and the exit status for one pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    unaudited = [dep for dep in dependencies if dep.get("skip_reason")]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            lines.append(f"VULNERABLE {dep['name']}=={dep.get('version', '?')}: {vuln['id']} (fixed in: {fixed})")
    checked = len(dependencies) - len(unaudited)
    lines.append(
        f"pip-audit: {len(dependencies)} pinned packages, {checked} checked, {len(vulnerable)} with known "
        "vulnerabilities"
    )
    if unaudited:
        names = ", ".join(dep["name"] for dep in unaudited)
        lines.append(f"NOT CHECKED ({len(unaudited)}): the advisory service did not answer for: {names}")
    status = 1 if vulnerable or (strict and unaudited) else 0
    return lines, status


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    cmd = [str(pip_audit), "-r", str(ROOT / "requirements.txt"), "--no-deps", "--disable-pip",
           "--progress-spinner", "off", "--format", "json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(done.stdout[-3000:], done.stderr[-3000:], "pip-audit gave no report", sep="\n")
        return 2
    lines, status = summarize(report, strict="--strict" in sys.argv[1:])
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
