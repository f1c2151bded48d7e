"""Train the logo models (detector + embedder) on synthetic composites and export them to ONNX.

    python3 -m venv var/venv-train && var/venv-train/bin/pip install -r training/requirements.txt
    var/venv-train/bin/python training/logo_train.py            (or: make train-logo)

Writes engine/models/logo_detector.onnx, engine/models/logo_embedder.onnx and the embedder's
cohort, engine/models/logo_cohort.npz, and prints what the model card (engine/models/LOGO_MODEL.md)
records: data, seed, steps, time, sha256. CPU is enough (two cores: about 50 minutes);
`--device cuda` trains on a GPU.

A machine that cannot build the benchmark data (no Debian wallpapers, fonts or npm: a lent
accelerator) trains from a pack instead: `--write-pack var/logo-pack.zip` here writes the rendered
training marks (PNG) and background photos (640 px, JPEG q95), ~37 MiB; `--pack var/logo-pack.zip
--device cuda --only detector|embedder` there trains from it, without the cohort (built here with
`--only cohort` once the embedder is back). The pack records the marks and photos it was written
with (meta.json); a run from it that asks for others (`--words/--multi/--combined/--monograms`,
`--hold-out-tune-photos`) is refused before anything is trained. The pack's photos are JPEG, so a
model trained from a pack is not byte-identical to one trained from the data it was packed from.

* detector: class-agnostic, "where is a mark" - a small CenterNet (heat map of mark centres and
  their sizes at stride 4) on the photo letterboxed to 320 px;
* embedder: a 64 px square crop around a mark -> 128-d unit vector; trained contrastively so that
  a mark as uploaded (on white, on a box, bare shape) lands next to the same mark photographed
  (recoloured, rotated, warped, printed, occluded, blurred, JPEG) and away from other marks.
* cohort: the training marks as the engine sees an uploaded logo (`engine.matcher.logo_views`),
  embedded by the embedder just written - the "other brands" a detected mark must look less like
  than the logo it names. `--only cohort` rebuilds it alone (needed after any embedder change:
  the engine refuses a cohort of another embedder).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import multiprocessing
import random
import sys
import time
import zipfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

import logo_synth  # noqa: E402

MODELS = ROOT / "engine" / "models"
CACHE = ROOT / "var" / "train-logo"

_G: dict = {}


def _render(mark: dict) -> np.ndarray | None:
    try:
        glyph = logo_synth.render_glyph(mark, 256)
    except Exception:  # an icon CairoSVG cannot draw: left out
        return None
    return glyph if (glyph[..., 3] > 76).sum() > 200 else None


def _cohort_views(glyph: np.ndarray) -> np.ndarray:
    from PIL import Image

    from engine.matcher import logo_views

    upload = io.BytesIO()
    Image.fromarray(glyph, "RGBA").save(upload, "PNG")
    return logo_views(upload.getvalue())


def build_cohort(seed: int, generated: tuple[int, int, int, int], jobs: int, models_dir: Path) -> dict:
    """Embed every training mark (its glyph as a transparent PNG, as a brand uploads a logo) with
    the embedder in `models_dir` and write the cohort beside it."""
    sys.path.insert(0, str(ROOT))
    from engine import logo_model

    # Spawned, not forked: after training, this process holds PyTorch's OpenMP threads, and a forked
    # child that then sets its own thread pools (engine.local_features does on import) hangs.
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        glyphs, _ = training_glyphs(seed, generated, pool)
        views = np.stack(pool.map(_cohort_views, glyphs, chunksize=16))
    embedder = logo_model.LogoModels(models_dir)
    vectors = embedder.embed(views.reshape(-1, *views.shape[2:])).reshape(len(views), views.shape[1], -1)
    digest = logo_model.save_cohort(models_dir / logo_model.COHORT_FILE, vectors, models_dir / logo_model.EMBEDDER_FILE)
    return {"cohort_marks": len(vectors), "cohort_sha256": digest}


def _init_workers(glyphs, photos) -> None:
    _G["glyphs"], _G["photos"] = glyphs, photos


def _detector_samples(args: tuple[int, int]) -> list:
    seed, count = args
    rng = random.Random(seed)
    return [logo_synth.detector_sample(_G["glyphs"], _G["photos"], rng) for _ in range(count)]


def _views(args: tuple[int, int, int, int, float, float]) -> np.ndarray:
    seed, index, refs, scenes, min_px, max_px = args
    rng = random.Random(seed * 1_000_003 + index)
    glyph = _G["glyphs"][index]
    out = [logo_synth.reference_view(glyph, rng) for _ in range(refs)]
    out += [logo_synth.scene_view(glyph, _G["photos"], rng, min_px=min_px, max_px=max_px) for _ in range(scenes)]
    return np.stack(out)


def _backgrounds(args: tuple[int, int]) -> np.ndarray:
    seed, count = args
    rng = random.Random(seed)
    return np.stack([logo_synth.background_view(_G["photos"], rng) for _ in range(count)])


def training_glyphs(seed: int, generated: tuple[int, int, int, int], pool) -> tuple[list[np.ndarray], int]:
    """The training marks rendered by `pool` (RGBA glyphs; marks CairoSVG cannot draw left out),
    and how many marks were tried."""
    words, multi, combined, monograms = generated
    marks = logo_synth.training_marks(seed, words=words, multi=multi, combined=combined, monograms=monograms)
    return [g for g in pool.map(_render, marks, chunksize=16) if g is not None], len(marks)


def marks_and_photos(
    seed: int, jobs: int, generated: tuple[int, int, int, int], tune_photos: bool
) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """The rendered training marks, the background photos, and how many marks were tried."""
    with Pool(jobs) as pool:
        glyphs, tried = training_glyphs(seed, generated, pool)
    return glyphs, logo_synth.backgrounds(tune_photos=tune_photos), tried


def write_pack(path: Path, glyphs: list[np.ndarray], photos: list[np.ndarray], meta: dict) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as pack:
        pack.writestr("meta.json", json.dumps(meta, indent=1))
        for i, glyph in enumerate(glyphs):
            out = io.BytesIO()
            Image.fromarray(glyph, "RGBA").save(out, "PNG", optimize=True)
            pack.writestr(f"glyphs/{i:05d}.png", out.getvalue())
        for i, photo in enumerate(photos):
            out = io.BytesIO()
            Image.fromarray(photo, "RGB").save(out, "JPEG", quality=95)
            pack.writestr(f"photos/{i:05d}.jpg", out.getvalue())


def read_pack(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    from PIL import Image

    glyphs, photos = [], []
    with zipfile.ZipFile(path) as pack:
        for name in sorted(pack.namelist()):
            if name.startswith("glyphs/"):
                glyphs.append(np.asarray(Image.open(io.BytesIO(pack.read(name))).convert("RGBA"), dtype=np.uint8))
            elif name.startswith("photos/"):
                photos.append(np.asarray(Image.open(io.BytesIO(pack.read(name))).convert("RGB"), dtype=np.uint8))
    if not glyphs or not photos:
        raise SystemExit(f"{path}: not a training pack (no glyphs/ or photos/)")
    return glyphs, photos


def pack_meta(path: Path) -> dict:
    """A pack's meta.json (what `--write-pack` recorded: seed, generated marks, tune photos)."""
    try:
        with zipfile.ZipFile(path) as pack:
            return json.loads(pack.read("meta.json"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise SystemExit(f"{path}: not a training pack ({error})") from error


def pack_mismatch(meta: dict, generated: tuple[int, ...], tune_photos: bool) -> list[str]:
    """The generation options asked for that the pack's marks and photos were not made with: a pack
    holds what `--write-pack` rendered, so training from it cannot honour other ones."""
    wrong = []
    names = ("--words", "--multi", "--combined", "--monograms")
    if "generated" in meta:  # every --write-pack records it; a hand-made meta without it cannot be checked
        packed = list(meta["generated"])[: len(names)]
        packed += [0] * (len(names) - len(packed))  # counts left out (a hand-made meta): none
        for name, asked, made in zip(names, generated, packed, strict=True):
            if asked != made:
                wrong.append(f"{name} {asked} (the pack has {made})")
    if "tune_photos" in meta and bool(meta["tune_photos"]) != tune_photos:
        wrong.append(
            "--hold-out-tune-photos"
            + (" not given (the pack holds them out)" if tune_photos else " (the pack has the tune photos)")
        )
    return wrong


def prepare(
    seed: int,
    detector_samples: int,
    ref_views: int,
    scene_views: int,
    jobs: int,
    generated: tuple[int, int, int, int] = (300, 150, 150, 0),
    scene_px: tuple[float, float] = (0.0, 0.0),
    tune_photos: bool = True,
    pack: Path | None = None,
) -> dict:
    """Training data, cached under var/train-logo/ by everything that shapes it. `generated`: how
    many word, multi-colour, combined and monogram marks join the icons; `scene_px`: the photographed views'
    mark width in px (min, max; (0, 0): the v2 data's 56-112 px); `tune_photos`: whether the tune split's
    background photos are among the backgrounds; `pack`: glyphs and photos from a pack (not cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    words, multi, combined, monograms = generated
    v2 = (generated, scene_px) == ((300, 150, 150, 0), (0.0, 0.0))  # the committed embedder's data keeps its name
    tag = "" if v2 else f"-{words}-{multi}-{combined}-{scene_px[0]:g}-{scene_px[1]:g}"
    tag += f"-o{monograms}" if monograms else ""
    tag += "" if tune_photos else "-h"
    path = CACHE / f"data-v2-{seed}-{detector_samples}-{ref_views}-{scene_views}{tag}.npz"
    if pack is None and path.exists():
        data = np.load(path, allow_pickle=True)
        return {k: data[k] for k in data.files}
    started = time.time()
    if pack is not None:
        glyphs, photos = read_pack(pack)
        print(f"{len(glyphs)} training marks, {len(photos)} photos (from {pack})", flush=True)
    else:
        glyphs, photos, tried = marks_and_photos(seed, jobs, generated, tune_photos)
        print(f"{len(glyphs)} training marks ({tried} tried), {len(photos)} photos", flush=True)
    with Pool(jobs, initializer=_init_workers, initargs=(glyphs, photos)) as pool:
        chunks = pool.map(_detector_samples, [(seed * 7919 + i, 50) for i in range(detector_samples // 50)])
        samples = [s for chunk in chunks for s in chunk]
        views = pool.map(
            _views, [(seed, i, ref_views, scene_views, *scene_px) for i in range(len(glyphs))], chunksize=8
        )
        negatives = pool.map(_backgrounds, [(seed * 31 + i, 100) for i in range(60)])
    side = logo_synth.DETECT_SIDE  # --detector-samples 0 (an embedder-only run): none
    images = np.stack([s[0] for s in samples]) if samples else np.zeros((0, side, side, 3), np.uint8)
    boxes = np.array([np.array(s[1], np.float32).reshape(-1, 4) for s in samples], dtype=object)
    data = {
        "images": images,
        "boxes": boxes,
        "views": np.stack(views),
        "negatives": np.concatenate(negatives),
        "marks": np.array(len(glyphs)),
    }
    if pack is None:
        np.savez(path, **data)
    print(f"data prepared in {time.time() - started:.0f} s", flush=True)
    return data


# --------------------------------------------------------------------------- models


def build_models():
    import torch
    from torch import nn
    from torch.nn import functional as F

    def cbr(i: int, o: int, s: int = 1) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class Detector(nn.Module):
        """uint8-range RGB (N, 3, 320, 320) -> heat (N, 1, 80, 80) in [0, 1], log size (N, 2, 80, 80).
        `width` scales every layer's channels (1: the committed detector's 16-32-48-64)."""

        def __init__(self, width: float = 1.0) -> None:
            super().__init__()
            a, b, c, d = (max(8, round(n * width)) for n in (16, 32, 48, 64))
            self.s2 = cbr(3, a, 2)
            self.s4 = nn.Sequential(cbr(a, b, 2), cbr(b, b))
            self.s8 = nn.Sequential(cbr(b, c, 2), cbr(c, c))
            self.s16 = nn.Sequential(cbr(c, d, 2), cbr(d, d), cbr(d, d))
            self.lat4, self.lat8, self.lat16 = nn.Conv2d(b, b, 1), nn.Conv2d(c, b, 1), nn.Conv2d(d, b, 1)
            self.head = nn.Sequential(cbr(b, b), nn.Conv2d(b, 3, 1))
            nn.init.constant_(self.head[1].bias, 0.0)
            with torch.no_grad():
                self.head[1].bias[0] = -2.19  # heat starts near 0.1

        def forward(self, x):
            x = x / 127.5 - 1.0
            b = self.s4(self.s2(x))
            c = self.s8(b)
            d = self.s16(c)
            p = F.interpolate(self.lat16(d), scale_factor=2.0, mode="nearest") + self.lat8(c)
            p = F.interpolate(p, scale_factor=2.0, mode="nearest") + self.lat4(b)
            out = self.head(p)
            return torch.sigmoid(out[:, :1]), out[:, 1:]

    class Embedder(nn.Module):
        """uint8-range RGB (N, 3, 64, 64) -> (N, 128) unit vectors."""

        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(
                cbr(3, 16, 2),
                cbr(16, 32),
                cbr(32, 48, 2),
                cbr(48, 64),
                cbr(64, 96, 2),
                cbr(96, 96),
                cbr(96, 128, 2),
            )
            self.fc = nn.Linear(128 * 16, 128)

        def forward(self, x):
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            std = x.std(dim=(1, 2, 3), keepdim=True) + 8.0
            z = self.fc(torch.flatten(self.body((x - mean) / std), 1))
            return z / torch.sqrt((z * z).sum(dim=1, keepdim=True) + 1e-12)

    return Detector, Embedder


# --------------------------------------------------------------------------- training


def heat_targets(boxes_list, side: int, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = side // stride
    heat = np.zeros((len(boxes_list), 1, g, g), np.float32)
    size = np.zeros((len(boxes_list), 2, g, g), np.float32)
    mask = np.zeros((len(boxes_list), 1, g, g), np.float32)
    yy, xx = np.mgrid[0:g, 0:g].astype(np.float32)
    for n, boxes in enumerate(boxes_list):
        for x0, y0, x1, y1 in boxes:
            cx, cy = (x0 + x1) / 2 / stride, (y0 + y1) / 2 / stride
            w, h = (x1 - x0) / stride, (y1 - y0) / stride
            sigma = max(0.7, min(w, h) / 6)
            heat[n, 0] = np.maximum(heat[n, 0], np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma * sigma)))
            ix, iy = min(g - 1, int(cx)), min(g - 1, int(cy))
            heat[n, 0, iy, ix] = 1.0
            size[n, :, iy, ix] = (math.log(max(w, 0.5)), math.log(max(h, 0.5)))
            mask[n, 0, iy, ix] = 1.0
    return heat, size, mask


def augment_scene(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour augmentation on uint8 RGB batches: channel order and polarity (a mark recoloured any
    way must look the same to the models)."""
    out = batch.copy()
    for i in range(len(out)):
        out[i] = out[i][..., rng.permutation(3)]
        if rng.random() < 0.15:
            out[i] = 255 - out[i]
    return out


def train_detector(data: dict, steps: int, batch: int, seed: int, device: str = "cpu", width: float = 1.0):
    import torch
    from torch.nn import functional as F

    Detector, _ = build_models()
    torch.manual_seed(seed)
    model = Detector(width).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    images, boxes = data["images"], data["boxes"]
    rng = np.random.default_rng(seed)
    started = time.time()
    for step in range(steps):
        idx = rng.integers(0, len(images), batch)
        x = augment_scene(images[idx], rng)
        heat_t, size_t, mask_t = heat_targets([boxes[i] for i in idx], logo_synth.DETECT_SIDE, logo_synth.STRIDE)
        x = torch.from_numpy(x).to(device).permute(0, 3, 1, 2).float()
        heat_t, size_t, mask_t = (torch.from_numpy(a).to(device) for a in (heat_t, size_t, mask_t))
        heat, size = model(x)
        heat = heat.clamp(1e-4, 1 - 1e-4)
        pos = heat_t.eq(1).float()
        pos_loss = torch.log(heat) * (1 - heat) ** 2 * pos
        neg_loss = torch.log(1 - heat) * heat**2 * (1 - heat_t) ** 4 * (1 - pos)
        n = pos.sum().clamp(min=1)
        focal = -(pos_loss.sum() + neg_loss.sum()) / n
        size_loss = (F.l1_loss(size, size_t, reduction="none") * mask_t).sum() / n
        loss = focal + 0.2 * size_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            print(
                f"detector {step}/{steps} loss {loss.item():.3f} (focal {focal.item():.3f}, "
                f"size {size_loss.item():.3f}) {time.time() - started:.0f} s",
                flush=True,
            )
    return model.eval()


def hard_batch(neighbours: np.ndarray, size: int, hard: float, rng: np.random.Generator) -> np.ndarray:
    """`size` distinct marks: a `hard` share of them drawn as small groups of marks the embedder
    currently finds alike (each seed mark with its nearest neighbours), the rest at random, so that
    the in-batch negatives include the look-alikes a query must be told apart from."""
    marks, per_seed = neighbours.shape[0], neighbours.shape[1] + 1
    chosen: list[int] = []
    taken = np.zeros(marks, bool)
    want_hard = int(size * hard)
    while len(chosen) < want_hard:
        seed_mark = int(rng.integers(0, marks))
        if taken[seed_mark]:
            continue
        group = [seed_mark] + [int(m) for m in neighbours[seed_mark] if not taken[m]]
        group = group[: min(per_seed, want_hard - len(chosen))]
        taken[group] = True
        chosen += group
    rest = np.flatnonzero(~taken)
    chosen += list(rng.choice(rest, size=size - len(chosen), replace=False))
    return np.array(chosen)


def nearest_marks(model, views: np.ndarray, ref_views: int, k: int) -> np.ndarray:
    """(marks, k): each mark's k most similar other marks by the embedder, on their upload views."""
    import torch

    model.eval()
    with torch.no_grad():
        vectors = []
        device = next(model.parameters()).device
        for start in range(0, len(views), 512):
            chunk = views[start : start + 512, :ref_views].reshape(-1, *views.shape[2:])
            z = model(torch.from_numpy(chunk).to(device).permute(0, 3, 1, 2).float()).cpu().numpy()
            vectors.append(z.reshape(-1, ref_views, z.shape[-1]).mean(axis=1))
    model.train()
    z = np.concatenate(vectors)
    z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-12
    similarity = z @ z.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def train_embedder(
    data: dict, steps: int, batch: int, seed: int, ref_views: int, hard: float = 0.0, device: str = "cpu"
):
    import torch
    from torch.nn import functional as F

    _, Embedder = build_models()
    torch.manual_seed(seed + 1)
    model = Embedder().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    views = data["views"]  # (marks, ref_views + scene_views, 64, 64, 3)
    negatives = data["negatives"]
    background = batch // 3
    marks, per = views.shape[:2]
    rng = np.random.default_rng(seed + 1)
    started = time.time()
    neighbours = None
    for step in range(steps):
        # Hard batches once the embedder has learnt the easy differences (a tenth of the run in),
        # their look-alike groups refreshed every 100 steps.
        if hard and step >= steps // 10 and step % 100 == 0:
            neighbours = nearest_marks(model, views, ref_views, 3)
        if neighbours is not None:
            idx = hard_batch(neighbours, min(batch, marks), hard, rng)
        else:
            idx = rng.choice(marks, size=min(batch, marks), replace=False)
        from_ref = rng.random(len(idx)) < 0.7
        anchor_i = np.where(from_ref, rng.integers(0, ref_views, len(idx)), rng.integers(ref_views, per, len(idx)))
        positive_i = rng.integers(ref_views, per, len(idx))
        clash = positive_i == anchor_i
        positive_i[clash] = ref_views + (positive_i[clash] - ref_views + 1) % (per - ref_views)
        a = augment_scene(views[idx, anchor_i], rng)
        p = augment_scene(views[idx, positive_i], rng)
        # Crops of photos without marks (what the detector also proposes) are negatives for all.
        n = augment_scene(negatives[rng.integers(0, len(negatives), background)], rng)
        za = model(torch.from_numpy(a).to(device).permute(0, 3, 1, 2).float())
        zp = model(torch.from_numpy(np.concatenate([p, n])).to(device).permute(0, 3, 1, 2).float())
        logits = za @ zp.T / 0.07
        target = torch.arange(len(idx), device=device)
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits[:, : len(idx)].T, target)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            acc = (logits.argmax(dim=1) == target).float().mean().item()
            spent = time.time() - started
            print(f"embedder {step}/{steps} loss {loss.item():.3f} batch top-1 {acc:.3f} {spent:.0f} s", flush=True)
    return model.eval()


