"""Logo benchmark data: marks split into a tuning set and an unseen set, registered the way brands
upload them, and shown in photos the way sellers post them.

    .venv/bin/python bench/logo_data.py                 (builds once under var/bench/logos/)
    .venv/bin/python bench/logo_data.py --regenerate --seed 11

Nothing here is committed. Every mark comes from simple-icons (npm, pinned) or is generated
(words, multi-colour and combined marks in fonts that Debian packages ship); the backgrounds are
the matching benchmark's distractor photos (bench/matching_data.py). Each mark, each font and each
background source belongs to exactly one split, chosen by a hash of its name:

* ``tune``: where gates and thresholds may be tuned. Every simple-icons mark that
  bench/matching_data.py uses (the logos the engine's gates were tuned on before) is here.
* ``unseen``: never looked at while tuning; bench/logo_bench.py reports on it.

Per split: catalogue marks (registered as references, in one of five upload formats: PNG with
alpha, PNG or JPEG on white, PNG on a coloured box filling the image or on a box with a white
margin) and other brands' marks (never registered; half of their word marks differ from a
catalogue word mark by two letters). Queries:

* ``logo_scene``: one catalogue mark in a photo, 6-35 % of its width, in its own colours, recoloured
  to any visible colour (no luminance-contrast guarantee), black or white; rotated up to 20 degrees,
  perspective-warped, sometimes 10-25 % occluded, blurred, printed on a product surface (material
  texture, folds and shading), JPEG q50-90;
* ``two_logo``: two different catalogue marks in one photo (each must be found);
* ``other_brand``: an uncatalogued mark, the same way (must match nothing);
* ``logo_free``: the split's background photos as they are (must match nothing).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_data

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench" / "logos"
DATA_VERSION = 1
SPLITS = ("tune", "unseen")
FONT_PACKAGES = ["fonts-dejavu-core", "fonts-liberation2", "fonts-freefont-ttf", "fonts-urw-base35"]
FONTS = {
    # Word marks in the unseen split are set in typefaces the tuning split never shows.
    "tune": [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-BoldItalic.ttf",
    ],
    "unseen": [
        "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf",
        "/usr/share/fonts/opentype/urw-base35/URWGothic-Demi.otf",
        "/usr/share/fonts/opentype/urw-base35/NimbusSans-Bold.otf",
        "/usr/share/fonts/opentype/urw-base35/P052-Bold.otf",
        "/usr/share/fonts/opentype/urw-base35/URWBookman-Demi.otf",
    ],
}
# Per split: catalogue marks by kind, other brands' marks by kind.
CATALOGUE = {"icon": 70, "word": 20, "multi": 15, "combined": 15}
OTHERS = {"icon": 14, "word": 20, "multi": 6}
SCENES_PER_LOGO = 2
TWO_LOGO_SCENES = 60
SCENES_PER_OTHER = 2
REF_FORMATS = ("png_alpha", "png_white", "jpeg_white", "box_full", "box_margin")
COLOUR_MODES = ("brand", "recolour", "black", "white")
MIN_COLOUR_DISTANCE = 90  # RGB distance between a mark and what it sits on: a person sees it
SYLLABLES = [
    "ka",
    "ri",
    "lo",
    "ven",
    "tu",
    "ma",
    "zor",
    "ex",
    "ia",
    "ol",
    "qu",
    "in",
    "ta",
    "ber",
    "ro",
    "sa",
    "nu",
    "vi",
    "da",
    "lex",
    "on",
    "ar",
    "mi",
    "fy",
    "go",
    "tra",
    "bel",
    "cor",
    "ni",
    "pa",
]


def log(message: str) -> None:
    print(f"[logo-data] {message}", flush=True)


def split_of(name: str) -> str:
    return SPLITS[hashlib.sha256(f"logo-split:{name}".encode()).digest()[0] % 2]


# --------------------------------------------------------------------------- marks


def brand_colour(rng: random.Random) -> tuple[int, int, int]:
    while True:
        colour = tuple(rng.randrange(256) for _ in range(3))
        if matching_data.luminance(colour) < 200:  # a brand colour that shows on white
            return colour


def fake_word(rng: random.Random) -> str:
    while True:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        if 5 <= len(word) <= 9:
            return word


def confusable(word: str, rng: random.Random) -> str:
    """The word with two letters changed: shares most of its letters with a catalogue word mark."""
    letters = list(word)
    for at in rng.sample(range(len(letters)), 2):
        letters[at] = rng.choice([c for c in "abcdefghijklmnoprstuvyz" if c != letters[at]])
    return "".join(letters)


def _crop(image: Image.Image, pad: int = 0) -> Image.Image:
    box = image.getbbox() or (0, 0, image.width, image.height)
    image = image.crop(box)
    if pad:
        canvas = Image.new("RGBA", (image.width + 2 * pad, image.height + 2 * pad), (0, 0, 0, 0))
        canvas.alpha_composite(image, (pad, pad))
        image = canvas
    return image


def render_word(spec: dict, size: int) -> Image.Image:
    text = spec["text"].upper() if spec["upper"] else spec["text"].capitalize()
    font = ImageFont.truetype(spec["font"], size)
    left, top, right, bottom = font.getbbox(text)
    canvas = Image.new("RGBA", (right - left + size // 4, bottom - top + size // 4), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((size // 8 - left, size // 8 - top), text, font=font, fill=(*spec["colour"], 255))
    return _crop(canvas)


def _star(cx: float, cy: float, r: float, points: int, inner: float, turn: float) -> list[tuple[float, float]]:
    out = []
    for i in range(points * 2):
        radius = r if i % 2 == 0 else r * inner
        angle = turn + math.pi * i / points
        out.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return out


def render_shapes(spec: dict, size: int) -> Image.Image:
    """A generated multi-colour mark: primitives, each in its own colour, drawn 4x and reduced."""
    big = size * 4
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for shape in spec["shapes"]:
        cx, cy, r = shape["cx"] * big, shape["cy"] * big, shape["r"] * big
        fill = (*shape["colour"], 255)
        kind = shape["kind"]
        if kind == "disc":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        elif kind == "ring":
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=max(2, int(r * 0.3)))
        elif kind == "square":
            draw.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), radius=r * 0.2, fill=fill)
        elif kind == "star":
            draw.polygon(_star(cx, cy, r, shape["points"], 0.45, shape["turn"]), fill=fill)
        elif kind == "polygon":
            draw.polygon(_star(cx, cy, r, shape["points"], 1.0, shape["turn"])[::2], fill=fill)
        elif kind == "bar":
            draw.rounded_rectangle((cx - r, cy - r * 0.28, cx + r, cy + r * 0.28), radius=r * 0.1, fill=fill)
        elif kind == "letter":
            font = ImageFont.truetype(shape["font"], int(r * 2.2))
            draw.text((cx, cy), shape["char"], font=font, fill=fill, anchor="mm")
    return _crop(canvas.resize((size, size), Image.LANCZOS))


def shapes_spec(rng: random.Random, fonts: list[str], colours: int) -> dict:
    palette = [brand_colour(rng) for _ in range(colours)]
    kinds = ["disc", "ring", "square", "star", "polygon", "bar", "letter"]
    shapes = []
    for i in range(rng.randint(3, 4)):
        shapes.append(
            {
                "kind": rng.choice(kinds),
                "cx": rng.uniform(0.3, 0.7),
                "cy": rng.uniform(0.3, 0.7),
                "r": rng.uniform(0.12, 0.26),
                "colour": palette[i % colours],
                "points": rng.randint(3, 7),
                "turn": rng.uniform(0, math.pi),
                "font": rng.choice(fonts),
                "char": rng.choice("ABDEFGHKMNPRSTWXZ"),
            }
        )
    return {"shapes": shapes}


def render_mark(mark: dict, size: int) -> Image.Image:
    """The mark in its own colours on transparency, its long side about `size` px."""
    kind = mark["kind"]
    if kind == "icon":
        return _crop(matching_data.render_logo(mark["svg"], mark["hex"], size))
    if kind == "word":
        word = render_word(mark["word"], max(16, int(size / max(1, len(mark["word"]["text"])) * 1.7)))
        return _fit(word, size)
    if kind == "multi":
        return render_shapes(mark["shapes"], size)
    # combined: a symbol beside (or above) a word
    symbol = (
        _crop(matching_data.render_logo(mark["svg"], mark["hex"], size))
        if mark.get("svg")
        else render_shapes(mark["shapes"], size)
    )
    word = render_word(mark["word"], max(16, size // 3))
    if mark["stacked"]:
        symbol = _fit(symbol, int(word.width * 0.6))
        canvas = Image.new("RGBA", (max(symbol.width, word.width), symbol.height + word.height + size // 12))
        canvas.alpha_composite(symbol, ((canvas.width - symbol.width) // 2, 0))
        canvas.alpha_composite(word, ((canvas.width - word.width) // 2, symbol.height + size // 12))
    else:
        symbol = _fit(symbol, int(word.height * 1.6), by="height")
        canvas = Image.new("RGBA", (symbol.width + word.width + size // 12, max(symbol.height, word.height)))
        canvas.alpha_composite(symbol, (0, (canvas.height - symbol.height) // 2))
        canvas.alpha_composite(word, (symbol.width + size // 12, (canvas.height - word.height) // 2))
    return _fit(_crop(canvas), size)


def _fit(image: Image.Image, side: int, by: str = "long") -> Image.Image:
    current = image.height if by == "height" else max(image.size)
    factor = side / max(1, current)
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.LANCZOS)


def make_marks(split: str, icons: list[dict], used_slugs: set[str], seed: int) -> tuple[list[dict], list[dict]]:
    rng = matching_data.rng_for(seed, "marks", split)
    fonts = [f for f in FONTS[split] if Path(f).exists()]
    if not fonts:
        raise SystemExit(f"no fonts for the {split} split: apt-get install {' '.join(FONT_PACKAGES)}")
    pool = [i for i in icons if split_of(i["slug"]) == split and (split == "tune" or i["slug"] not in used_slugs)]
    if split == "tune":  # the logos the engine was tuned on before belong here, never to `unseen`
        pool = [i for i in icons if i["slug"] in used_slugs] + [i for i in pool if i["slug"] not in used_slugs]
    rng.shuffle(pool)
    icon_iter = iter(pool)
    words: set[str] = set()

    def word_spec(text: str | None = None) -> dict:
        while text is None or text in words:
            text = fake_word(rng)
        words.add(text)
        return {"text": text, "font": rng.choice(fonts), "upper": rng.random() < 0.6, "colour": brand_colour(rng)}

    def make(kind: str, n: int, prefix: str) -> list[dict]:
        out = []
        for _ in range(n):
            mark: dict = {"kind": kind}
            if kind == "icon":
                icon = next(icon_iter)
                mark.update(name=icon["slug"], svg=icon["svg"], hex=icon["hex"])
            elif kind == "word":
                mark["word"] = word_spec()
                mark["name"] = mark["word"]["text"]
            elif kind == "multi":
                mark["shapes"] = shapes_spec(rng, fonts, rng.randint(2, 3))
                mark["name"] = f"multi-{len(words)}-{rng.randrange(10**6)}"
            else:
                mark["word"] = word_spec()
                mark["stacked"] = rng.random() < 0.5
                if rng.random() < 0.6:
                    icon = next(icon_iter)
                    mark.update(svg=icon["svg"], hex="".join(f"{c:02X}" for c in mark["word"]["colour"]))
                else:
                    mark["shapes"] = shapes_spec(rng, fonts, 1)
                    for shape in mark["shapes"]["shapes"]:
                        shape["colour"] = mark["word"]["colour"]
                mark["name"] = mark["word"]["text"] + "-combined"
            mark["id"] = f"{prefix}{len(out):03d}{kind[0]}"
            out.append(mark)
        return out

    catalogue = [m for kind, n in CATALOGUE.items() for m in make(kind, n, f"{split[0].upper()}C")]
    others = []
    for kind, n in OTHERS.items():
        batch = make(kind, n, f"{split[0].upper()}O")
        if kind == "word":
            catalogue_words = [m["word"] for m in catalogue if m["kind"] == "word"]
            for mark in batch[: n // 2]:  # look-alike word marks: two letters from a catalogue one
                source = rng.choice(catalogue_words)
                mark["word"] = {**word_spec(confusable(source["text"], rng)), "upper": source["upper"]}
                mark["name"] = mark["word"]["text"]
                mark["lookalike_of"] = source["text"]
        others += batch
    return catalogue, others


# --------------------------------------------------------------------------- references


def reference_bytes(mark: dict, fmt: str, rng: random.Random) -> tuple[bytes, str]:
    glyph = render_mark(mark, 400)
    w, h = glyph.size
    if fmt == "png_alpha":
        return _png(glyph), "png"
    margin = int(max(w, h) * rng.uniform(0.08, 0.25))
    size = (w + 2 * margin, h + 2 * margin)
    if fmt in ("png_white", "jpeg_white"):
        canvas = Image.new("RGBA", size, (255, 255, 255, 255))
        canvas.alpha_composite(glyph, (margin, margin))
        if fmt == "jpeg_white":
            return matching_data.jpeg_bytes(canvas, 90), "jpg"
        return _png(canvas.convert("RGB")), "png"
    # On a box: the mark in white (multi-colour marks keep their colours on a light box).
    multi = mark["kind"] == "multi"
    box_colour = (235, 235, 240) if multi else brand_colour(rng)
    if not multi:
        alpha = glyph.split()[-1]
        glyph = Image.new("RGBA", glyph.size, (255, 255, 255, 255))
        glyph.putalpha(alpha)
        if matching_data.luminance(box_colour) > 150:
            box_colour = tuple(int(c * 0.5) for c in box_colour)
    if fmt == "box_full":
        canvas = Image.new("RGBA", size, (*box_colour, 255))
        canvas.alpha_composite(glyph, (margin, margin))
        return _png(canvas.convert("RGB")), "png"
    outer = margin // 2 + 4
    canvas = Image.new("RGBA", (size[0] + 2 * outer, size[1] + 2 * outer), (255, 255, 255, 255))
    ImageDraw.Draw(canvas).rounded_rectangle(
        (outer, outer, outer + size[0], outer + size[1]), radius=min(size) // 6, fill=(*box_colour, 255)
    )
    canvas.alpha_composite(glyph, (outer + margin, outer + margin))
    return _png(canvas.convert("RGB")), "png"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- scenes


def _material(shape: tuple[int, int], base: tuple[int, int, int], rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """A product surface (fabric or leather): RGB float image and its shading (multiplies ink)."""
    import cv2

    h, w = shape
    nprng = np.random.default_rng(rng.randrange(2**32))
    fine = cv2.GaussianBlur(nprng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.6, 1.5))
    coarse = cv2.GaussianBlur(nprng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), max(3.0, min(h, w) / 12))
    coarse /= max(1e-6, float(np.abs(coarse).max()))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    folds = np.sin((xx * math.cos(angle) + yy * math.sin(angle)) / max(8.0, min(h, w) / rng.uniform(2, 5)))
    light = 1.0 + 0.25 * ((xx / max(1, w)) - 0.5) * rng.choice([-1, 1])
    shading = np.clip(light * (1.0 + 0.12 * folds + 0.18 * coarse), 0.45, 1.35).astype(np.float32)
    texture = 1.0 + 0.06 * fine / max(1e-6, float(fine.std()))
    rgb = np.array(base, np.float32)[None, None, :] * (shading * texture)[..., None]
    return rgb, (shading * texture).astype(np.float32)


def _region_mean(scene: np.ndarray, cx: float, cy: float, w: float, h: float) -> np.ndarray:
    H, W = scene.shape[:2]
    region = scene[
        int(max(0, cy - h / 2)) : int(min(H, cy + h / 2)) + 1, int(max(0, cx - w / 2)) : int(min(W, cx + w / 2)) + 1
    ]
    return region.reshape(-1, 3).mean(axis=0) if region.size else np.array([128.0, 128.0, 128.0])


def place_mark(
    scene: np.ndarray, mark: dict, rng: random.Random, *, frac: float, avoid: list[tuple] | None = None, surface: bool
) -> dict | None:
    """Composite `mark` into `scene` (float RGB, changed in place); its label, or None if it does not fit."""
    import cv2

    H, W = scene.shape[:2]
    target_w = frac * W
    glyph = render_mark(mark, max(64, int(target_w * 1.6)))
    gw, gh = glyph.size
    scale = target_w / gw
    if gh * scale > 0.7 * H:
        scale = 0.7 * H / gh
    lw, lh = gw * scale, gh * scale
    half_diag = math.hypot(lw, lh) / 2
    angle = rng.uniform(-20, 20)
    jitter = rng.uniform(0.0, 0.08)
    mode = rng.choice(COLOUR_MODES)
    for _attempt in range(30):
        cx = rng.uniform(half_diag, max(half_diag + 1, W - half_diag))
        cy = rng.uniform(half_diag, max(half_diag + 1, H - half_diag))
        box = (cx - half_diag, cy - half_diag, cx + half_diag, cy + half_diag)
        if avoid and any(not (box[2] < a[0] or a[2] < box[0] or box[3] < a[1] or a[3] < box[1]) for a in avoid):
            continue
        break
    else:
        return None

    rgba = np.asarray(glyph, dtype=np.float32) / 255.0
    own = rgba[..., :3] * 255.0
    alpha = rgba[..., 3]
    if surface:
        # The product under the mark: a patch of material 1.4-2.2x the mark's size, with folds.
        pw, ph = lw * rng.uniform(1.4, 2.2), lh * rng.uniform(1.4, 2.2) + 0.3 * lw
        x0, y0 = int(max(0, cx - pw / 2)), int(max(0, cy - ph / 2))
        x1, y1 = int(min(W, cx + pw / 2)), int(min(H, cy + ph / 2))
        base = tuple(rng.randrange(30, 230) for _ in range(3))
        material, shading_patch = _material((y1 - y0, x1 - x0), base, rng)
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.rectangle(mask, (0, 0), (x1 - x0 - 1, y1 - y0 - 1), 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 1.0)[..., None]
        scene[y0:y1, x0:x1] = scene[y0:y1, x0:x1] * (1 - mask) + material * mask
        shading = np.ones((H, W), np.float32)
        shading[y0:y1, x0:x1] = shading_patch
    under = _region_mean(scene, cx, cy, lw, lh)
    if mode == "brand":
        colour = None
        if mark["kind"] != "multi":
            mean_own = (own * alpha[..., None]).reshape(-1, 3).sum(0) / max(1e-6, float(alpha.sum()))
            if np.linalg.norm(mean_own - under) < MIN_COLOUR_DISTANCE:
                mode = "brand_contrast_fix"
                colour = (0, 0, 0) if matching_data.luminance(under) > 128 else (255, 255, 255)
    elif mode == "recolour":
        for _ in range(50):
            colour = tuple(rng.randrange(256) for _ in range(3))
            if np.linalg.norm(np.array(colour, np.float32) - under) >= MIN_COLOUR_DISTANCE:
                break
    else:
        colour = (0, 0, 0) if mode == "black" else (255, 255, 255)
        if np.linalg.norm(np.array(colour, np.float32) - under) < MIN_COLOUR_DISTANCE * 0.7:
            mode += "_contrast_fix"
            colour = (255, 255, 255) if colour == (0, 0, 0) else (0, 0, 0)
    ink = own if colour is None else np.broadcast_to(np.array(colour, np.float32), own.shape)

    src = np.float32([[0, 0], [gw, 0], [gw, gh], [0, gh]])
    dst = matching_data.placed_corners(cx, cy, lw, lh, angle, jitter, rng)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped_alpha = cv2.warpPerspective(alpha, matrix, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
    warped_ink = cv2.warpPerspective(np.ascontiguousarray(ink), matrix, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
    if surface:
        # Printed: the ink follows the cloth (a gentle wave) and takes its shading and texture.
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        amp = rng.uniform(0.5, 2.0) * max(1.0, lh / 40)
        period = max(20.0, lw / rng.uniform(1.0, 2.5))
        map_x = xx
        map_y = yy + amp * np.sin(xx / period * 2 * math.pi)
        warped_alpha = cv2.remap(warped_alpha, map_x, map_y, cv2.INTER_LINEAR)
        warped_ink = cv2.remap(warped_ink, map_x, map_y, cv2.INTER_LINEAR)
        warped_ink = warped_ink * shading[..., None]
        warped_alpha = warped_alpha * rng.uniform(0.85, 0.97)  # ink on fabric is never fully opaque
    warped_alpha = cv2.GaussianBlur(warped_alpha, (0, 0), 0.6)[..., None]
    scene *= 1 - warped_alpha
    scene += warped_ink * warped_alpha

    occluder = None
    if rng.random() < 0.3:
        x_min, y_min = dst.min(axis=0)
        x_max, y_max = dst.max(axis=0)
        side = rng.choice(["left", "right", "top", "bottom"])
        share = rng.uniform(0.10, 0.25)
        bw, bh = x_max - x_min, y_max - y_min
        box = {
            "left": (x_min, y_min, x_min + share * bw, y_max),
            "right": (x_max - share * bw, y_min, x_max, y_max),
            "top": (x_min, y_min, x_max, y_min + share * bh),
            "bottom": (x_min, y_max - share * bh, x_max, y_max),
        }[side]
        x1, y1, x2, y2 = (math.floor(float(v) + 0.5) for v in box)
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(W, x2), min(H, y2)
        if x2 - x1 > 2 and y2 - y1 > 2:
            sx, sy = rng.randint(0, W - (x2 - x1)), rng.randint(0, H - (y2 - y1))
            scene[y1:y2, x1:x2] = scene[sy : sy + y2 - y1, sx : sx + x2 - x1].copy()
            occluder = {"side": side, "share": round(share, 3)}
    return {
        "logo": mark["id"],
        "quad": [[round(float(x), 1), round(float(y), 1)] for x, y in dst],
        "params": {
            "width_frac": round(lw / W, 4),
            "angle": round(angle, 2),
            "perspective_jitter": round(jitter, 4),
            "colour_mode": mode,
            "colour": list(colour) if colour is not None else None,
            "occluded": occluder,
            "surface": surface,
            "kind": mark["kind"],
        },
        "box": [float(v) for v in (dst[:, 0].min(), dst[:, 1].min(), dst[:, 0].max(), dst[:, 1].max())],
    }


def finish(scene: np.ndarray, rng: random.Random) -> tuple[bytes, dict]:
    image = Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8))
    blur = 0.0
    if rng.random() < 0.25:
        blur = round(rng.uniform(1.0, 2.0), 2)
        image = image.filter(ImageFilter.GaussianBlur(blur))
    quality = 50 if rng.random() < 0.3 else rng.randint(60, 90)
    return matching_data.jpeg_bytes(image, quality), {"blur": blur, "quality": quality}


def log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


# --------------------------------------------------------------------------- build


def build(seed: int, apt: bool = False) -> dict:
    from tqdm import tqdm

    started = time.time()
    base = matching_data.load_or_build(seed=7, apt=apt)
    icons_pkg = matching_data.ensure_simple_icons()
    icons = matching_data.load_icons(icons_pkg)
    used = {x["slug"] for x in base["logos"]["catalogue"] + base["logos"]["other"]}
    font_versions = matching_data.ensure_apt(apt, FONT_PACKAGES)
    missing = [f for split in SPLITS for f in FONTS[split] if not Path(f).exists()]
    if missing:
        raise SystemExit(f"missing fonts: {missing}; install with: apt-get install {' '.join(FONT_PACKAGES)}")
    if OUT.exists():
        shutil.rmtree(OUT)
    manifest: dict = {
        "seed": seed,
        "data_version": DATA_VERSION,
        "sources": {
            "simple-icons (npm)": matching_data.SIMPLE_ICONS_VERSION,
            **{f"{p} (Debian)": v for p, v in font_versions.items()},
            "fonts": FONTS,
        },
        "splits": {},
    }
    for split in SPLITS:
        rng = matching_data.rng_for(seed, "scenes", split)
        (OUT / split / "refs").mkdir(parents=True)
        (OUT / split / "queries").mkdir(parents=True)
        backgrounds = [d for d in base["photos"]["distractors"] if split_of(d["group"]) == split]
        catalogue, others = make_marks(split, icons, used, seed)
        for mark in catalogue:
            mark["ref_format"] = REF_FORMATS[int(hashlib.sha256(mark["id"].encode()).digest()[1]) % len(REF_FORMATS)]
            data, ext = reference_bytes(mark, mark["ref_format"], matching_data.rng_for(seed, "ref", mark["id"]))
            mark["file"] = f"{split}/refs/{mark['id']}.{ext}"
            (OUT / mark["file"]).write_bytes(data)
        queries: list[dict] = []
        jobs = [("logo_scene", [m]) for m in catalogue for _ in range(SCENES_PER_LOGO)]
        for _ in range(TWO_LOGO_SCENES):
            jobs.append(("two_logo", rng.sample(catalogue, 2)))
        jobs += [("other_brand", [m]) for m in others for _ in range(SCENES_PER_OTHER)]
        for n, (task, marks) in enumerate(tqdm(jobs, desc=f"{split} scenes", unit="scene", mininterval=5)):
            background = rng.choice(backgrounds)
            scene = np.asarray(Image.open(matching_data.OUT / background["file"]).convert("RGB"), np.float32).copy()
            placed: list[dict] = []
            for mark in marks:
                frac = log_uniform(rng, 0.06, 0.35) if task != "two_logo" else log_uniform(rng, 0.08, 0.25)
                label = place_mark(
                    scene, mark, rng, frac=frac, avoid=[p["box"] for p in placed], surface=rng.random() < 0.3
                )
                if label is not None:
                    placed.append(label)
            if len(placed) != len(marks):
                continue
            data, extra = finish(scene, rng)
            for label in placed:
                label["params"].update(extra)
            qid = f"{split[0]}{task[0]}{n:04d}"
            rel = f"{split}/queries/{qid}.jpg"
            (OUT / rel).write_bytes(data)
            queries.append({"id": qid, "file": rel, "task": task, "background": background["id"], "instances": placed})
        for background in backgrounds:
            queries.append(
                {
                    "id": f"{split[0]}f{background['id']}",
                    "file": str(Path("..") / "matching" / background["file"]),
                    "task": "logo_free",
                    "background": background["id"],
                    "instances": [],
                }
            )
        strip = ("svg", "shapes")
        manifest["splits"][split] = {
            "catalogue": [{k: v for k, v in m.items() if k not in strip} for m in catalogue],
            "others": [{k: v for k, v in m.items() if k not in strip} for m in others],
            "backgrounds": len(backgrounds),
            "queries": queries,
        }
    manifest["built_seconds"] = round(time.time() - started, 1)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def fingerprint(seed: int) -> str:
    return f"{DATA_VERSION}:{seed}:{matching_data.SIMPLE_ICONS_VERSION}"


def load_or_build(seed: int = 11, regenerate: bool = False, apt: bool = False) -> dict:
    path = OUT / "manifest.json"
    if path.exists() and not regenerate:
        manifest = json.loads(path.read_text())
        if f"{manifest.get('data_version')}:{manifest.get('seed')}:{matching_data.SIMPLE_ICONS_VERSION}" == fingerprint(
            seed
        ):
            return manifest
    return build(seed, apt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--apt", action="store_true", help="apt-get install missing fonts and wallpapers (as root)")
    args = parser.parse_args()
    manifest = load_or_build(args.seed, args.regenerate, args.apt)
    for split, data in manifest["splits"].items():
        tasks: dict[str, int] = {}
        for q in data["queries"]:
            tasks[q["task"]] = tasks.get(q["task"], 0) + 1
        log(f"{split}: {len(data['catalogue'])} catalogue marks, {len(data['others'])} others, queries {tasks}")
    log(f"data: {OUT} (built in {manifest.get('built_seconds')} s)")


if __name__ == "__main__":
    main()
