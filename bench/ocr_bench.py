"""Text in listing photos: does the OCR stage find a brand's word mark, and what does it cost?

    .venv/bin/python bench/ocr_bench.py                  (unseen split, ~4 min on 2 cores)
    .venv/bin/python bench/ocr_bench.py --quick          (subset, ~1 min; what CI runs)
    .venv/bin/python bench/ocr_bench.py --split tune     (the split the gate's thresholds were chosen on)

Scenes are generated in memory, seeded, on the matching benchmark's distractor photos
(bench/matching_data.py; split by source with bench/logo_data.split_of, as the logo benchmark
does). Words, fonts and backgrounds each belong to one split; the unseen split's fonts
(FreeFont, URW base35) never appear in the tune split (DejaVu, Liberation).

* ``mark``: a catalogue word mark written in the photo: 8-90 px high, level or rotated up to
  20 degrees, any colour a person can tell from what it sits on, in an evasive spelling one time
  in two (leetspeak, spaced or dotted letters, mixed case), sometimes with a second line of
  unrelated text, JPEG q50-90;
* ``terms``: counterfeit vocabulary ("REPLICA 1:1", "AAA quality"...) and no mark;
* ``unrelated``: shop talk ("FREE SHIPPING", "100% cotton") and other brands' names (at least
  three edits from every catalogue mark): must match no mark;
* ``text_free``: the split's photos as they are: must match no mark.

Every scene is read twice in the same run: by the product (`engine.ocr.read_array`, gate on) and
by the baseline that reads every photo in full (`gate=False`), then matched with the product's
`WordMarkMatcher` over the catalogue marks, as listings/matching.py does. Figures: word-mark
recall (overall, on legible text >= 12 px high, by height, angle, spelling, font), false mark
detections per scene type, counterfeit-term recall, ms per photo (median, mean) and the share of
photos the gate sends to the reader.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import logo_data  # noqa: E402
import matching_data  # noqa: E402

from engine import ocr  # noqa: E402
from engine.text_signals import WordMarkMatcher, counterfeit_terms  # noqa: E402

SPLITS = ("tune", "unseen")
FONTS = {
    "tune": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Oblique.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf",
    ],
    "unseen": [
        "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
        "/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf",
        "/usr/share/fonts/opentype/urw-base35/URWGothic-Demi.otf",
        "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf",
        "/usr/share/fonts/opentype/urw-base35/P052-Roman.otf",
        "/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Regular.otf",
    ],
}
COUNTS = {"marks": 30, "mark": 150, "terms": 40, "unrelated": 60, "text_free": 60}
QUICK = {"marks": 12, "mark": 40, "terms": 10, "unrelated": 16, "text_free": 16}
TERMS = ["REPLICA", "REPLICA 1:1", "1:1 COPY", "AAA QUALITY", "SUPER COPY", "Mirror quality replica", "FAKE"]
SHOP_TALK = [
    "FREE SHIPPING",
    "100% cotton",
    "Summer Sale -50%",
    "Made in Italy",
    "NEW ARRIVAL",
    "Size M",
    "Best seller",
    "Genuine leather",
    "Limited offer",
    "Gift for her",
    "Waterproof",
    "2 year warranty",
]
LEET = {"i": "1", "o": "0", "e": "3", "a": "4", "s": "5"}
SPELLINGS = ("plain", "upper", "lower", "leet", "spaced", "dotted", "mixed")
MIN_COLOUR_DISTANCE = 110


def log(message: str) -> None:
    print(f"[ocr-bench] {message}", flush=True)


def _damerau(a: str, b: str) -> int:
    from engine.text_signals import _damerau as distance

    return distance(a, b)


def make_words(split: str, seed: int, count: int) -> tuple[list[str], list[str]]:
    """Catalogue marks and other brands' names for one split (other names >= 3 edits from every mark)."""
    rng = matching_data.rng_for(seed, "ocr-words", split)
    marks: list[str] = []
    while len(marks) < count:
        word = logo_data.fake_word(rng).capitalize()
        if logo_data.split_of(f"ocr:{word}") == split and all(_damerau(word.lower(), m.lower()) >= 3 for m in marks):
            marks.append(word)
    others: list[str] = []
    while len(others) < count:
        word = logo_data.fake_word(rng).capitalize()
        lower = word.lower()
        if all(_damerau(lower, m.lower()) >= 3 and m.lower() not in lower and lower not in m.lower() for m in marks):
            others.append(word)
    return marks, others