def export(model, shape: tuple[int, ...], path: Path, outputs: list[str]) -> str:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model.cpu(),
        torch.zeros(shape),
        str(path),
        input_names=["image"],
        output_names=outputs,
        dynamic_axes={"image": {0: "batch"}, **{o: {0: "batch"} for o in outputs}},
        opset_version=17,
        dynamo=False,
    )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--detector-samples", type=int, default=12000)
    parser.add_argument("--ref-views", type=int, default=3)
    parser.add_argument("--scene-views", type=int, default=14)
    parser.add_argument("--words", type=int, default=300, help="generated word marks")
    parser.add_argument("--multi", type=int, default=150, help="generated multi-colour marks")
    parser.add_argument("--combined", type=int, default=150, help="generated combined marks")
    parser.add_argument("--monograms", type=int, default=0, help="two letters in a ring, look-alikes in fours")
    parser.add_argument(
        "--scene-px",
        type=float,
        nargs=2,
        default=(0.0, 0.0),
        metavar=("MIN", "MAX"),
        help="photographed views: the mark's width in px before the crop (0 0: 56-112 px)",
    )
    parser.add_argument(
        "--hard-negatives",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="embedder: share of each batch drawn as groups of look-alike marks (0: all at random)",
    )
    parser.add_argument(
        "--hold-out-tune-photos",
        action="store_true",
        help="leave the tune split's background photos (where thresholds are chosen) out of the training data",
    )
    parser.add_argument("--detector-steps", type=int, default=5000)
    parser.add_argument("--embedder-steps", type=int, default=2500)
    parser.add_argument("--detector-batch", type=int, default=16)
    parser.add_argument(
        "--detector-width", type=float, default=1.0, help="detector: scale of every layer's channels (1: 16-32-48-64)"
    )
    parser.add_argument("--embedder-batch", type=int, default=192)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=["detector", "embedder", "cohort"])
    parser.add_argument("--write-pack", type=Path, metavar="ZIP", help="write the training marks and photos, then stop")
    parser.add_argument("--pack", type=Path, metavar="ZIP", help="train from a pack (no benchmark data needed)")
    parser.add_argument(
        "--device",
        default="cpu",
        help="where PyTorch trains (cpu, cuda); the ONNX files are exported from the CPU either way",
    )
    parser.add_argument("--models-dir", type=Path, default=MODELS, help="where the ONNX files go")
    args = parser.parse_args()

    if args.pack and args.only not in ("detector", "embedder"):
        raise SystemExit("--pack trains one network: add --only detector or --only embedder (the cohort is built here)")
    generated = (args.words, args.multi, args.combined, args.monograms)
    packed = pack_meta(args.pack) if args.pack else None
    if packed is not None:
        wrong = pack_mismatch(packed, generated, not args.hold_out_tune_photos)
        if wrong:
            raise SystemExit(
                f"{args.pack} was written with other marks or photos: "
                + "; ".join(wrong)
                + ". Write a pack with these options (--write-pack) or train with the pack's."
            )

    import torch

    torch.set_num_threads(args.jobs)
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: this PyTorch ({torch.__version__}) sees no CUDA device")
    random.seed(args.seed)
    started = time.time()
    if args.write_pack:
        glyphs, photos, tried = marks_and_photos(args.seed, args.jobs, generated, not args.hold_out_tune_photos)
        meta = {
            "seed": args.seed,
            "generated": generated,
            "tune_photos": not args.hold_out_tune_photos,
            "marks": len(glyphs),
            "tried": tried,
        }
        write_pack(args.write_pack, glyphs, photos, meta)
        size = args.write_pack.stat().st_size / 2**20
        print(f"{args.write_pack}: {len(glyphs)} marks, {len(photos)} photos, {size:.1f} MiB")
        return
    if args.only == "cohort":
        card = {"seed": args.seed, **build_cohort(args.seed, generated, args.jobs, args.models_dir)}
        card["total_minutes"] = round((time.time() - started) / 60, 1)
        print(json.dumps(card, indent=1))
        return
    data = prepare(
        args.seed,
        args.detector_samples,
        args.ref_views,
        args.scene_views,
        args.jobs,
        generated,
        tuple(args.scene_px),
        not args.hold_out_tune_photos,
        args.pack,
    )
    card = {
        "seed": args.seed,
        "args": {k: str(v) for k, v in vars(args).items()},
        "marks": int(data["marks"]),
        "torch": torch.__version__,
    }
    if packed is not None:
        card["pack"] = packed
    if args.only != "embedder":
        t = time.time()
        detector = train_detector(
            data, args.detector_steps, args.detector_batch, args.seed, args.device, args.detector_width
        )
        path = args.models_dir / "logo_detector.onnx"
        card["detector_sha256"] = export(detector, (1, 3, 320, 320), path, ["heat", "size"])
        card["detector_minutes"] = round((time.time() - t) / 60, 1)
    if args.only != "detector":
        t = time.time()
        embedder = train_embedder(
            data,
            args.embedder_steps,
            args.embedder_batch,
            args.seed,
            args.ref_views,
            args.hard_negatives,
            args.device,
        )
        path = args.models_dir / "logo_embedder.onnx"
        card["embedder_sha256"] = export(embedder, (1, 3, 64, 64), path, ["embedding"])
        card["embedder_minutes"] = round((time.time() - t) / 60, 1)
        if args.pack is None:
            card.update(build_cohort(args.seed, generated, args.jobs, args.models_dir))
    card["total_minutes"] = round((time.time() - started) / 60, 1)
    print(json.dumps(card, indent=1))
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / f"card-{args.only or 'both'}.json").write_text(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
