"""Synthetic training data for the logo models: marks from the tuning side only, composited into photos.

Marks: simple-icons glyphs whose split (bench/logo_data.split_of) is "tune", minus every mark the
logo benchmark's tune split registers (so that split stays free for choosing thresholds), plus
generated word, multi-colour and combined marks in the tuning split's fonts. Nothing of the
benchmark's unseen split (marks, fonts, background photos) is ever read here.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import logo_data  # noqa: E402
import matching_data  # noqa: E402

EMBED_SIDE = 64  # the embedder's input: a square crop around a mark
DETECT_SIDE = 320  # the detector's input: the photo letterboxed to this square
STRIDE = 4  # the detector's output grid


def training_marks(
    seed: int, words: int = 300, multi: int = 150, combined: int = 150, monograms: int = 0
) -> list[dict]:
    manifest = logo_data.load_or_build()
    held = {m["name"] for m in manifest["splits"]["tune"]["catalogue"] + manifest["splits"]["tune"]["others"]}
    icons = matching_data.load_icons(matching_data.ensure_simple_icons())
    marks = [
        {"kind": "icon", "name": i["slug"], "svg": i["svg"], "hex": i["hex"]}
        for i in icons
        if logo_data.split_of(i["slug"]) == "tune" and i["slug"] not in held
    ]
    rng = random.Random(f"{seed}:train-marks")
    fonts = [f for f in logo_data.FONTS["tune"] if Path(f).exists()]
    pool = list(marks)

    def word() -> dict:
        text = logo_data.fake_word(rng)
        colour = logo_data.brand_colour(rng)
        return {"text": text, "font": rng.choice(fonts), "upper": rng.random() < 0.6, "colour": colour}

    for n in range(words):
        w = word()
        marks.append({"kind": "word", "name": f"w{n}-{w['text']}", "word": w})
    for n in range(multi):
        marks.append({"kind": "multi", "name": f"m{n}", "shapes": logo_data.shapes_spec(rng, fonts, rng.randint(2, 3))})
    for n in range(combined):
        w = word()
        mark = {"kind": "combined", "name": f"c{n}-{w['text']}", "word": w, "stacked": rng.random() < 0.5}
        if rng.random() < 0.6:
            icon = rng.choice(pool)
            mark.update(svg=icon["svg"], hex="".join(f"{c:02X}" for c in w["colour"]))
        else:
            mark["shapes"] = logo_data.shapes_spec(rng, fonts, 1)
            for shape in mark["shapes"]["shapes"]:
                shape["colour"] = w["colour"]
        marks.append(mark)
    # Monograms: two letters in a ring, in groups of four that share the ring and the colour and
    # differ only in the letters - look-alikes the embedder must tell apart by their letters.
    letters = "ABDEFGHKMNPRSTWXZ"
    for n in range(monograms):
        if n % 4 == 0:
            colour, font = logo_data.brand_colour(rng), rng.choice(fonts)
        ring = {"kind": "ring", "cx": 0.5, "cy": 0.5, "r": 0.44, "colour": colour}
        pair = [
            {"kind": "letter", "cx": cx, "cy": 0.52, "r": 0.15, "colour": colour, "font": font}
            | {"char": rng.choice(letters)}
            for cx in (0.37, 0.63)
        ]
        marks.append({"kind": "multi", "name": f"o{n}", "shapes": {"shapes": [ring, *pair]}})
    return marks


def render_glyph(mark: dict, side: int = 256) -> np.ndarray:
    """The mark in its own colours, RGBA uint8, long side `side`."""
    image = logo_data.render_mark(mark, side)
    image = logo_data._fit(image, side)
    return np.asarray(image.convert("RGBA"), dtype=np.uint8)


def backgrounds(max_side: int = 640, tune_photos: bool = True) -> list[np.ndarray]:
    """Photos for the scenes: the matching benchmark's catalogue photos and, with `tune_photos`, the
    logo benchmark's tune-split backgrounds (never the unseen split's). Those are the photos the tune
    split sets its marks on and counts as logo-free: a model trained on them meets them again when
    thresholds are chosen, which flatters tune's precision."""
    base = matching_data.load_or_build(seed=7)
    chosen = [p["file"] for p in base["photos"]["catalogue"]]
    if tune_photos:
        chosen += [d["file"] for d in base["photos"]["distractors"] if logo_data.split_of(d["group"]) == "tune"]
    out = []
    for rel in chosen:
        image = Image.open(matching_data.OUT / rel).convert("RGB")
        image.thumbnail((max_side, max_side))
        out.append(np.asarray(image, dtype=np.uint8))
    return out


def _contrast_colour(under: np.ndarray, rng: random.Random, mode: str) -> tuple[str, np.ndarray | None]:
    if mode == "brand":
        return mode, None
    if mode == "recolour":
        for _ in range(50):
            colour = np.array([rng.randrange(256) for _ in range(3)], np.float32)
            if np.linalg.norm(colour - under) >= 80:
                return mode, colour
        return mode, colour
    colour = np.zeros(3, np.float32) if mode == "black" else np.full(3, 255.0, np.float32)
    if np.linalg.norm(colour - under) < 70:
        colour = 255.0 - colour
    return mode, colour