def spell(word: str, style: str, rng: random.Random) -> str:
    if style == "upper":
        return word.upper()
    if style == "lower":
        return word.lower()
    if style == "leet":
        letters = [i for i, ch in enumerate(word.lower()) if ch in LEET]
        if not letters:
            return word.upper()
        i = rng.choice(letters)
        return (word[:i] + LEET[word[i].lower()] + word[i + 1 :]).upper()
    if style == "spaced":
        return " ".join(word.upper())
    if style == "dotted":
        return ".".join(word.upper())
    if style == "mixed":
        return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in word)
    return word


def _text_layer(text: str, font_path: str, height_px: float) -> Image.Image:
    """The text as an alpha mask whose capital letters are `height_px` high."""
    probe = ImageFont.truetype(font_path, 100)
    cap = probe.getbbox("H")
    size = max(4, round(100 * height_px / max(1, cap[3] - cap[1])))
    font = ImageFont.truetype(font_path, size)
    box = font.getbbox(text)
    pad = size // 3
    layer = Image.new("L", (box[2] - box[0] + 2 * pad, box[3] - box[1] + 2 * pad), 0)
    ImageDraw.Draw(layer).text((pad - box[0], pad - box[1]), text, font=font, fill=255)
    return layer


def place_text(
    scene: Image.Image, text: str, font: str, height_px: float, angle: float, rng: random.Random, avoid: list
) -> dict | None:
    mask = _text_layer(text, font, height_px).rotate(angle, expand=True, resample=Image.BICUBIC)
    W, H = scene.size
    if mask.width >= W * 0.95 or mask.height >= H * 0.9:
        return None
    array = np.asarray(scene, np.float32)
    for _ in range(20):
        x, y = rng.randrange(0, W - mask.width), rng.randrange(0, H - mask.height)
        box = (x, y, x + mask.width, y + mask.height)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in avoid):
            continue
        under = logo_data._region_mean(array, x + mask.width / 2, y + mask.height / 2, mask.width, mask.height)
        for _ in range(30):
            colour = np.array([rng.randrange(256) for _ in range(3)], np.float32)
            if rng.random() < 0.4:
                colour = np.full(3, 255.0 if under.mean() < 128 else 0.0)
            if np.linalg.norm(colour - under) >= MIN_COLOUR_DISTANCE:
                break
        else:
            continue
        solid = Image.new("RGB", mask.size, tuple(int(c) for c in colour))
        scene.paste(solid, (x, y), mask)
        return {"box": box, "colour": [int(c) for c in colour]}
    return None


