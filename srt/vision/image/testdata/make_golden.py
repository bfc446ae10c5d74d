#!/usr/bin/python3
"""Regenerate the Qwen2-VL preprocessing goldens for srt/vision/image.

Uses only Debian's python3-pil and python3-numpy (run with /usr/bin/python3).
It re-implements, step by step, what Hugging Face's Qwen2VLImageProcessor
does to one image: PIL convert("RGB"), smart_resize, PIL bicubic resize,
rescale by 1/255 (float64 then float32), normalize with float32 mean/std,
repeat to temporal_patch_size frames and flatten patches in merge-window
order. It writes golden.json (index and checksums) and golden.bin (a few
full pixel_values rows per case, little-endian float32).

    /usr/bin/python3 make_golden.py /work/shared/images

The synthetic images are generated from the same integer formula as
synthImage in golden_test.go; keep the two in sync.
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import PIL
from PIL import Image

MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
PATCH, TEMPORAL, MERGE = 14, 2, 2
INSTRUCT_MAX = 12845056  # Qwen2-VL-*-Instruct preprocessor_config.json
HF_DEFAULT_MAX = 28 * 28 * 1280
MIN = 56 * 56
ROWS_PER_CASE = 6


def smart_resize(height, width, factor, min_pixels, max_pixels):
    if max(height, width) / min(height, width) > 200:
        raise ValueError("aspect ratio")
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def pixel_hash(img):
    arr = np.asarray(img, dtype=np.uint8)
    h, w = arr.shape[:2]
    return hashlib.sha256(struct.pack("<II", w, h) + arr.tobytes()).hexdigest()


def synth(kind, w, h, seed):
    """Integer test pattern: smooth ramps with 8x8 noise tiles (exercises the
    resampler's overshoot clipping). Mirrors synthImage in golden_test.go."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    chans = []
    for c in range(4):
        if c == 0:
            smooth = x * 255 // max(w - 1, 1)
        elif c == 1:
            smooth = y * 255 // max(h - 1, 1)
        elif c == 2:
            smooth = (x + y) * 255 // max(w + h - 2, 1)
        else:
            smooth = 255 - (x * 7 + y * 3) % 256
        noise = ((x * 73856093) ^ (y * 19349663) ^ ((c + seed) * 83492791)) % 97 * 255 // 96
        tile = ((x // 8) + (y // 8)) % 3 == 0
        chans.append(np.where(tile, noise, smooth).astype(np.uint8))
    if kind == "gray":
        return Image.fromarray(chans[0], "L")
    if kind == "rgba":
        return Image.fromarray(np.stack(chans, axis=-1), "RGBA")
    return Image.fromarray(np.stack(chans[:3], axis=-1), "RGB")


def preprocess(rgb, min_pixels, max_pixels):
    w, h = rgb.size
    rh, rw = smart_resize(h, w, PATCH * MERGE, min_pixels, max_pixels)
    resized = rgb.resize((rw, rh), Image.BICUBIC)
    arr = np.asarray(resized, dtype=np.uint8)
    x = (arr.astype(np.float64) * (1 / 255)).astype(np.float32)
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    x = x.transpose(2, 0, 1)  # CHW
    frames = np.stack([x] * TEMPORAL)  # (T, C, H, W)
    gh, gw = rh // PATCH, rw // PATCH
    p = frames.reshape(1, TEMPORAL, 3, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    p = p.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    flat = p.reshape(gh * gw, 3 * TEMPORAL * PATCH * PATCH).astype(np.float32)
    return resized, flat, (1, gh, gw)


def sample_rows(n):
    if n <= ROWS_PER_CASE:
        return list(range(n))
    return sorted({round(i * (n - 1) / (ROWS_PER_CASE - 1)) for i in range(ROWS_PER_CASE)})


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../../shared/images")
    out_dir = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(shared, "images.json")) as f:
        files = [e["file"] for e in json.load(f)]
    cases = []
    for name in files:
        cases.append({"name": name, "file": name, "min_pixels": MIN, "max_pixels": INSTRUCT_MAX})
    cases.append({"name": "logo.png@hf-default", "file": "logo.png", "min_pixels": MIN, "max_pixels": HF_DEFAULT_MAX})
    cases.append({"name": "gradient@256tok", "file": "synthetic-gradient-2000x1500.jpg", "min_pixels": MIN, "max_pixels": 256 * 28 * 28})
    for kind, w, h, seed, mx in [
        ("rgb", 57, 131, 1, INSTRUCT_MAX),
        ("rgb", 1, 1, 2, INSTRUCT_MAX),
        ("rgb", 3000, 20, 3, INSTRUCT_MAX),
        ("gray", 13, 9, 4, INSTRUCT_MAX),
        ("rgba", 40, 30, 5, INSTRUCT_MAX),
        ("rgb", 1000, 700, 6, 256 * 28 * 28),
        ("rgb", 448, 448, 7, INSTRUCT_MAX),
        ("rgb", 56, 60, 8, INSTRUCT_MAX),
        ("rgb", 60, 56, 9, INSTRUCT_MAX),
        ("rgb", 29, 250, 10, 64 * 28 * 28),
    ]:
        cases.append({"name": f"synth-{kind}-{w}x{h}", "synth": {"kind": kind, "w": w, "h": h, "seed": seed},
                      "min_pixels": MIN, "max_pixels": mx})
    blob = bytearray()
    for c in cases:
        if "file" in c:
            with Image.open(os.path.join(shared, c["file"])) as im:
                im.seek(0)
                rgb = im.convert("RGB")
        else:
            s = c["synth"]
            rgb = synth(s["kind"], s["w"], s["h"], s["seed"]).convert("RGB")
        resized, flat, grid = preprocess(rgb, c["min_pixels"], c["max_pixels"])
        rows = sample_rows(flat.shape[0])
        c.update({
            "width": rgb.size[0], "height": rgb.size[1],
            "decoded_sha256": pixel_hash(rgb),
            "resized_width": resized.size[0], "resized_height": resized.size[1],
            "resized_sha256": pixel_hash(resized),
            "grid_thw": list(grid),
            "num_tokens": grid[0] * grid[1] * grid[2] // (MERGE * MERGE),
            "rows": flat.shape[0], "dim": flat.shape[1],
            "sum": float(flat.astype(np.float64).sum()),
            "abs_sum": float(np.abs(flat.astype(np.float64)).sum()),
            "sample_rows": rows,
            "sample_offset": len(blob) // 4,
        })
        blob += flat[rows].astype("<f4").tobytes()
    index = {
        "generator": "make_golden.py",
        "pillow": PIL.__version__,
        "numpy": np.__version__,
        "config": {"patch_size": PATCH, "temporal_patch_size": TEMPORAL, "merge_size": MERGE,
                   "image_mean": MEAN, "image_std": STD},
        "cases": cases,
    }
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "golden.bin"), "wb") as f:
        f.write(blob)
    print(f"{len(cases)} cases, {len(blob)} bytes of sampled rows")


if __name__ == "__main__":
    main()