def composite(
    canvas: np.ndarray, glyph: np.ndarray, rng: random.Random, *, width: float, centre: tuple[float, float]
) -> tuple[float, float, float, float] | None:
    """Put `glyph` (RGBA uint8) into `canvas` (float32 RGB, changed in place) about `width` px wide,
    rotated, perspective-warped, recoloured or not, maybe printed on a material and occluded.
    Returns the box of its visible ink (x0, y0, x1, y1) or None when nothing is visible."""
    H, W = canvas.shape[:2]
    gh, gw = glyph.shape[:2]
    scale = width / gw
    lw, lh = gw * scale, gh * scale
    if lh > 0.8 * H:
        scale *= 0.8 * H / lh
        lw, lh = gw * scale, gh * scale
    cx, cy = centre
    angle = rng.uniform(-25, 25)
    jitter = rng.uniform(0.0, 0.1)
    dst = matching_data.placed_corners(cx, cy, lw, lh, angle, jitter, rng)
    matrix = cv2.getPerspectiveTransform(np.float32([[0, 0], [gw, 0], [gw, gh], [0, gh]]), dst)
    rgba = glyph.astype(np.float32) / 255.0
    alpha = cv2.warpPerspective(rgba[..., 3], matrix, (W, H), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(alpha > 0.3)
    if len(xs) < 4:
        return None
    box = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
    under = canvas[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])].reshape(-1, 3).mean(axis=0)
    _mode, colour = _contrast_colour(under, rng, rng.choice(["brand", "recolour", "black", "white"]))
    if colour is None:
        ink = cv2.warpPerspective(rgba[..., :3] * 255.0, matrix, (W, H), flags=cv2.INTER_LINEAR)
    else:
        ink = np.broadcast_to(colour, canvas.shape).copy()
    if rng.random() < 0.3:  # printed on a product: material patch, shading and texture under the ink
        x0, y0 = int(max(0, box[0] - rng.uniform(0.1, 0.6) * lw)), int(max(0, box[1] - rng.uniform(0.1, 0.6) * lh))
        x1, y1 = int(min(W, box[2] + rng.uniform(0.1, 0.6) * lw)), int(min(H, box[3] + rng.uniform(0.1, 0.6) * lh))
        if x1 - x0 > 4 and y1 - y0 > 4:
            base = tuple(rng.randrange(30, 230) for _ in range(3))
            material, shading = logo_data._material((y1 - y0, x1 - x0), base, rng)
            canvas[y0:y1, x0:x1] = material
            full = np.ones((H, W), np.float32)
            full[y0:y1, x0:x1] = shading
            ink = ink * full[..., None]
            alpha = alpha * rng.uniform(0.8, 0.97)
    alpha = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(0.4, 0.9))[..., None]
    canvas *= 1 - alpha
    canvas += ink * alpha
    if rng.random() < 0.3:  # something in front of it: a patch of the photo over one side
        bw, bh = box[2] - box[0], box[3] - box[1]
        share = rng.uniform(0.1, 0.3)
        side = rng.choice("lrtb")
        x0, y0, x1, y1 = box
        if side == "l":
            x1 = x0 + share * bw
        elif side == "r":
            x0 = x1 - share * bw
        elif side == "t":
            y1 = y0 + share * bh
        else:
            y0 = y1 - share * bh
        x0, y0, x1, y1 = (round(v) for v in (x0, y0, x1, y1))
        pw, ph = x1 - x0, y1 - y0
        if pw > 1 and ph > 1 and pw < W and ph < H:
            sx, sy = rng.randrange(0, W - pw), rng.randrange(0, H - ph)
            canvas[y0:y1, x0:x1] = canvas[sy : sy + ph, sx : sx + pw].copy()
    return box


def degrade(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """Blur and JPEG as sellers' photos have them; uint8 RGB in and out."""
    if rng.random() < 0.25:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.6, 1.6))
    quality = rng.choice([40, 50, 60, 70, 80, 90])
    _ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]