def make_scenes(split: str, seed: int, counts: dict) -> tuple[list[str], list[dict]]:
    base = matching_data.load_or_build(seed=7)
    backgrounds = [d for d in base["photos"]["distractors"] if logo_data.split_of(d["group"]) == split]
    marks, others = make_words(split, seed, counts["marks"])
    fonts = [f for f in FONTS[split] if Path(f).exists()]
    if not fonts:
        raise SystemExit(f"no fonts for the {split} split: apt-get install {' '.join(logo_data.FONT_PACKAGES)}")
    rng = matching_data.rng_for(seed, "ocr-scenes", split)
    scenes: list[dict] = []

    def background() -> Image.Image:
        photo = rng.choice(backgrounds)
        image = Image.open(matching_data.OUT / photo["file"]).convert("RGB")
        long_side = rng.randint(800, 1200)
        scale = long_side / max(image.size)
        return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)

    def finish(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=50 if rng.random() < 0.25 else rng.randint(60, 90))
        return out.getvalue()

    for task in ("mark", "terms", "unrelated", "text_free"):
        n = 0
        while n < counts[task]:
            scene = background()
            label: dict = {"task": task, "font": "", "height": 0.0, "angle": 0.0, "spelling": "", "mark": None}
            placed: list = []
            if task == "mark":
                mark = rng.choice(marks)
                style = rng.choice(SPELLINGS) if rng.random() < 0.5 else "plain"
                height = math.exp(rng.uniform(math.log(8), math.log(90)))
                angle = 0.0 if rng.random() < 0.5 else rng.uniform(-20, 20)
                font = rng.choice(fonts)
                spot = place_text(scene, spell(mark, style, rng), font, height, angle, rng, placed)
                if spot is None:
                    continue
                placed.append(spot["box"])
                label.update(
                    mark=mark,
                    spelling=style,
                    height=round(height, 1),
                    angle=round(angle, 1),
                    font=Path(font).stem,
                    box=spot["box"],
                )
                if rng.random() < 0.4:
                    place_text(
                        scene,
                        rng.choice(SHOP_TALK),
                        rng.choice(fonts),
                        height * rng.uniform(0.5, 1.0),
                        angle,
                        rng,
                        placed,
                    )
            elif task == "terms":
                term = rng.choice(TERMS)
                height = math.exp(rng.uniform(math.log(12), math.log(70)))
                spot = place_text(scene, term, rng.choice(fonts), height, rng.uniform(-10, 10), rng, placed)
                if spot is None:
                    continue
                label.update(term=term, height=round(height, 1))
            elif task == "unrelated":
                for _ in range(rng.randint(1, 3)):
                    text = rng.choice(SHOP_TALK) if rng.random() < 0.6 else rng.choice(others).upper()
                    spot = place_text(
                        scene,
                        text,
                        rng.choice(fonts),
                        math.exp(rng.uniform(math.log(12), math.log(70))),
                        rng.uniform(-15, 15),
                        rng,
                        placed,
                    )
                    if spot is not None:
                        placed.append(spot["box"])
                if not placed:
                    continue
            scenes.append({**label, "data": finish(scene)})
            n += 1
    return marks, scenes


def image_hits(matcher: WordMarkMatcher, result: ocr.OcrResult) -> list[str]:
    return [owner for owner, _ in matcher.find(title="\n".join(line.text for line in result.lines))]


