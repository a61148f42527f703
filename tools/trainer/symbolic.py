"""Symbolic scenes: what each visual token should say, and a decoder trained on that before it sees pixels.

A from-scratch VLM on two CPU cores learns the answer priors long before it learns to look at the image (the
gradient that reaches the vision encoder through a randomly initialised decoder is too weak). The curriculum here
splits the problem in two (docs/demo-model.md, "Training"):

1. Phase S: scenes drawn from the scene specification (docs/scenes.md) without rendering. Each visual token of each
   view (tile or global view, the runtime's Idefics3 layout) gets labels from geometry alone — the colour of the
   parcel covering most of it, how much it covers, whether a parcel's centre lies in it, the parcel's area in the
   view — and a *symbolic* embedding of those labels stands in for the vision encoder's output. The decoder learns
   the reasoning (which tokens the question is about, counting, left/right/middle, presence) on thousands of scenes a
   minute, with the runtime's real prompt ids.
2. Phase V (train.py --symbolic): the vision encoder learns to produce the symbolic embedding of each token from the
   rendered views (a dense per-token loss), together with the answer loss through the decoder.

The symbolic embedding table is a training device only: nothing of it is exported."""
import json
import math
import os
import random
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pixels import TILE, rescale_to_max_len, scale_below_upper_bound, vision_encoder_size, PROFILE_EDGE  # noqa: E402

COLORS = ["red", "green", "blue", "yellow", "orange", "purple", "white"]
SIZES = [(1280, 720), (1920, 1080), (2560, 1440), (3840, 2160), (1600, 1200), (2560, 1080), (1440, 1440), (1080, 1920)]
COUNT = ["How many parcels are on the belt?", "How many parcels are there?", "Count the parcels on the conveyor.",
         "How many boxes are on the conveyor belt?"]
COLOR_SIDE = ["What color is the parcel on the {0}?", "Which color is the {0} parcel?", "What is the color of the parcel on the {0}?"]
COLOR_LARGEST = ["What color is the largest parcel?", "Which color is the biggest parcel?", "What is the color of the largest box?"]
POSITION = ["Where is the {0} parcel?", "Is the {0} parcel on the left, in the middle or on the right?", "Where on the belt is the {0} box?"]
PRESENCE = ["Is there {0} parcel?", "Is there {0} parcel on the belt?", "Do you see {0} box?"]
ANSWERS = [str(i) for i in range(7)] + COLORS + ["left", "middle", "right", "yes", "no"]
CLI = ["dotnet", os.environ.get("LLAVA_CLI", "/tmp/llava-cli/llava-edge.dll")]
N_LABEL_COLORS = len(COLORS) + 1  # 0 = no parcel


def article(c):
    return ("an " if c[0] in "aeiou" else "a ") + c


def all_questions():
    qs = list(COUNT) + list(COLOR_LARGEST)
    qs += [p.format(s) for p in COLOR_SIDE for s in ("left", "right", "middle")]
    qs += [p.format(c) for p in POSITION for c in COLORS]
    qs += [p.format(article(c)) for p in PRESENCE for c in COLORS]
    return qs


def largest_variant(q):
    """The largest-parcel phrasing with its key word swapped (never asked; it only locates the key word's token)."""
    return q.replace("largest", "left").replace("biggest", "left")


def key_positions(table):
    """question -> index in its tail ids of the word that names what it asks about (the colour of a position or
    presence question, the side of a colour question): the last token in which it differs from the same phrasing
    filled with another word (for the largest parcel: "largest"/"biggest"). Count questions are absent."""
    keys = {}
    families = [[p.format(s) for s in ("left", "right", "middle")] for p in COLOR_SIDE]
    families += [[p.format(c) for c in COLORS] for p in POSITION]
    families += [[p.format(article(c)) for c in COLORS] for p in PRESENCE]
    families += [[q, largest_variant(q)] for q in COLOR_LARGEST]
    for fam in families:
        for q in fam:
            t = table[q][1]
            diff = [i for o in fam if o != q and len(table[o][1]) == len(t) for i in range(len(t)) if table[o][1][i] != t[i]]
            if diff:
                keys[q] = max(diff)
    return keys


