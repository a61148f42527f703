"""Phase R: teach the vision encoder to read the printed codes (docs/scenes.md section 3; docs/demo-model.md,
"Codes: what reading takes").

Every code question of a data.py split is answered on a region around its parcel; the parcel's label card sits at
60 % of the parcel's height, centred across it. In the view that shows the card at the highest resolution (a tile
when the region is tiled, else the single view), the WINDOW encoder output tokens of the card's row around its
centre are read by a linear probe that must give the code's characters, slot by slot (4 slots x (19 characters +
"none")). The probe is a training device only (nothing of it is exported): it gives the encoder a direct gradient
towards card tokens from which each character is a linear read-out, which the decoder then learns to copy (phase V,
train.py --code-chars).

On full views, the symbolic loss of phase V0 on every token (weight --symbolic-weight) keeps what the encoder already
computes for the other question types. With --strip the encoder runs on a band of token rows around the card only
(about four times the cards a second, no symbolic loss: interleave full-view steps before phase V), and --jitter
moves and brightens each band so that cards are not memorised.

  /usr/bin/python3 tools/trainer/reading.py --init /tmp/vlm/ckpt/demoV/final.pt --sym-from /tmp/vlm/ckpt/visionV2.pt \\
      --out /tmp/vlm/ckpt/read.pt --splits /tmp/vlm/code --eval /tmp/vlm/heldout --strip --jitter --budget-min 20
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VLM  # noqa: E402
from pixels import to_pixels  # noqa: E402
from symbolic import load_symbolic, view_rects, view_targets  # noqa: E402
from train import Split  # noqa: E402

ALPHABET = "ACEFHKLMNPRTWXY3479"
SLOTS = 4
NONE = len(ALPHABET)


def asked_parcel(truth, roi, code):
    """The parcel a code question asks about: the one with that code whose centre lies in the region."""
    x, y, w, h = roi
    cands = [p for p in truth["parcels"] if p["code"] == code
             and x <= p["box"][0] + p["box"][2] / 2 < x + w and y <= p["box"][1] + p["box"][3] / 2 < y + h]
    assert cands, (truth["image"], roi, code)
    return cands[0]


WINDOW = 4  # tokens of the card's row the probe reads: two left of the centre's boundary, two right


def card_window(group, truth, grid=8):
    """The WINDOW tokens of the card's row around the token boundary nearest its centre, in the sharpest view that
    holds the centre (a tile when the region is tiled, else the one view), as (view, token) pairs — a slot past the
    view's edge continues in the neighbouring tile (a tiled region splits its card between two tiles), or is None
    past the region's edge. None when no view holds the card's centre. A region around a parcel puts the card's
    centre on a token boundary, so the code straddles tokens; a 4-character code covers up to four."""
    p = asked_parcel(truth, group["roi"], group["answers"][0])
    bx, by, bw, bh = p["box"]
    cx, cy = bx + bw / 2, by + bh * 0.6
    rects, rows, cols = view_rects(tuple(group["roi"]), group["edge"])
    order = range(len(rects) - 1) if rows else [len(rects) - 1]
    for v in order:
        x0, y0, x1, y1 = rects[v]
        if x0 <= cx < x1 and y0 <= cy < y1:
            r = min(int((cy - y0) / ((y1 - y0) / grid)), grid - 1)
            b = int(round((cx - x0) / ((x1 - x0) / grid)))   # the nearest token boundary
            tile_col = v % cols if rows else 0
            out = []
            for c in range(b - WINDOW // 2, b + WINDOW // 2):
                if 0 <= c < grid:
                    out.append((v, r * grid + c))
                elif c < 0 and rows and tile_col > 0:
                    out.append((v - 1, r * grid + c + grid))
                elif c >= grid and rows and tile_col < cols - 1:
                    out.append((v + 1, r * grid + c - grid))
                else:
                    out.append(None)
            return out
    return None


STRIP = 3  # token rows a --strip step encodes: the card's row and one either side


def gather(feats, windows, index, per_view):
    """feats [n_views * per_view, H] of the encoded views; windows [N][WINDOW] of (view key, token) or None; index:
    view key -> position among the encoded views. Returns [N, WINDOW * H] (zeros for None)."""
    flat = [[index[k] * per_view + t if k is not None else -1 for k, t in ((e or (None, 0)) for e in w)] for w in windows]
    idx = torch.tensor(flat)
    rows = feats[idx.clamp_min(0)] * (idx >= 0)[..., None]
    return rows.reshape(len(windows), -1)


def encode_windows(vision, views_of_key, windows, strip=False, rng=None):
    """Encode every view the windows touch (full views, or --strip bands of STRIP token rows around the card's row)
    and read the windows. views_of_key: view key -> uint8 view. Returns ([N, WINDOW * H], the view keys in encoding
    order, their features [n_views, tokens, H])."""
    keys, index, r0 = [], {}, {}
    for w in windows:
        row = next(e[1] // 8 for e in w if e is not None)
        for e in w:
            if e is not None and e[0] not in index:
                index[e[0]] = len(keys)
                keys.append(e[0])
                r0[e[0]] = min(max(row - 1, 0), 8 - STRIP)
    views = np.stack([views_of_key(k) for k in keys])
    if not strip:
        feats = vision(to_pixels(views))
        return gather(feats.reshape(-1, feats.shape[-1]), windows, index, 64), keys, feats
    feats = strip_features(vision, views, [r0[k] for k in keys], rng)
    local = [[(e[0], e[1] - r0[e[0]] * 8) if e is not None else None for e in w] for w in windows]
    return gather(feats.reshape(-1, feats.shape[-1]), local, index, STRIP * 8), keys, feats


def jitter(band, rng):
    """A training copy of a band moved by up to 12 px sideways and 6 px up or down (wrapping; the card sits far
    from the band's ends) with its brightness and contrast scaled by up to ±15 %: the same card then lands on other
    patch boundaries, so the encoder learns strokes rather than the pixels of the cards it has seen."""
    out = np.roll(band, (rng.randint(-6, 6), rng.randint(-12, 12)), axis=(0, 1)).astype(np.float32)
    gain, mean = 1 + rng.uniform(-0.15, 0.15), out.mean()
    out = (out - mean) * (1 + rng.uniform(-0.15, 0.15)) + mean * gain
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def strip_features(vision, views_u8, r0s, rng=None):
    """The encoder on a band of STRIP token rows (from token row r0 of each view) only: its patches with their own
    position embeddings (3/8 of the patches, about a seventh of the attention's cost). A curriculum for reading:
    attention sees the band instead of the whole view, so full-view training follows. Returns [N, STRIP * 8, H]."""
    band = np.stack([v[r0 * 64:(r0 + STRIP) * 64] for v, r0 in zip(views_u8, r0s)])     # [N, 192, 512, 3]
    if rng is not None:
        band = np.stack([jitter(b, rng) for b in band])
    x = vision.patch_embedding(to_pixels(band))                                        # [N, d, 12, 32]
    n, d, gh, gw = x.shape
    pos = vision.position_embedding.view(32, 32, d)
    pe = torch.stack([pos[r0 * 4:(r0 + STRIP) * 4].reshape(-1, d) for r0 in r0s])       # [N, 384, d]
    x = x.reshape(n, d, -1).transpose(1, 2) + pe
    for layer in vision.layers:
        x = layer(x)
    x = vision.post_layernorm(x)
    sf = vision.sf
    x = x.reshape(n, gh, gw // sf, d * sf).permute(0, 2, 1, 3).reshape(n, gw // sf, gh // sf, d * sf * sf)
    return vision.proj(x.permute(0, 2, 1, 3).reshape(n, (gh // sf) * (gw // sf), d * sf * sf))


def code_target(code):
    return [ALPHABET.index(ch) for ch in code] + [NONE] * (SLOTS - len(code))


def items_of(split, si=0):
    """(window of (view key, token) pairs, target) of every code group of a split at the native profile; a view key
    is (split index, group index, view)."""
    out = []
    for gi, g in enumerate(split.groups):
        if g["kind"] != "code" or g["profile"] != "native":
            continue
        w = card_window(g, split.truth[g["image"]])
        if w is not None:
            out.append(([((si, gi, e[0]), e[1]) if e is not None else None for e in w], code_target(g["answers"][0])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True, help="checkpoint with the encoder to train (and the symbolic embedding)")
    ap.add_argument("--sym-from", default="", help="where the symbolic embedding is, when --init lacks it (phase V0's checkpoint)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--splits", nargs="+", required=True)
    ap.add_argument("--eval", default="")
    ap.add_argument("--budget-min", type=float, default=15)
    ap.add_argument("--cards-per-step", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--symbolic-weight", type=float, default=1.0)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--strip", action="store_true",
                    help="encode only a band of token rows around the card (strip_features; no symbolic loss)")
    ap.add_argument("--full-every", type=int, default=0,
                    help="with --strip: every Nth step is a full-view step with the symbolic loss (--full-cards cards, "
                         "plus --frame-views-per-step whole-frame views of --frame-splits)")
    ap.add_argument("--full-cards", type=int, default=8)
    ap.add_argument("--frame-splits", nargs="*", default=[], help="data.py splits whose frame views join the symbolic loss")
    ap.add_argument("--frame-views-per-step", type=int, default=8)
    ap.add_argument("--jitter", action="store_true", help="with --strip: shift and brighten each band at random (jitter)")
    ap.add_argument("--seed", type=int, default=91)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    init = torch.load(a.init)
    model = VLM(init["preset"], init["vocab"])
    model.load_state_dict(init["model"])
    sym = load_symbolic(init, a.sym_from)
    h = init["preset"]["text_hidden"]
    probe = nn.Linear(WINDOW * h, SLOTS * (NONE + 1))
    if "reading_probe" in init:
        probe.load_state_dict(init["reading_probe"])
    splits = [Split(s) for s in a.splits]
    items = [it for si, sp in enumerate(splits) for it in items_of(sp, si)]
    ev = Split(a.eval) if a.eval else None
    ev_items = items_of(ev, -1) if ev else []
    print(f"{len(items)} training cards, {len(ev_items)} held-out", flush=True)

    def view_of(key):
        si, gi, v = key
        sp = ev if si == -1 else splits[si]
        return sp.views[sp.groups[gi]["offset"] + v]

    params = list(model.vision.parameters()) + list(probe.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    rng = random.Random(a.seed)

    sym_splits = [Split(s) for s in a.frame_splits]
    frame_views = [(i, gi, v) for i, sp in enumerate(sym_splits) for gi, g in enumerate(sp.groups) if g["kind"] == "frame"
                   for v in range(g["n_views"])]
    targets = {}

    def sym_target(sp, gi, v):
        """The symbolic embedding of view v of group gi of split sp (cached per group)."""
        if (id(sp), gi) not in targets:
            targets[(id(sp), gi)] = view_targets(sym, sp.truth[sp.groups[gi]["image"]], sp.groups[gi])
        return targets[(id(sp), gi)][v]

    def evaluate(strip=False):
        """Whole codes and characters right on the held-out cards, through the full view (or the band)."""
        model.eval()
        exact = chars = total_chars = 0
        with torch.no_grad():
            for s in range(0, len(ev_items), 16):
                chunk = ev_items[s:s + 16]
                x, _, _ = encode_windows(model.vision, view_of, [w for w, _ in chunk], strip)
                pred = probe(x).view(-1, SLOTS, NONE + 1).argmax(-1)
                tgt = torch.tensor([y for _, y in chunk])
                exact += (pred == tgt).all(1).sum().item()
                real = tgt != NONE
                chars += ((pred == tgt) & real).sum().item()
                total_chars += real.sum().item()
        model.train()
        return exact / max(1, len(ev_items)), chars / max(1, total_chars)

    t0 = time.time()
    step = 0
    budget = a.budget_min * 60
    hist, sym_hist = [], []
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        lr = a.lr * min(1.0, (step + 1) / 20) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        # a full-view step (reading + the symbolic loss that keeps the other skills), or a band step (reading only)
        full = not a.strip or (a.full_every > 0 and step % a.full_every == 0)
        n = a.cards_per_step if not a.strip or not full else a.full_cards
        batch = [items[rng.randrange(len(items))] for _ in range(n)]
        x, keys, feats = encode_windows(model.vision, view_of, [w for w, _ in batch], not full, rng if a.jitter and not full else None)
        logits = probe(x).view(-1, NONE + 1)
        tgt = torch.tensor([y for _, y in batch]).view(-1)
        read = F.cross_entropy(logits, tgt)
        loss = read
        if a.symbolic_weight and full:
            target = torch.stack([sym_target(splits[si], gi, v) for si, gi, v in keys])
            s_loss = ((feats - target) ** 2).mean() / (target ** 2).mean()
            if frame_views:   # whole-frame views too (what the frame questions see), as in phase V0
                pick = [frame_views[rng.randrange(len(frame_views))] for _ in range(a.frame_views_per_step)]
                fv = model.vision(to_pixels(np.stack([sym_splits[i].views[sym_splits[i].groups[g]["offset"] + v] for i, g, v in pick])))
                ft = torch.stack([sym_target(sym_splits[i], g, v) for i, g, v in pick])
                s_loss = (s_loss + ((fv - ft) ** 2).mean() / (ft ** 2).mean()) / 2
            sym_hist.append(s_loss.item())
            loss = loss + a.symbolic_weight * s_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        hist.append(read.item())
        if step % 20 == 0:
            print(f"R step {step} {(time.time() - t0) / 60:.1f}min lr {lr:.2e} read {np.mean(hist[-20:]):.3f}"
                  + (f" sym {np.mean(sym_hist[-5:]):.3f}" if sym_hist else ""), flush=True)
        if ev_items and step % a.eval_every == 0:
            e, c = evaluate()
            line = f"R eval step {step}: code exact {e:.3f} chars {c:.3f}"
            if a.strip:
                e, c = evaluate(strip=True)
                line += f" (band: exact {e:.3f} chars {c:.3f})"
            print(line, flush=True)
        if step % 200 == 0:
            save(a.out, model, probe, init, step)
    save(a.out, model, probe, init, step)
    if ev_items:
        e, c = evaluate()
        print(f"R eval final step {step}: code exact {e:.3f} chars {c:.3f}", flush=True)
    print(f"R DONE {step} steps, {(time.time() - t0) / 60:.1f} min", flush=True)


def save(path, model, probe, init, step):
    d = {k: v for k, v in init.items() if k not in ("model", "reading_probe")}
    d.update(model=model.state_dict(), reading_probe=probe.state_dict(), reading_steps=step)
    torch.save(d, path + ".tmp")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