def evaluate(marks: list[str], scenes: list[dict]) -> dict:
    from engine.images import decode_rgb_small

    matcher = WordMarkMatcher([(mark, mark) for mark in marks])
    ocr.read_array(np.zeros((64, 64, 3), np.uint8), gate=False)  # load the models outside the timings
    rows = []
    for scene in scenes:
        row = {k: v for k, v in scene.items() if k != "data"}
        rgb, size = decode_rgb_small(scene["data"], ocr.READ_SIDE // 2, max_side=ocr.READ_SIDE)
        rgb = np.ascontiguousarray(rgb)
        for engine, gate in (("product", True), ("read_all", False)):
            started = time.perf_counter()
            result = ocr.read_array(rgb, gate=gate, original_size=size)
            row[f"{engine}_ms"] = (time.perf_counter() - started) * 1000
            row[f"{engine}_hits"] = image_hits(matcher, result)
            row[f"{engine}_read"] = not result.gated
            row[f"{engine}_text"] = result.text
            row[f"{engine}_terms"] = [hit.term for hit in counterfeit_terms(title=result.text)]
        rows.append(row)
    return {"rows": rows}


def _rate(rows: list[dict], engine: str, ok) -> tuple[float, int]:
    if not rows:
        return float("nan"), 0
    return sum(1 for r in rows if ok(r, engine)) / len(rows), len(rows)


def report(rows: list[dict]) -> dict:
    found = lambda r, e: r["mark"] in r[f"{e}_hits"]  # noqa: E731
    mark_rows = [r for r in rows if r["task"] == "mark"]
    legible = [r for r in mark_rows if r["height"] >= 12]
    groups: dict[str, list[dict]] = {
        "word-mark recall, all": mark_rows,
        "word-mark recall, legible (>= 12 px)": legible,
    }
    for lo, hi in ((8, 12), (12, 20), (20, 40), (40, 91)):
        groups[f"  height {lo}-{hi} px"] = [r for r in mark_rows if lo <= r["height"] < hi]
    groups["  level"] = [r for r in legible if r["angle"] == 0]
    groups["  rotated up to 20 deg"] = [r for r in legible if r["angle"] != 0]
    for style in SPELLINGS:
        groups[f"  spelling {style}"] = [r for r in legible if r["spelling"] == style]
    for font in sorted({r["font"] for r in legible}):
        groups[f"  font {font}"] = [r for r in legible if r["font"] == font]
    figures: dict[str, dict] = {}
    print(f"{'figure':44} {'product':>9} {'read all':>9} {'n':>5}")
    for name, subset in groups.items():
        product, n = _rate(subset, "product", found)
        baseline, _ = _rate(subset, "read_all", found)
        figures[name] = {"product": product, "read_all": baseline, "n": n}
        print(f"{name:44} {product:9.3f} {baseline:9.3f} {n:5d}")
    wrong = lambda r, e: any(hit != r["mark"] for hit in r[f"{e}_hits"])  # noqa: E731
    for task in ("mark", "unrelated", "text_free", "terms"):
        subset = [r for r in rows if r["task"] == task]
        product = sum(1 for r in subset if wrong(r, "product"))
        baseline = sum(1 for r in subset if wrong(r, "read_all"))
        name = f"false mark detections, {task} photos"
        figures[name] = {"product": product, "read_all": baseline, "n": len(subset)}
        print(f"{name:44} {product:9d} {baseline:9d} {len(subset):5d}")
    term_rows = [r for r in rows if r["task"] == "terms"]
    for engine in ("product", "read_all"):
        figures.setdefault("counterfeit-term recall", {})[engine] = (
            sum(1 for r in term_rows if r[f"{engine}_terms"]) / len(term_rows) if term_rows else float("nan")
        )
    figures["counterfeit-term recall"]["n"] = len(term_rows)
    print(
        f"{'counterfeit-term recall':44} {figures['counterfeit-term recall']['product']:9.3f} "
        f"{figures['counterfeit-term recall']['read_all']:9.3f} {len(term_rows):5d}"
    )
    for task in ("text_free", "unrelated", "mark"):
        subset = [r for r in rows if r["task"] == task]
        share = sum(1 for r in subset if r["product_read"]) / max(1, len(subset))
        figures[f"gate sends to the reader, {task}"] = {"product": share, "read_all": 1.0, "n": len(subset)}
        print(f"{'gate sends to the reader, ' + task:44} {share:9.3f} {1.0:9.3f} {len(subset):5d}")
    for engine in ("product", "read_all"):
        times = [r[f"{engine}_ms"] for r in rows]
        figures.setdefault("ms per photo, median", {})[engine] = statistics.median(times)
        figures.setdefault("ms per photo, mean", {})[engine] = statistics.fmean(times)
    for name in ("ms per photo, median", "ms per photo, mean"):
        product, baseline = figures[name]["product"], figures[name]["read_all"]
        print(f"{name:44} {product:9.1f} {baseline:9.1f}   ratio {baseline / product:.2f}x")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="unseen")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--output", type=Path, help="write the figures (and every scene's reading) as JSON")
    args = parser.parse_args()
    counts = QUICK if args.quick else COUNTS
    started = time.time()
    marks, scenes = make_scenes(args.split, args.seed, counts)
    log(f"{args.split} split: {len(marks)} marks, {len(scenes)} photos generated in {time.time() - started:.1f} s")
    result = evaluate(marks, scenes)
    figures = report(result["rows"])
    log(f"done in {time.time() - started:.0f} s")
    if args.output:
        args.output.write_text(json.dumps({"split": args.split, "figures": figures, "rows": result["rows"]}, indent=1))


if __name__ == "__main__":
    main()
