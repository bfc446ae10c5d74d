#!/usr/bin/python3
"""Independent NumPy forward of the Qwen2-VL / Qwen2.5-VL vision tower.

Written from the published model definitions (transformers'
modeling_qwen2_vl.py / modeling_qwen2_5_vl.py: PatchEmbed, VisionRotaryEmbedding,
vision blocks, PatchMerger, get_window_index), not from the Go code. Needs only
NumPy (Debian's python3-numpy); computes in float64.

usage: vl_reference.py MODEL_DIR GRID [GRID...]   (GRID = t,h,w in patches)

Pixel values are synthetic and defined identically in the Go test:
value of element i (row-major over [rows][patch_dim]) =
float32(sin(0.0137 * i) * 1.5 + cos(0.00071 * i)).
Prints JSON {"arch": ..., "cases": [{"grid": [t,h,w], "features": [...]}]}.
"""
import json
import struct
import sys

import numpy as np


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a : base + b]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4")
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        else:
            raise SystemExit("unsupported dtype " + dt)
        out[name] = arr.reshape(info["shape"]).astype(np.float64)
    return out


def pixels(rows, dim):
    i = np.arange(rows * dim, dtype=np.float64)
    return (np.sin(0.0137 * i) * 1.5 + np.cos(0.00071 * i)).astype(np.float32).astype(np.float64).reshape(rows, dim)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def erf(x):
    # math.erf elementwise (float64); NumPy has no erf.
    import math

    return np.vectorize(math.erf)(x)


def gelu(x):
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def quick_gelu(x):
    return x / (1 + np.exp(-1.702 * x))


def silu(x):
    return x / (1 + np.exp(-x))


def linear(W, name, x):
    y = x @ W[name + ".weight"].T
    if name + ".bias" in W:
        y = y + W[name + ".bias"]
    return y


def rot_pos_ids(grid, m):
    """(h, w) of each patch, in the processor's merge-window order."""
    ids = []
    for t, h, w in grid:
        hpos = np.arange(h)[:, None].repeat(w, axis=1)
        wpos = np.arange(w)[None, :].repeat(h, axis=0)
        hpos = hpos.reshape(h // m, m, w // m, m).transpose(0, 2, 1, 3).reshape(-1)
        wpos = wpos.reshape(h // m, m, w // m, m).transpose(0, 2, 1, 3).reshape(-1)
        ids.append(np.tile(np.stack([hpos, wpos], -1), (t, 1)))
    return np.concatenate(ids)


def window_index(grid, m, patch, window):
    """get_window_index: pad each frame's merged grid to whole windows with
    -100, cut windows, drop the padding."""
    ws = window // m // patch
    unit = m * m
    index, cu, offset = [], [0], 0
    for t, h, w in grid:
        lh, lw = h // m, w // m
        idx = np.arange(t * lh * lw).reshape(t, lh, lw)
        ph, pw = ws - lh % ws, ws - lw % ws
        nh, nw = (lh + ph) // ws, (lw + pw) // ws
        padded = np.full((t, lh + ph, lw + pw), -100)
        padded[:, :lh, :lw] = idx
        padded = padded.reshape(t, nh, ws, nw, ws).transpose(0, 1, 3, 2, 4).reshape(t, nh * nw, ws, ws)
        seqlens = (padded != -100).sum(axis=(2, 3)).reshape(-1)
        flat = padded.reshape(-1)
        index.append(flat[flat != -100] + offset)
        cu.extend((np.cumsum(seqlens) * unit + cu[-1]).tolist())
        offset += t * lh * lw
    dedup = [cu[0]]
    for c in cu[1:]:
        if c != dedup[-1]:
            dedup.append(c)
    return np.concatenate(index), dedup


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], -1)