def background_crop(photos: list[np.ndarray], rng: random.Random, side: int) -> np.ndarray:
    photo = photos[rng.randrange(len(photos))]
    h, w = photo.shape[:2]
    crop = int(min(h, w) * rng.uniform(0.5, 1.0))
    y, x = rng.randrange(0, h - crop + 1), rng.randrange(0, w - crop + 1)
    patch = cv2.resize(photo[y : y + crop, x : x + crop], (side, side), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    if rng.random() < 0.15:  # a product shot: plain studio ground
        patch = np.full_like(patch, rng.randrange(180, 256))
    return np.ascontiguousarray(patch).astype(np.float32)


def detector_sample(glyphs: list[np.ndarray], photos: list[np.ndarray], rng: random.Random) -> tuple[np.ndarray, list]:
    """A DETECT_SIDE square scene with 0-3 marks and their boxes."""
    canvas = background_crop(photos, rng, DETECT_SIDE)
    boxes: list[tuple[float, float, float, float]] = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        width = DETECT_SIDE * math.exp(rng.uniform(math.log(0.05), math.log(0.4)))
        for _attempt in range(10):
            centre = (rng.uniform(0.1, 0.9) * DETECT_SIDE, rng.uniform(0.1, 0.9) * DETECT_SIDE)
            r = width * 0.75
            if all(abs(centre[0] - (b[0] + b[2]) / 2) > r or abs(centre[1] - (b[1] + b[3]) / 2) > r for b in boxes):
                break
        box = composite(canvas, glyphs[rng.randrange(len(glyphs))], rng, width=width, centre=centre)
        if box is not None:
            boxes.append(box)
    image = degrade(np.clip(canvas, 0, 255).astype(np.uint8), rng)
    return image, boxes


def square_crop(
    image: np.ndarray, box, side: int = EMBED_SIDE, margin: float = 1.15, fill=None, upsample: int = cv2.INTER_AREA
) -> np.ndarray:
    """The square around `box` (its long side x `margin`), resized to side x side (enlarged with
    `upsample`: the engine enlarges bilinearly; the v2 data used INTER_AREA throughout); outside the
    image the border is replicated (or `fill`)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * margin / 2
    factor = side / (2 * half)
    matrix = np.float32([[factor, 0, side / 2 - cx * factor], [0, factor, side / 2 - cy * factor]])
    flags = cv2.INTER_AREA if factor < 1 else upsample
    if fill is None:
        return cv2.warpAffine(image, matrix, (side, side), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return cv2.warpAffine(image, matrix, (side, side), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def reference_view(glyph: np.ndarray, rng: random.Random) -> np.ndarray:
    """The mark as a brand uploads it (on white, on a coloured box, or as its bare shape), cropped
    like the engine crops references."""
    rgba = glyph.astype(np.float32) / 255.0
    alpha = rgba[..., 3:]
    style = rng.choice(["white", "white", "box", "ink"])
    if style == "white":
        rgb = rgba[..., :3] * 255 * alpha + 255 * (1 - alpha)
    elif style == "box":
        box = np.array([rng.randrange(20, 200) for _ in range(3)], np.float32)
        rgb = 255 * alpha + box * (1 - alpha)
    else:
        rgb = np.repeat(235 - 215 * alpha, 3, axis=2)
    ys, xs = np.nonzero(glyph[..., 3] > 76)
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    fill = tuple(float(v) for v in rgb[0, 0])
    return square_crop(np.clip(rgb, 0, 255).astype(np.uint8), box, fill=fill)


def scene_view(
    glyph: np.ndarray, photos: list[np.ndarray], rng: random.Random, *, min_px: float = 0.0, max_px: float = 0.0
) -> np.ndarray:
    """The mark in a photo, cropped around it as the detector would box it (a little off).

    With `min_px`/`max_px` the mark is drawn min_px-max_px wide (log-uniform) in the photo before
    the crop is scaled to EMBED_SIDE: the engine crops from a ~400 px decode, where a mark 6 % of
    the width is ~24 px, so small marks reach the embedder upsampled and soft, JPEG blocks and all.
    Without them, the mark is 56-112 px wide (v2 data)."""
    if max_px:
        px = math.exp(rng.uniform(math.log(min_px), math.log(max_px)))
        frac = rng.uniform(0.35, 0.7)
        side = max(32, round(px / frac))
        canvas = background_crop(photos, rng, side)
    else:  # the v2 data's draws, in their order
        side = 160
        canvas = background_crop(photos, rng, side)
        frac = rng.uniform(0.35, 0.7)
    box = composite(canvas, glyph, rng, width=side * frac, centre=(side / 2, side / 2))
    image = degrade(np.clip(canvas, 0, 255).astype(np.uint8), rng)
    if box is None:
        box = (side * 0.3, side * 0.3, side * 0.7, side * 0.7)
    return square_crop(image, detector_like(box, rng), upsample=cv2.INTER_LINEAR if max_px else cv2.INTER_AREA)


def detector_like(box, rng: random.Random):
    """The box as the detector might draw it: off-centre by up to a fifth, 0.75-1.4x the size, the
    sides not quite in proportion."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    dx, dy = rng.uniform(-0.2, 0.2) * w, rng.uniform(-0.2, 0.2) * h
    grow = rng.uniform(0.75, 1.4)
    gw, gh = w * grow * rng.uniform(0.85, 1.2), h * grow * rng.uniform(0.85, 1.2)
    cx, cy = (x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy
    return (cx - gw / 2, cy - gh / 2, cx + gw / 2, cy + gh / 2)


def background_view(photos: list[np.ndarray], rng: random.Random) -> np.ndarray:
    """A crop of a photo with no mark in it: what the detector also proposes (a negative)."""
    side = 160
    image = degrade(np.clip(background_crop(photos, rng, side), 0, 255).astype(np.uint8), rng)
    w = side * rng.uniform(0.2, 0.6)
    h = w * math.exp(rng.uniform(-1.0, 1.0))
    cx, cy = rng.uniform(w / 2, side - w / 2), rng.uniform(min(h / 2, side / 2), max(side - h / 2, side / 2))
    return square_crop(image, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