def prompt_table(work, tok_model, image, fam=None):
    """question text -> (head ids, tail ids) around the image block, answer text -> answer ids, from the runtime's
    own `prompt --dataset` (the real tokenizer and chat template; `tok_model` a package of the family's)."""
    from families import SmolVlm
    fam = fam or SmolVlm()
    os.makedirs(work, exist_ok=True)
    path = f"{work}/questions.jsonl"
    qs, ans = all_questions() + [largest_variant(q) for q in COLOR_LARGEST], ANSWERS
    with open(path, "w") as f:
        for i, q in enumerate(qs):
            f.write(json.dumps({"image": os.path.abspath(image), "question": q, "answer": ans[i % len(ans)], "type": "count"}) + "\n")
        for a in ans:
            f.write(json.dumps({"image": os.path.abspath(image), "question": qs[0], "answer": a, "type": "count"}) + "\n")
    out = subprocess.run(CLI + ["prompt", "--dataset", path, "--model", tok_model, "--profile", "fast"], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    dumps = [json.loads(l) for l in out]
    table, answers = {}, {}
    for q, d in zip(qs, dumps):
        ids = d["input_ids"]
        a, b = fam.block_span(ids)
        table[q] = (ids[:a], ids[b + 1:])
    for a, d in zip(ans, dumps[len(qs):]):
        answers[a] = d["answer_ids"]
    return table, answers


# ---------------------------------------------------------------- scenes
def sample_scene(r: random.Random, size=None):
    """A scene drawn by the rules of docs/scenes.md (geometry only)."""
    W, H = size or r.choice(SIZES)
    belt_h = int(H * (0.34 + r.random() * 0.06))
    belt_y = int(H * (0.5 + (r.random() - 0.5) * 0.1) - belt_h / 2)
    n = r.randrange(7)
    slots = sorted(r.sample(range(6), n))
    cols = r.sample(COLORS, n)
    parcels = []
    slot_w = W / 6
    for i in range(n):
        pw = int(slot_w * (0.45 + r.random() * 0.4))
        ph = int(belt_h * (0.35 + r.random() * 0.5))
        c = (slots[i] + 0.5 + (r.random() - 0.5) * 0.3) * slot_w
        px = min(max(int(c - pw / 2), 0), W - pw)
        py = belt_y + r.randrange(max(1, belt_h - ph))
        parcels.append({"color": cols[i], "box": [px, py, pw, ph]})
    return {"width": W, "height": H, "belt": [0, belt_y, W, belt_h], "parcels": parcels}


def third(cx, w):
    return "left" if cx * 3 < w else "middle" if cx * 3 < 2 * w else "right"


def center_x(p):
    return p["box"][0] + p["box"][2] // 2


def scene_questions(s, r: random.Random, per_type=2):
    """All the question kinds of docs/scenes.md section 4 that the scene allows (several of a kind)."""
    ps, W = s["parcels"], s["width"]
    out = [("count", r.choice(COUNT), str(len(ps)))]
    by_x = sorted(ps, key=center_x)
    if len(by_x) >= 2:
        opts = [("left", by_x[0]), ("right", by_x[-1])] + ([("middle", by_x[len(by_x) // 2])] if len(by_x) % 2 else [])
        for side, p in opts:
            out.append(("color", r.choice(COLOR_SIDE).format(side), p["color"]))
        big = sorted(ps, key=lambda p: -p["box"][2] * p["box"][3])
        if big[0]["box"][2] * big[0]["box"][3] >= 1.3 * big[1]["box"][2] * big[1]["box"][3]:
            out.append(("color", r.choice(COLOR_LARGEST), big[0]["color"]))
    clear = [p for p in ps if abs(center_x(p) * 3.0 / W - round(center_x(p) * 3.0 / W)) > 0.1 or round(center_x(p) * 3.0 / W) in (0, 3)]
    for p in r.sample(clear, min(len(clear), per_type)):
        out.append(("position", r.choice(POSITION).format(p["color"]), third(center_x(p), W)))
    present = [p["color"] for p in ps]
    absent = [c for c in COLORS if c not in present]
    for c in r.sample(present, min(len(present), per_type)):
        out.append(("presence", r.choice(PRESENCE).format(article(c)), "yes"))
    for c in r.sample(absent, min(len(absent), per_type)):
        out.append(("presence", r.choice(PRESENCE).format(article(c)), "no"))
    return out


# ---------------------------------------------------------------- token labels
def view_rects(region, edge):
    """Frame rectangles (x0, y0, x1, y1) that each view of `region` (x, y, w, h) covers, in the runtime's order:
    tiles row-major, then the global view (the whole region, squashed to 512 x 512). Returns (rects, rows, cols)."""
    rx, ry, rw, rh = region
    h, w = rescale_to_max_len(rh, rw, edge)
    h, w = scale_below_upper_bound(h, w)
    h2, w2 = vision_encoder_size(h, w)
    sx, sy = rw / w2, rh / h2
    rects, rows, cols = [], 0, 0
    if h2 > TILE or w2 > TILE:
        rows, cols = math.ceil(h2 / TILE), math.ceil(w2 / TILE)
        for r in range(rows):
            for c in range(cols):
                rects.append((rx + c * TILE * sx, ry + r * TILE * sy, rx + (c + 1) * TILE * sx, ry + (r + 1) * TILE * sy))
    rects.append((rx, ry, rx + rw, ry + rh))
    return rects, rows, cols


SPATIAL_MODES = ("global", "view", "token", "view-rank")


def token_labels(parcels, rects, grid=8, spatial=False, area_cover=False, whole=-1):
    """Per view and token (row-major 8 x 8): colour index (0 none, 1.. COLORS), coverage in [0, 1], centre flag,
    area of the parcel in the view (a fraction of the view / 0.05, clipped at 2; centre tokens only).

    With `spatial` (one of SPATIAL_MODES; True means "global"), two more labels, on the tokens a parcel covers:
    - thirds (1 left, 2 middle, 3 right): "global" = in the global view only (the last view: the only one that sees
      the whole region), the third of the region holding the parcel's centre; "view" = in every view, the third of
      *that view* holding the parcel's centre (a label the encoder can compute from the view it sees); "token" = in
      every view, the token's own third of its view;
    - rank along x among the parcels ("global" only; 1 leftmost, 2 rightmost, 3 the middle one of an odd number ≥ 3;
      0 otherwise or with fewer than two parcels)."""
    mode = "global" if spatial is True else (spatial or None)
    if mode is not None and mode not in SPATIAL_MODES:
        raise ValueError(f"unknown spatial mode {spatial!r} (one of {', '.join(SPATIAL_MODES)})")
    V = len(rects)
    col = np.zeros((V, grid * grid), np.int64)
    cov = np.zeros((V, grid * grid), np.float32)
    ctr = np.zeros((V, grid * grid), np.float32)
    area = np.zeros((V, grid * grid), np.float32)
    thirds = np.zeros((V, grid * grid), np.int64)
    rank = np.zeros((V, grid * grid), np.int64)

    def result():
        return (col, cov, ctr, area, thirds, rank) if mode else (col, cov, ctr, area)

    if not parcels:
        return result()
    boxes = np.array([[p["box"][0], p["box"][1], p["box"][0] + p["box"][2], p["box"][1] + p["box"][3]] for p in parcels], np.float64)
    cidx = np.array([COLORS.index(p["color"]) + 1 for p in parcels])
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    k = np.arange(grid)
    ptab_rank = np.zeros(len(parcels), np.int64)
    order = np.argsort(cx, kind="stable")
    if len(parcels) >= 2:
        ptab_rank[order[0]], ptab_rank[order[-1]] = 1, 2
        if len(parcels) % 2:
            ptab_rank[order[len(parcels) // 2]] = 3
    for v, (x0, y0, x1, y1) in enumerate(rects):
        tw, th = (x1 - x0) / grid, (y1 - y0) / grid
        tx0 = (x0 + k * tw)[None, :, None]  # [1, col, 1]
        ty0 = (y0 + k * th)[:, None, None]  # [row, 1, 1]
        ox = np.clip(np.minimum(tx0 + tw, boxes[None, None, :, 2]) - np.maximum(tx0, boxes[None, None, :, 0]), 0, None)
        oy = np.clip(np.minimum(ty0 + th, boxes[None, None, :, 3]) - np.maximum(ty0, boxes[None, None, :, 1]), 0, None)
        frac = (ox * oy / (tw * th)).reshape(grid * grid, -1)  # [64, P]
        best = frac.argmax(1)
        bf = frac[np.arange(grid * grid), best]
        has = bf > 0.05
        col[v] = np.where(has, cidx[best], 0)
        cov[v] = np.where(has, bf, 0)
        vis = (np.clip(np.minimum(x1, boxes[:, 2]) - np.maximum(x0, boxes[:, 0]), 0, None) *
               np.clip(np.minimum(y1, boxes[:, 3]) - np.maximum(y0, boxes[:, 1]), 0, None)) / ((x1 - x0) * (y1 - y0))
        view_third = np.clip(((cx - x0) * 3 // (x1 - x0)).astype(np.int64), 0, 2) + 1   # per parcel, in this view
        is_whole = v == whole % V  # the view of the whole region: last in SmolVLM's layout, first in llava-uhd's
        labelled = mode in ("view", "view-rank") or (mode == "global" and is_whole)
        ranked = (mode == "global" or mode == "view-rank") and is_whole  # ranks only where the whole region is seen
        if labelled:   # every token a parcel covers carries its parcel's third (and rank), weighted by coverage
            thirds[v] = np.where(has, view_third[best], 0)
            if ranked:
                rank[v] = np.where(has, ptab_rank[best], 0)
        if area_cover:  # every covered token carries its parcel's area in the view, not only the centre token
            area[v] = np.where(has, np.minimum(vis[best] / 0.05, 2.0), 0)
        inside = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
        for p in np.nonzero(inside)[0]:
            t = min(int((cy[p] - y0) / th), grid - 1) * grid + min(int((cx[p] - x0) / tw), grid - 1)
            ctr[v, t] = 1.0
            col[v, t] = cidx[p]
            cov[v, t] = max(cov[v, t], 0.5)
            area[v, t] = min(vis[p] / 0.05, 2.0)
            if labelled:
                thirds[v, t] = view_third[p]
                if ranked:
                    rank[v, t] = ptab_rank[p]
    if mode == "token":
        own = (np.arange(grid * grid) % grid) * 3 // grid + 1
        thirds[:] = np.where(col > 0, own[None, :], 0)
    return result()


class SymbolicEmbedding(nn.Module):
    """labels -> [T, H]: slot (token index in its view) + coverage x colour + centre x (colour + area).

    The colour vectors are the decoder's own embeddings of the colour words as the questions spell them (" red",
    ...), read live during phase S (`words` = a callable returning them) and frozen with the rest afterwards: a
    question about red then finds red tokens by matching the very vector its own word carries."""

    def __init__(self, h, grid=8, words=None, spatial=False, side_words=None, area_cover=False, whole=-1):
        super().__init__()
        # spatial (a mode of token_labels): covered tokens also carry a third (vectors = free with --untie-sides,
        # else the decoder's own embeddings of " left", " middle", " right", live like the colour words) and, in
        # the "global" mode, the parcel's rank along x
        self.spatial = spatial
        self.grid = grid
        if spatial:
            self.side = nn.Parameter(torch.randn(3, h))
            self.rank = nn.Parameter(torch.randn(3, h))
        self.side_words = side_words
        self.slot = nn.Parameter(torch.randn(grid * grid, h) * 0.5)
        self.color = nn.Parameter(torch.randn(N_LABEL_COLORS, h))
        self.center = nn.Parameter(torch.randn(N_LABEL_COLORS, h))
        self.area = nn.Parameter(torch.randn(h))
        self.area_cover = area_cover
        self.whole = whole  # index of the whole-region view among a layout's views (families.py global_index)
        if area_cover:  # coverage x area on every covered token
            self.area_cov = nn.Parameter(torch.randn(h))
        # where the slot is in its view as two linear ramps (x, y in [-1, 1]): "the leftmost red token" is then an
        # attention score that grows along one direction, and a parcel's mean x a linear read-out
        self.ramp = nn.Parameter(torch.randn(2, h))
        g = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid * 2 - 1
        self.register_buffer("xy", torch.stack((g.repeat(grid), g.repeat_interleave(grid)), 1), persistent=False)  # [64, 2]
        self.words = words

    def colors(self):
        if self.words is None:
            return self.color
        return torch.cat((self.color[:1], self.words()), 0)

    def sides(self):
        return self.side if self.side_words is None else self.side_words()

    def frozen_state(self):
        """The state with the live word vectors copied in (what phase V0 and V load)."""
        d = {k: v.detach().clone() for k, v in self.state_dict().items()}
        d["color"][1:] = self.colors()[1:].detach()
        if self.spatial:
            d["side"] = self.sides().detach().clone()
        return d

    def labels(self, parcels, rects):
        return token_labels(parcels, rects, grid=self.grid, spatial=self.spatial, area_cover=self.area_cover, whole=self.whole)

    def forward(self, col, cov, ctr, area, thirds=None, rank=None):
        """Each [V, 64]; returns [V * 64, H]."""
        col, cov, ctr, area = (torch.as_tensor(x) for x in (col, cov, ctr, area))
        c = self.colors()
        e = (self.slot[None] + (self.xy @ self.ramp)[None] + cov[..., None] * c[col] + ctr[..., None] * (self.center[col] + c[col] + area[..., None] * self.area))
        if self.area_cover:
            e = e + cov[..., None] * area[..., None] * self.area_cov
        if self.spatial:
            z = torch.zeros(1, e.shape[-1])
            side = torch.cat((z, self.sides()), 0)[torch.as_tensor(thirds)]
            rk = torch.cat((z, self.rank), 0)[torch.as_tensor(rank)]
            e = e + cov[..., None] * (side + rk)
        return e.reshape(-1, e.shape[-1])


def transplant_text(model, src, src_vocab):
    """The text side of another checkpoint's state `src` (same decoder dimensions: another family's phase S) into
    `model`: the decoder layers and final norm as they are, the embedding rows and head columns by token id; ids the
    source never had keep their initial values."""
    from model import text_names
    sd = model.state_dict()
    where = {t: i for i, t in enumerate(src_vocab)}
    pairs = [(j, where[t]) for j, t in enumerate(model.vocab_ids) if t in where]
    mine, theirs = torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])
    for _, key, axis in text_names(model):
        if axis is None:
            sd[key] = src[key]
        elif axis == 0:
            sd[key][mine] = src[key][theirs]
        else:
            sd[key][:, mine] = src[key][:, theirs]
    model.load_state_dict(sd)


def load_symbolic(init, sym_from=""):
    """The frozen symbolic embedding of a checkpoint; a phase V checkpoint has none, so it comes from `sym_from`
    (the phase V0 checkpoint it grew from), and is copied into `init` so later checkpoints carry it."""
    from families import of_preset
    if "sym" not in init:
        if not sym_from:
            raise SystemExit("this checkpoint holds no symbolic embedding: name its phase V0 checkpoint with --sym-from")
        src = torch.load(sym_from)
        init.update(sym=src["sym"], spatial_mode=src.get("spatial_mode"))
    grid = math.isqrt(init["sym"]["slot"].shape[0])
    sym = SymbolicEmbedding(init["preset"]["text_hidden"], grid=grid, spatial=init.get("spatial_mode") or ("side" in init["sym"]),
                            area_cover="area_cov" in init["sym"], whole=of_preset(init["preset"]).whole)
    sym.load_state_dict(init["sym"])
    sym.requires_grad_(False)
    return sym


@torch.no_grad()
def view_targets(sym, truth, g, fam=None):
    """[V, T, H]: the symbolic embedding of every view of a data.py group (its region, else the whole frame); the
    view rectangles come from the group's family (families.py; smolvlm when not given)."""
    from families import SmolVlm
    region = tuple(g["roi"]) if g["roi"] is not None else (0, 0, truth["width"], truth["height"])
    rects = (fam or SmolVlm()).rects(region, g)
    return sym(*sym.labels(truth["parcels"], rects)).reshape(len(rects), sym.grid * sym.grid, -1)


def layout(scene, profile, fam):
    """(view rectangles, the group fields of the family's plan) of a whole frame at a profile."""
    region = (0, 0, scene["width"], scene["height"])
    g = {"image": "", "profile": profile, **fam.plan(region[2], region[3], profile, None)}
    return fam.rects(region, g), g


# ---------------------------------------------------------------- phase S
def main():
    import argparse
    import pickle
    import time
    import families
    from model import DEFAULT_PRESET, full_vocab_ce, rms_norm
    from train import vocab_of

    ap = argparse.ArgumentParser(description="Phase S: the decoder on symbolic scenes (see the module docstring).")
    ap.add_argument("--out", required=True, help="checkpoint file to write (resumed when it exists)")
    ap.add_argument("--work", default="/tmp/vlm/symbolic")
    ap.add_argument("--tok-model", default="/tmp/tiny")
    ap.add_argument("--vocab-from", nargs="*", default=["/tmp/vlm/train", "/tmp/vlm/trainfast", "/tmp/vlm/heldout"],
                    help="data.py splits whose ids join the vocabulary (so phase V and the export share it)")
    ap.add_argument("--image", default="/tmp/vlm/heldout/images/7-00000.png", help="any image, for the prompt dump")
    ap.add_argument("--budget-min", type=float, default=15)
    ap.add_argument("--groups-per-step", type=int, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--profiles", default="fast:0.4,balanced:0.3,detail:0.3")
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--freeze-sym", action="store_true", help="keep the symbolic embedding as loaded (colour words untied)")
    ap.add_argument("--fast-first", type=float, default=0.5, help="fraction of the budget on the fast profile only (64 visual tokens)")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--spatial", nargs="?", const="global", default=None, choices=SPATIAL_MODES,
                    help="thirds labels: global = the global view's parcel thirds and x-ranks; token = every covered "
                         "token's own third of its view; view = the third of its view holding the parcel's centre")
    ap.add_argument("--only-types", default="", help="train on these question types only (comma-separated; a diagnostic)")
    ap.add_argument("--type-weights", default="", help="loss weight per question type, e.g. color:2 (others 1)")
    ap.add_argument("--area-cover", action="store_true", help="every covered token carries its parcel's area (else the centre token only)")
    ap.add_argument("--untie-sides", action="store_true", help="the thirds' vectors are free parameters, not the words' embeddings")
    ap.add_argument("--restart-schedule", action="store_true", help="on resume, start the warm-up and cosine schedule anew")
    ap.add_argument("--aux-weight", type=float, default=0.0,
                    help="weight of the probe loss: the answer read from the key word's residual after --aux-layer")
    ap.add_argument("--aux-layer", type=int, default=1)
    ap.add_argument("--preset", default="{}")
    ap.add_argument("--family", choices=[families.SMOLVLM, families.LLAVA_UHD], default=families.SMOLVLM,
                    help="whose views and prompt layout (llava-uhd: docs/llava-uhd.md; --tok-model a llava-uhd package)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decoder-from", default="",
                    help="start a new run's decoder, symbolic embedding and probe from this phase S checkpoint of another "
                         "family with the same decoder size (the embedding rows and head columns by token id)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    preset = dict(DEFAULT_PRESET)
    if a.family == families.LLAVA_UHD:
        preset.update(families.uhd_defaults())
    preset.update(json.loads(a.preset))
    fam = families.of_preset(preset)
    table, answers = prompt_table(a.work, a.tok_model, a.image, fam)
    keys = key_positions(table)
    groups = []
    for d in a.vocab_from:
        groups += pickle.load(open(f"{d}/groups.pkl", "rb"))
    extra = {"input_ids": [h + t for h, t in table.values()] + [list(range(49152, 49190)) + [198, 1116]], "answer_ids": list(answers.values())}
    vocab = vocab_of(groups + [extra])
    model = fam.model(preset, vocab, embed_std=1.0)
    # the colour words' ids: the one token in which two position questions about different colours differ
    base = table[POSITION[0].format(COLORS[0])][1]
    pos = [i for i in range(len(base)) if len({tuple(table[POSITION[0].format(c)][1][:i + 1]) for c in COLORS}) > 1][0]
    assert all(len(table[POSITION[0].format(c)][1]) == len(base) for c in COLORS), "each colour word is one token"
    word_ids = torch.tensor([table[POSITION[0].format(c)][1][pos] for c in COLORS])
    print(f"colour word ids {word_ids.tolist()}", flush=True)
    side_ids = []
    for side in ("left", "middle", "right"):  # the word that tells the side-colour questions apart
        t = [table[COLOR_SIDE[0].format(x)][1] for x in ("left", "middle", "right")]
        i = [j for j in range(len(t[0])) if len({tuple(x[:j + 1]) for x in t}) > 1][0]
        side_ids.append(table[COLOR_SIDE[0].format(side)][1][i])
    side_ids = torch.tensor(side_ids)
    print(f"side word ids {side_ids.tolist()}", flush=True)
    sym = SymbolicEmbedding(preset["text_hidden"], grid=math.isqrt(fam.per_view), words=lambda: model.embed_ids(word_ids), spatial=a.spatial,
                            side_words=None if a.untie_sides else lambda: model.embed_ids(side_ids), area_cover=a.area_cover,
                            whole=fam.whole)
    if a.freeze_sym:  # the encoder was taught these targets (pretrain_vision.py): the decoder adapts, the targets stay
        sym.words = None
        sym.side_words = None
        sym.requires_grad_(False)
    # The probe: a training device like the symbolic embedding (never exported). A question about one parcel needs
    # two look-ups (its key word finds the parcel's tokens, the answer position reads the key word); the probe asks
    # the key word's residual after --aux-layer for the answer, so the first look-up gets a gradient of its own.
    probe = nn.Linear(preset["text_hidden"], len(ANSWERS))
    params = [p for n, p in model.named_parameters() if not n.startswith("vision.")] + [p for p in sym.parameters() if p.requires_grad]
    if a.aux_weight > 0:
        params += list(probe.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    state = {"step": 0, "elapsed": 0.0}
    if a.decoder_from and not os.path.exists(a.out):
        c = torch.load(a.decoder_from)
        transplant_text(model, c["model"], c["vocab"])
        src_sym = dict(c["sym"])
        if src_sym["slot"].shape != sym.slot.shape:  # another grid of queries per view: the slot table resampled over it
            g0, h = math.isqrt(src_sym["slot"].shape[0]), src_sym["slot"].shape[1]
            grid = src_sym["slot"].reshape(g0, g0, h).permute(2, 0, 1)[None]
            src_sym["slot"] = nn.functional.interpolate(grid, size=(sym.grid, sym.grid), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).reshape(-1, h)
        sym.load_state_dict(src_sym, strict=False)
        probe.load_state_dict(c["probe"])
        print(f"decoder, symbolic embedding and probe from {a.decoder_from} ({len(set(vocab) - set(c['vocab']))} new token ids)", flush=True)
    if os.path.exists(a.out):
        c = torch.load(a.out)
        model.load_state_dict(c["model"])
        if "probe" in c:
            probe.load_state_dict(c["probe"])
        missing = sym.load_state_dict(c["sym"], strict=False).missing_keys
        if missing or a.freeze_sym or (a.aux_weight > 0 and "probe" not in c):  # another parameter set: a fresh optimiser
            print(f"new symbolic parameters {missing}" if missing else "symbolic embedding frozen or a new probe", flush=True)
        else:
            opt.load_state_dict(c["opt"])
        state = c["state"]
        if a.restart_schedule:
            state = {"step": 0, "elapsed": 0.0}
        assert c["vocab"] == vocab
        print(f"resumed at step {state['step']}", flush=True)
    def frozen_sym():
        return sym.frozen_state()

    prof = [(p.split(":")[0], float(p.split(":")[1])) for p in a.profiles.split(",")]
    fast_until = a.fast_first

    def pick_profile(r):
        x, acc = r.random(), 0.0
        for p, w in prof:
            acc += w
            if x < acc:
                return p
        return prof[-1][0]

    def batch_losses(scenes, profile, qsets):
        """Scenes of one frame size at one profile (one prefix length): prefixes batched, all questions batched."""
        rects, plan = layout(scenes[0], profile, fam)
        head = table[qsets[0][0][1]][0]
        prefix = torch.tensor(head + fam.image_block(plan))
        xp = torch.stack([model.merge(prefix, sym(*sym.labels(s["parcels"], rects))) for s in scenes])
        kvs = model.run_prefix(xp)
        seqs, owner, tpos, tgt, types, kpos, ktgt = [], [], [], [], [], [], []
        for g, qs in enumerate(qsets):
            for ty, q, ans in qs:
                tail, aid = table[q][1], answers[ans]
                b = len(seqs)
                if q in keys:
                    kpos.append((b, keys[q]))
                    ktgt.append(ANSWERS.index(ans))
                seqs.append(tail + aid[:-1])
                owner.append(g)
                for j, t in enumerate(aid):
                    tpos.append((b, len(tail) - 1 + j))
                    tgt.append(t)
                    types.append((b, ty))
        T = max(len(s) for s in seqs)
        pad = torch.zeros(len(seqs), T, dtype=torch.long)
        for b, s in enumerate(seqs):
            pad[b, :len(s)] = torch.tensor(s)
        kinds.clear()
        kinds.extend(subtype(ty, q) for ty, q, _ans in (x for qs in qsets for x in qs))
        h, mid = model.run_suffix(kvs, model.embed_ids(pad), prefix_of=torch.tensor(owner), mid=a.aux_layer)
        logits = model.logits_compact(h[torch.tensor([p[0] for p in tpos]), torch.tensor([p[1] for p in tpos])])
        tk = model.lut[torch.tensor(tgt)]
        aux = torch.zeros(())
        if a.aux_weight > 0 and kpos:
            r = mid[torch.tensor([p[0] for p in kpos]), torch.tensor([p[1] for p in kpos])]
            aux = nn.functional.cross_entropy(probe(rms_norm(r, 1.0)), torch.tensor(ktgt))
        return full_vocab_ce(logits, tk, preset["vocab_size"]), types, (logits.argmax(-1) == tk), aux

    kinds = []  # the subtype of each question of the last batch (colour questions by what they ask about)

    def subtype(ty, q):
        if ty != "color":
            return ty
        return "color:" + next((k for k in ("left", "right", "middle") if k in q), "largest")

    type_w = {t.split(":")[0]: float(t.split(":")[1]) for t in a.type_weights.split(",") if t}

    held_rng = random.Random(99)
    held = []
    for _ in range(40):
        size, p = held_rng.choice(SIZES), pick_profile(held_rng)
        sc = [sample_scene(held_rng, size) for _ in range(4)]
        held.append((sc, p, [scene_questions(s, held_rng, per_type=1) for s in sc]))

    @torch.no_grad()
    def evaluate():
        right, total = {}, {}
        for sc, p, qsets in held:
            _, types, ok, _ = batch_losses(sc, p, qsets)
            per_q = {}
            for (b, ty), o in zip(types, ok.tolist()):
                per_q.setdefault((b, ty), []).append(o)
            for (b, ty), os_ in per_q.items():
                for key in {ty, kinds[b], f"{p}:{ty}"}:
                    right[key] = right.get(key, 0) + all(os_)
                    total[key] = total.get(key, 0) + 1
        return {t: round(right[t] / total[t], 3) for t in sorted(total)}

    rng = random.Random(a.seed + state["step"])
    budget = a.budget_min * 60
    t_mark = time.time()
    while state["elapsed"] < budget:
        lr = a.lr * min(1.0, (state["step"] + 1) / a.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * state["elapsed"] / budget)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        size, profile = rng.choice(SIZES), pick_profile(rng)
        if state["elapsed"] < fast_until * budget:
            profile = "fast"
        scenes = [sample_scene(rng, size) for _ in range(a.groups_per_step)]
        qsets = [scene_questions(s, rng) for s in scenes]
        if a.only_types:
            keep = set(a.only_types.split(","))
            pairs = [(sc, [q for q in qs if q[0] in keep]) for sc, qs in zip(scenes, qsets)]
            pairs = [(sc, qs) for sc, qs in pairs if qs]
            if not pairs:
                continue
            scenes, qsets = [p[0] for p in pairs], [p[1] for p in pairs]
        l, tys, _, aux = batch_losses(scenes, profile, qsets)
        n = {}
        for b, _t in tys:  # every question weighs the same, whatever its number of answer tokens
            n[b] = n.get(b, 0) + 1
        losses = [l * torch.tensor([type_w.get(t, 1.0) / n[b] for b, t in tys])]
        raw = [l.detach()]
        n_q = len(n)
        loss = torch.cat(losses).sum() / n_q + a.aux_weight * aux
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        state["step"] += 1
        now = time.time()
        state["elapsed"] += now - t_mark
        t_mark = now
        if state["step"] % 20 == 0:
            per = {}
            for l, (b, ty) in zip(torch.cat(raw).tolist(), tys):
                per.setdefault(ty, []).append(l)
            print(f"S step {state['step']} {state['elapsed'] / 60:.1f}min lr {lr:.2e} loss {loss.item():.3f} probe {aux.item():.3f} per token "
                  f"{ {t: round(float(np.mean(v)), 3) for t, v in sorted(per.items())} }", flush=True)
        if state["step"] % a.eval_every == 0:
            print(f"S EVAL step {state['step']} {evaluate()}", flush=True)
            torch.save({"model": model.state_dict(), "sym": frozen_sym(), "opt": opt.state_dict(), "state": state,
                        "vocab": vocab, "preset": preset, "probe": probe.state_dict(),
                        "spatial_mode": a.spatial}, a.out + ".tmp")
            os.replace(a.out + ".tmp", a.out)
            t_mark = time.time()
    print(f"S EVAL final step {state['step']} {evaluate()}", flush=True)
    torch.save({"model": model.state_dict(), "sym": frozen_sym(), "opt": opt.state_dict(), "state": state,
                "vocab": vocab, "preset": preset, "probe": probe.state_dict(),
                        "spatial_mode": a.spatial}, a.out)


if __name__ == "__main__":
    main()
