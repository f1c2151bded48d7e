"""Where the learned logo stage loses marks: the detector's boxes, then the embedder's ranking.

    .venv/bin/python bench/logo_model_diagnosis.py               (tune split; --split unseen to check)

On bench/logo_data.py's scenes with one mark: the share of marks the detector proposes a box for
(box IoU >= 0.3 with the true one) at several confidences, and the proposals it makes on logo-free
photos; then the rank of the right logo among the split's registered marks when the embedder gets
the true box (a perfect detector) and when it gets the detector's best overlapping box.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import logo_bench  # noqa: E402
import logo_data  # noqa: E402

CONFIDENCES = (0.08, 0.2, 0.3, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=logo_data.SPLITS, default="tune")
    parser.add_argument("--scenes", type=int, default=240)
    args = parser.parse_args()
    from engine import logo_model
    from engine.images import decode_rgb_small
    from engine.matcher import reference_features

    data = logo_data.load_or_build()["splits"][args.split]
    catalogue = data["catalogue"]
    keys = [m["id"] for m in catalogue]
    vectors = [
        logo_model.decode_vectors(reference_features((logo_data.OUT / m["file"]).read_bytes(), kind="logo").marks)
        for m in catalogue
    ]
    models = logo_model.models()

    def rank(crop_vectors: np.ndarray, key: str) -> int:
        similarity = np.array([float(np.max(v @ crop_vectors.T)) for v in vectors])
        return int((similarity > similarity[keys.index(key)]).sum())

    proposed = dict.fromkeys(CONFIDENCES, 0)
    free_proposals = {c: [] for c in CONFIDENCES}
    perfect, detected, scenes = [], [], 0
    for q in data["queries"]:
        if q["task"] not in ("logo_scene", "logo_free"):
            continue
        rgb, (width, _) = decode_rgb_small((logo_data.OUT / q["file"]).read_bytes(), 640)
        factor = width / rgb.shape[1]
        marks = models.detect(rgb, threshold=min(CONFIDENCES))
        if q["task"] == "logo_free":
            for c in CONFIDENCES:
                free_proposals[c].append(sum(m.confidence >= c for m in marks))
            continue
        if scenes >= args.scenes:
            continue
        scenes += 1
        inst = q["instances"][0]
        truth = [v / factor for v in logo_bench._box(inst["quad"])]
        overlapping = [m for m in marks if logo_bench._iou(m.box, truth) >= 0.3]
        for c in CONFIDENCES:
            proposed[c] += any(m.confidence >= c for m in overlapping)
        perfect.append(rank(models.embed(np.stack(logo_model.crops_of(rgb, truth))), inst["logo"]))
        ranks = [rank(models.embed(np.stack(logo_model.crops_of(rgb, m.box))), inst["logo"]) for m in overlapping]
        detected.append(min(ranks) if ranks else None)
    print(f"{args.split} split, {scenes} one-mark scenes, {len(catalogue)} registered marks")
    for c in CONFIDENCES:
        print(
            f"detector confidence >= {c:.2f}: a box on {proposed[c] / scenes:.3f} of the marks; "
            f"{np.mean(free_proposals[c]):.1f} proposals per logo-free photo"
        )
    perfect = np.array(perfect)
    boxed = np.array([r for r in detected if r is not None])
    print(f"embedder, true box: right logo first {np.mean(perfect == 0):.3f}, in the top 5 {np.mean(perfect < 5):.3f}")
    print(
        f"embedder, detector's box (confidence >= {min(CONFIDENCES)}): right logo first "
        f"{np.sum(boxed == 0) / scenes:.3f}, top 5 {np.sum(boxed < 5) / scenes:.3f}, no box {1 - len(boxed) / scenes:.3f}"
    )


if __name__ == "__main__":
    main()
