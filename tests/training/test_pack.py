"""Training from a pack (`training/logo_train.py --pack`, for a lent accelerator): the pack holds the
marks and photos `--write-pack` rendered, so asking for other generated marks or other photos is
refused up front, before PyTorch is even imported, instead of silently training on the pack's."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "training" / "logo_train.py"


def write_pack(path: Path, meta: dict | None) -> Path:
    with zipfile.ZipFile(path, "w") as pack:
        if meta is not None:
            pack.writestr("meta.json", json.dumps(meta))
        pack.writestr("glyphs/00000.png", b"")
        pack.writestr("photos/00000.jpg", b"")
    return path


def train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


MONOGRAM_PACK = {"seed": 13, "generated": [300, 150, 150, 300], "tune_photos": True, "marks": 2190}


def test_a_pack_with_monograms_refuses_a_run_that_asks_for_none(tmp_path):
    pack = write_pack(tmp_path / "pack.zip", MONOGRAM_PACK)
    run = train("--pack", str(pack), "--only", "embedder")
    assert run.returncode != 0
    assert "--monograms 0 (the pack has 300)" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_pack_that_holds_the_tune_photos_refuses_a_held_out_run(tmp_path):
    pack = write_pack(tmp_path / "pack.zip", MONOGRAM_PACK)
    run = train("--pack", str(pack), "--only", "detector", "--monograms", "300", "--hold-out-tune-photos")
    assert run.returncode != 0
    assert "--hold-out-tune-photos (the pack has the tune photos)" in run.stderr
    assert "--monograms" not in run.stderr  # that one matches


def test_a_file_that_is_not_a_pack_is_named_as_such(tmp_path):
    not_zip = tmp_path / "photo.jpg"
    not_zip.write_bytes(b"\xff\xd8\xff not a zip")
    run = train("--pack", str(not_zip), "--only", "embedder")
    assert run.returncode != 0
    assert "not a training pack" in run.stderr
    no_meta = write_pack(tmp_path / "old.zip", None)
    run = train("--pack", str(no_meta), "--only", "embedder")
    assert run.returncode != 0
    assert "not a training pack" in run.stderr


@pytest.mark.parametrize(
    ("meta", "asked", "held_out", "expected"),
    [
        # A meta with three counts (every --write-pack records four; a hand-made one may not): no monograms.
        ({"generated": [300, 150, 150]}, (300, 150, 150, 0), False, []),
        ({"generated": [300, 150, 150]}, (300, 150, 150, 300), False, ["--monograms 300 (the pack has 0)"]),
        ({"generated": [300, 150, 150, 0], "tune_photos": False}, (300, 150, 150, 0), True, []),
        # A meta that does not record its marks: nothing to hold the run to.
        ({"seed": 13}, (100, 0, 0, 300), False, []),
        (
            {"generated": [300, 150, 150, 0], "tune_photos": False},
            (100, 150, 150, 0),
            False,
            ["--words 100 (the pack has 300)", "--hold-out-tune-photos not given (the pack holds them out)"],
        ),
    ],
)
def test_what_a_pack_cannot_honour(meta, asked, held_out, expected):
    if str(ROOT / "training") not in sys.path:
        sys.path.insert(0, str(ROOT / "training"))
    import logo_train

    assert logo_train.pack_mismatch(meta, asked, not held_out) == expected