def attention(W, p, x, cos, sin, heads, cu):
    n, dim = x.shape
    hd = dim // heads
    qkv = linear(W, p + "attn.qkv", x).reshape(n, 3, heads, hd).transpose(1, 0, 2, 3)
    q, k, v = qkv[0], qkv[1], qkv[2]
    q = q * cos[:, None, :] + rotate_half(q) * sin[:, None, :]
    k = k * cos[:, None, :] + rotate_half(k) * sin[:, None, :]
    out = np.zeros_like(q)
    for a, b in zip(cu[:-1], cu[1:]):
        qs, ks, vs = q[a:b].transpose(1, 0, 2), k[a:b].transpose(1, 0, 2), v[a:b].transpose(1, 0, 2)
        s = qs @ ks.transpose(0, 2, 1) / np.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        out[a:b] = (s @ vs).transpose(1, 0, 2)
    return linear(W, p + "attn.proj", out.reshape(n, dim))


def vision(cfg, W, px, grid):
    vc = cfg["vision_config"]
    qwen25 = cfg["model_type"] == "qwen2_5_vl"
    m, patch = vc["spatial_merge_size"], vc["patch_size"]
    heads = vc["num_heads"]
    dim = vc["hidden_size"] if qwen25 else vc["embed_dim"]
    hd = dim // heads
    eps = 1e-6
    unit = m * m
    # PatchEmbed: Conv3d with stride == kernel over (C, T, P, P) patches.
    x = px @ W["visual.patch_embed.proj.weight"].reshape(dim, -1).T
    # VisionRotaryEmbedding(hd/2): theta 10000 over (h, w).
    rd = hd // 2
    inv = 1.0 / (10000 ** (np.arange(0, rd, 2, dtype=np.float64) / rd))
    ids = rot_pos_ids(grid, m)
    emb = np.concatenate([ids[:, 0:1] * inv, ids[:, 1:2] * inv], -1)
    cu = [0]
    for t, h, w in grid:
        for _ in range(t):
            cu.append(cu[-1] + h * w)
    n = x.shape[0]
    if qwen25:
        widx, cu_win = window_index(grid, m, patch, vc["window_size"])
        x = x.reshape(n // unit, unit, -1)[widx].reshape(n, -1)
        emb = emb.reshape(n // unit, unit, -1)[widx].reshape(n, -1)
    emb = np.concatenate([emb, emb], -1)
    cos, sin = np.cos(emb), np.sin(emb)
    full = set(vc.get("fullatt_block_indexes", []))
    for l in range(vc["depth"]):
        p = "visual.blocks.%d." % l
        if qwen25:
            segs = cu if l in full else cu_win
            h = rms_norm(x, W[p + "norm1.weight"], eps)
            x = x + attention(W, p, h, cos, sin, heads, segs)
            h = rms_norm(x, W[p + "norm2.weight"], eps)
            x = x + linear(W, p + "mlp.down_proj", silu(linear(W, p + "mlp.gate_proj", h)) * linear(W, p + "mlp.up_proj", h))
        else:
            h = layer_norm(x, W[p + "norm1.weight"], W[p + "norm1.bias"], eps)
            x = x + attention(W, p, h, cos, sin, heads, cu)
            h = layer_norm(x, W[p + "norm2.weight"], W[p + "norm2.bias"], eps)
            x = x + linear(W, p + "mlp.fc2", quick_gelu(linear(W, p + "mlp.fc1", h)))
    if qwen25:
        h = rms_norm(x, W["visual.merger.ln_q.weight"], eps)
    else:
        h = layer_norm(x, W["visual.merger.ln_q.weight"], W["visual.merger.ln_q.bias"], eps)
    h = h.reshape(-1, dim * unit)
    out = linear(W, "visual.merger.mlp.2", gelu(linear(W, "visual.merger.mlp.0", h)))
    if qwen25:
        out = out[np.argsort(widx)]
    return out


def main():
    d = sys.argv[1]
    cfg = json.load(open(d + "/config.json"))
    W = load_safetensors(d + "/model.safetensors")
    vc = cfg["vision_config"]
    pd = vc.get("in_chans", 3) * vc["temporal_patch_size"] * vc["patch_size"] ** 2
    cases = []
    for g in sys.argv[2:]:
        grid = [int(v) for v in g.split(",")]
        px = pixels(grid[0] * grid[1] * grid[2], pd)
        out = vision(cfg, W, px, [grid])
        cases.append({"grid": grid, "features": [float("%.9g" % v) for v in out.reshape(-1)]})
    json.dump({"arch": cfg["architectures"][0], "cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
