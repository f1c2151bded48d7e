"""Synthetic test images for the engine tests: textured "photos" and flat "logos", made in code."""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def photo(seed: int, size: tuple[int, int] = (1000, 750)) -> Image.Image:
    """A textured RGB picture: a gradient, many random shapes, some text and noise."""
    rng = random.Random(seed)
    w, h = size
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    c0 = np.array([rng.randrange(256) for _ in range(3)])[None, None, :]
    c1 = np.array([rng.randrange(256) for _ in range(3)])[None, None, :]
    base = (c0 * (1 - x) * (1 - y) + c1 * x * y + 60 * np.sin(6 * x + 4 * y + seed)).clip(0, 255)
    image = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(70):
        colour = tuple(rng.randrange(256) for _ in range(3))
        x0, y0 = rng.randrange(w), rng.randrange(h)
        r = rng.randrange(10, max(11, w // 8))
        shape = rng.randrange(4)
        if shape == 0:
            draw.ellipse([x0, y0, x0 + r, y0 + r * rng.uniform(0.5, 1.5)], fill=colour)
        elif shape == 1:
            draw.rectangle([x0, y0, x0 + r, y0 + r * rng.uniform(0.3, 1.2)], fill=colour)
        elif shape == 2:
            pts = [(x0 + rng.randrange(-r, r), y0 + rng.randrange(-r, r)) for _ in range(3)]
            draw.polygon(pts, fill=colour)
        else:
            draw.line(
                [x0, y0, x0 + rng.randrange(-r, r), y0 + rng.randrange(-r, r)], fill=colour, width=rng.randrange(2, 8)
            )
    for _ in range(6):
        text = "".join(rng.choice("ABCDEFGHKMNPRSTUVWXYZ0123456789") for _ in range(rng.randrange(3, 8)))
        draw.text(
            (rng.randrange(w), rng.randrange(h)),
            text,
            fill=tuple(rng.randrange(256) for _ in range(3)),
            font=font(rng.randrange(18, 60)),
        )
    noise = np.random.default_rng(seed).normal(0, 6, (h, w, 3))
    array = (np.asarray(image).astype(np.float32) + noise).clip(0, 255).astype(np.uint8)
    return Image.fromarray(array).filter(ImageFilter.GaussianBlur(0.6))


def logo(seed: int, size: int = 256) -> Image.Image:
    """A flat single-colour mark on a transparent ground: a shape and two bold letters."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    colour = (rng.randrange(200), rng.randrange(200), rng.randrange(200), 255)
    m = size // 16
    kind = rng.randrange(3)
    if kind == 0:
        draw.ellipse([m, m, size - m, size - m], outline=colour, width=size // 14)
    elif kind == 1:
        draw.polygon([(size // 2, m), (size - m, size - m), (m, size - m)], outline=colour, width=size // 14)
    else:
        draw.rounded_rectangle([m, m, size - m, size - m], radius=size // 6, outline=colour, width=size // 14)
    letters = "".join(rng.choice("ABEFGHKMNPRSTWXZ") for _ in range(2))
    draw.text((size // 2, size // 2 + size // 24), letters, fill=colour, font=font(int(size * 0.42)), anchor="mm")
    return image


def encode(image: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, fmt, quality=quality)
    else:
        image.save(out, fmt)
    return out.getvalue()


def paste_logo(
    scene: Image.Image, mark: Image.Image, *, width_frac: float, angle: float, centre: tuple[float, float], colour=None
) -> tuple[Image.Image, list[tuple[float, float]]]:
    """Composite `mark` (RGBA) into `scene`, `width_frac` of its width, rotated `angle` degrees CCW.

    Returns the image and the logo's ink-box corners in scene pixels (TL, TR, BR, BL).
    """
    box = mark.getbbox()
    mark = mark.crop(box)
    if colour is not None:
        alpha = mark.split()[-1]
        mark = Image.new("RGBA", mark.size, (*colour, 255))
        mark.putalpha(alpha)
    target_w = width_frac * scene.width
    scale = target_w / mark.width
    mark = mark.resize(
        (max(1, round(mark.width * scale)), max(1, round(mark.height * scale))), Image.Resampling.LANCZOS
    )
    w, h = mark.size
    rotated = mark.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    cx, cy = centre
    out = scene.convert("RGBA")
    out.alpha_composite(rotated, (round(cx - rotated.width / 2), round(cy - rotated.height / 2)))
    t = math.radians(-angle)  # PIL rotates counter-clockwise; y axis points down
    corners = []
    for px, py in [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]:
        corners.append((cx + px * math.cos(t) - py * math.sin(t), cy + px * math.sin(t) + py * math.cos(t)))
    return out.convert("RGB"), corners


def soft_photo(seed: int, size: tuple[int, int] = (1000, 750)) -> Image.Image:
    """A low-texture picture (a soft wallpaper): a smooth gradient with a few faint lines and
    blobs, low contrast everywhere; plain ORB at its usual FAST threshold finds few corners."""
    rng = random.Random(seed)
    w, h = size
    x = np.linspace(0, 1, w)[None, :, None]
    y = np.linspace(0, 1, h)[:, None, None]
    c0 = np.array([rng.randrange(60, 200) for _ in range(3)])[None, None, :]
    c1 = np.array([rng.randrange(60, 200) for _ in range(3)])[None, None, :]
    base = (c0 * (1 - x) + c1 * x + 25 * np.sin(3 * y + 2 * x + seed)).clip(0, 255)
    image = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        shade = rng.randrange(-12, 12)
        x0, y0 = rng.randrange(w), rng.randrange(h)
        colour = tuple(int(np.clip(v + shade, 0, 255)) for v in base[min(y0, h - 1), min(x0, w - 1)])
        if rng.random() < 0.5:
            draw.line([x0, y0, x0 + rng.randrange(-300, 300), y0 + rng.randrange(-300, 300)], fill=colour, width=2)
        else:
            r = rng.randrange(15, 60)
            draw.polygon([(x0 + rng.randrange(-r, r), y0 + rng.randrange(-r, r)) for _ in range(4)], fill=colour)
    noise = np.random.default_rng(seed).normal(0, 1.5, (h, w, 3))
    array = (np.asarray(image).astype(np.float32) + noise).clip(0, 255).astype(np.uint8)
    return Image.fromarray(array).filter(ImageFilter.GaussianBlur(1.0))
