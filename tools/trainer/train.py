"""Trainer: a SmolVLM-architecture VLM from scratch on parcel scenes (see README.md).

  /usr/bin/python3 tools/trainer/train.py --name demo --train /tmp/vlm/train --eval /tmp/vlm/heldout --budget-min 55 [--resume]
"""
import argparse
import csv
import json
import math
import os
import pickle
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VLM, DEFAULT_PRESET, IMAGE_TOKEN, EOU, full_vocab_ce  # noqa: E402
import families  # noqa: E402
from pixels import to_pixels  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STOP_IDS = (EOU, 2)


# ---------------------------------------------------------------- tokens / text
def byte_decoder():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class Tok:
    def __init__(self, tokenizer_json):
        t = json.load(open(tokenizer_json))
        self.vocab = {i: s for s, i in t["model"]["vocab"].items()}
        self.ids = dict(t["model"]["vocab"])
        self.added = {a["id"]: a["content"] for a in t["added_tokens"]}
        self.bd = byte_decoder()
        # the runtime never generates added tokens other than the stop tokens
        self.banned = sorted(i for i in self.added if i not in STOP_IDS)

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            if i in STOP_IDS:
                break
            if i in self.added:
                out += self.added[i].encode()
            else:
                out += bytes(self.bd[c] for c in self.vocab.get(i, ""))
        return out.decode("utf-8", errors="replace")


def char_answer_ids(code, tok):
    """A code's answer spelled one token per character (" K", "H", "T"; a leading digit as " ", "7"), then the
    end of the utterance: the same text as the tokenizer's merged pieces ("HT" is one token), so the runtime's
    decoded answer is identical, while each generated token copies one character the encoder read (docs/demo-model.md,
    "Codes: what reading takes")."""
    ids = [tok.ids["Ġ" + code[0]]] if "Ġ" + code[0] in tok.ids else [tok.ids["Ġ"], tok.ids[code[0]]]
    return ids + [tok.ids[c] for c in code[1:]] + [EOU]


def normalize(s):
    return s.strip().rstrip(".!?,;:").strip().lower()


# ---------------------------------------------------------------- data
class Split:
    def __init__(self, root):
        self.root = root
        self.groups = pickle.load(open(f"{root}/groups.pkl", "rb"))
        self.views = np.load(f"{root}/views.npy", mmap_mode="r")
        self.family = families.of_split(root)
        self.flat = self.views.ndim == 1  # views of several sizes (families.py)
        self.tower = None
        truth = f"{root}/scenes.jsonl"  # ground truth of every scene (sample --dataset writes it)
        self.truth = {}
        if os.path.exists(truth):
            for line in open(truth):
                t = json.loads(line)
                self.truth[t["image"]] = t

    def adopt(self, fam):
        """Serve the data to a model of the split's family with another number of tokens per view (a llava-uhd
        model with fewer queries): the same views, each prompt's image block rebuilt for the model's layout."""
        if fam.per_view == self.family.per_view:
            return
        from data import fix_ids  # the image block spans the same edge tokens whatever the count per view
        for g in self.groups:
            g["input_ids"] = [fix_ids(ids, fam, g) for ids in g["input_ids"]]
        self.family = fam
        print(f"{self.root}: image blocks rebuilt for {fam.per_view} tokens per view", flush=True)

    def pixels_range(self, s, e):
        return to_pixels(np.ascontiguousarray(self.views[s:e]))

    def cache_tower(self, model, path):
        """Tower outputs (pixel-shuffled, before the projection) of every view, for a frozen-tower phase."""
        n = self.views.shape[0]
        shape = (n, 64, model.vision.proj.weight.shape[0])
        if not os.path.exists(path):
            t = time.time()
            mm = np.lib.format.open_memmap(path + ".tmp.npy", mode="w+", dtype=np.float32, shape=shape)
            with torch.no_grad():
                for s in range(0, n, 16):
                    mm[s:s + 16] = model.vision.tower(to_pixels(np.ascontiguousarray(self.views[s:s + 16]))).numpy()
            mm.flush()
            del mm
            os.replace(path + ".tmp.npy", path)
            print(f"tower cache {n} views in {time.time() - t:.0f}s", flush=True)
        self.tower = np.load(path, mmap_mode="r")
        assert self.tower.shape == shape
        with torch.no_grad():  # the cache must be this model's tower (same seed and dims)
            ref = model.vision.tower(to_pixels(np.ascontiguousarray(self.views[:2]))).numpy()
        assert np.abs(ref - self.tower[:2]).max() < 1e-4, "tower cache is from another init"

    def view(self, g, v):
        """uint8 HWC of view v of group g."""
        if not self.flat:
            return self.views[g["offset"] + v]
        o, sh = g["view_offsets"][v], g["view_shapes"][v]
        return self.views[o:o + int(np.prod(sh))].reshape(sh)

    def pixels(self, g, idx=None):
        """[n, 3, S, S] (smolvlm), or a list of [3, H, W] views of the group (views of several sizes)."""
        if self.flat:
            which = range(g["n_views"])
            which = which if idx is None else which[idx] if isinstance(idx, slice) else idx
            return [to_pixels(np.ascontiguousarray(self.view(g, v))) for v in which]
        v = self.views[g["offset"]:g["offset"] + g["n_views"]]
        if idx is not None:
            v = v[idx]
        return to_pixels(np.ascontiguousarray(v))


def prefix_len(g):
    ids = g["input_ids"]
    lcp = len(ids[0])
    for x in ids[1:]:
        n = 0
        while n < min(lcp, len(x)) and x[n] == ids[0][n]:
            n += 1
        lcp = n
    lcp = min(lcp, min(len(x) for x in ids) - 1)
    last_image = max(i for i, t in enumerate(ids[0]) if t == IMAGE_TOKEN)
    assert lcp > last_image, "image tokens must lie in the shared prefix"
    return lcp


def encode_group_views(model, split, g, rng, train, grad_tiles=3, frozen=False, graded=None):
    """Features [V*64,H] of a group in view order; in training, big groups backprop only through the global
    view and `grad_tiles` random tiles (the other views are encoded without gradient)."""
    V, T = g["n_views"], split.family.per_view
    if not train:
        with torch.no_grad():
            return torch.cat([model.vision(split.pixels(g, slice(s, s + 8))) for s in range(0, V, 8)]).reshape(V * T, -1)
    if frozen:  # the tower is frozen: only the connector projection learns
        assert not split.flat, "a frozen tower is a smolvlm-only option"
        if split.tower is not None:
            pre = torch.from_numpy(np.ascontiguousarray(split.tower[g["offset"]:g["offset"] + V]))
        else:
            with torch.no_grad():
                pre = torch.cat([model.vision.tower(split.pixels(g, slice(s, s + 8))) for s in range(0, V, 8)])
        return model.vision.proj(pre).reshape(V * 64, -1)
    if V <= 1 + grad_tiles + 1:
        fg = model.vision(split.pixels(g))
        if graded is not None:
            graded.append((list(range(V)), fg))
        return fg.reshape(V * T, -1)
    whole = split.family.global_index(V)  # the view of the whole region always gets gradient
    tiles = [i for i in range(V) if i != whole]
    pick = sorted(rng.sample(tiles, grad_tiles) + [whole])
    rest = [i for i in range(V) if i not in pick]
    fg = model.vision(split.pixels(g, pick))
    if graded is not None:
        graded.append((pick, fg))
    with torch.no_grad():
        fr = model.vision(split.pixels(g, rest))
    feats = fg.new_empty(V, fg.shape[1], fg.shape[2])
    feats = feats.index_put((torch.tensor(pick),), fg).index_put((torch.tensor(rest),), fr)
    return feats.reshape(V * T, -1)


def symbolic_loss(sym, split, g, graded):
    """Dense per-token loss: the encoder's output against the symbolic embedding of each token's labels
    (symbolic.py), normalised by the target's mean square."""
    from symbolic import view_targets
    target = view_targets(sym, split.truth[g["image"]], g, split.family)
    out = []
    for idx, f in graded:
        t = target[torch.tensor(idx)]
        out.append(((f - t) ** 2).mean() / (t ** 2).mean())
    return torch.stack(out).mean()


def group_loss(model, split, g, rng, frozen=False, sym=None, reader=None):
    graded = [] if sym is not None else None
    feats = encode_group_views(model, split, g, rng, train=True, frozen=frozen, graded=graded)
    read = None
    if reader is not None and g["kind"] == "code" and g["profile"] == "native":
        from reading import card_window, code_target, gather, SLOTS, NONE
        w = card_window(g, split.truth[g["image"]])
        if w is not None:
            logits = reader(gather(feats, [w], {v: v for v in range(g["n_views"])}, 64)).view(SLOTS, NONE + 1)
            read = torch.nn.functional.cross_entropy(logits, torch.tensor(code_target(g["answers"][0])))
    P = prefix_len(g)
    ids0 = torch.tensor(g["input_ids"][0][:P])
    kvs = model.run_prefix(model.merge(ids0, feats)[None])
    seqs, tpos, tgt, types = [], [], [], []
    for b, (ids, ans) in enumerate(zip(g["input_ids"], g["answer_ids"])):
        s = ids[P:] + ans[:-1]
        seqs.append(s)
        start = len(ids) - 1 - P
        for j, a in enumerate(ans):
            tpos.append((b, start + j))
            tgt.append(a)
            types.append(g["types"][b])
    T = max(len(s) for s in seqs)
    pad = torch.zeros(len(seqs), T, dtype=torch.long)
    for b, s in enumerate(seqs):
        pad[b, :len(s)] = torch.tensor(s)
    h = model.run_suffix(kvs, model.embed_ids(pad))
    bi = torch.tensor([p[0] for p in tpos])
    ti = torch.tensor([p[1] for p in tpos])
    logits = model.logits_compact(h[bi, ti])
    losses = full_vocab_ce(logits, model.lut[torch.tensor(tgt)], model.p["vocab_size"])
    return losses, types, (symbolic_loss(sym, split, g, graded) if sym is not None else None), read


@torch.no_grad()
def greedy_group(model, split, g, tok, max_new=8):
    feats = encode_group_views(model, split, g, None, train=False)
    P = prefix_len(g)
    kvs = model.run_prefix(model.merge(torch.tensor(g["input_ids"][0][:P]), feats)[None])
    banned = torch.tensor(tok.banned)
    outs = []
    for ids in g["input_ids"]:
        s = list(ids[P:])
        gen = []
        for _ in range(max_new):
            h = model.run_suffix(kvs, model.embed_ids(torch.tensor(s))[None])[0, -1]
            full = model.full_logits(h)
            full[banned] = -float("inf")
            nxt = int(torch.argmax(full))
            gen.append(nxt)
            if nxt in STOP_IDS:
                break
            s.append(nxt)
        outs.append(gen)
    return outs


def evaluate(model, split, tok, groups, max_new=8):
    """Returns {(profile, type): [right, total]} and per-line predictions."""
    model.eval()
    res, preds = {}, []
    for g in groups:
        outs = greedy_group(model, split, g, tok, max_new)
        for gen, ans, typ, q in zip(outs, g["answers"], g["types"], g["questions"]):
            text = tok.decode(gen)
            ok = normalize(text) == normalize(ans)
            profiles = [g["profile"]] + (["native"] if g["kind"] == "frame" and g["profile"] == "detail" else [])
            for p in profiles:  # a frame line at native is answered on the detail views (no roi)
                r = res.setdefault((p, typ), [0, 0])
                r[0] += ok
                r[1] += 1
            preds.append({"image": g["image"], "profile": g["profile"], "type": typ, "question": q, "answer": ans,
                          "pred": text, "ok": bool(ok)})
    model.train()
    return res, preds


def summarize(res):
    by_type, by_prof = {}, {}
    for (p, t), (r, n) in res.items():
        for d, k in ((by_type, t), (by_prof, p)):
            x = d.setdefault(k, [0, 0])
            x[0] += r
            x[1] += n
    return ({k: round(r / n, 4) for k, (r, n) in sorted(by_type.items())},
            {k: round(r / n, 4) for k, (r, n) in sorted(by_prof.items())})


# ---------------------------------------------------------------- training
@torch.no_grad()
def pca_init(model, split, n_views=256):
    """Data-dependent init of the connector (no bias): whiten the top principal directions of the tower's
    outputs and remove the mean direction, so the image tokens differ from each other from step 0."""
    if split.tower is not None:
        x = torch.from_numpy(np.ascontiguousarray(split.tower[:n_views]))
    else:
        x = torch.cat([model.vision.tower(split.pixels_range(s, min(s + 16, n_views))) for s in range(0, n_views, 16)])
    x = x.reshape(-1, x.shape[-1]).double()
    mu = x.mean(0)
    c = torch.cov((x - mu).T)
    evals, evecs = torch.linalg.eigh(c)
    h = model.vision.proj.weight.shape[1]
    u = evecs[:, -h:]
    w = u / torch.sqrt(evals[-h:].clamp_min(1e-6))[None, :]
    m = mu / mu.norm()
    w = w - torch.outer(m, m @ w)  # mu @ w = 0
    model.vision.proj.weight.copy_(w.float())
    f = (x[:4096] @ w)
    print(f"pca init: feature std {f.std().item():.3f}, |mean| {f.mean(0).norm().item():.4f}", flush=True)


def vocab_of(groups):
    ids = set()
    for g in groups:
        for x in g["input_ids"] + g["answer_ids"]:
            ids.update(x)
    ids.update(STOP_IDS[:1])
    return sorted(ids)


def param_groups(model, wd, vision_mult, proj_mult, text_mult=1.0):
    groups = {}
    for n, p in model.named_parameters():
        part = "proj" if n.startswith("vision.proj") else "tower" if n.startswith("vision.") else "text"
        decay = p.dim() >= 2 and n != "embed"
        groups.setdefault((part, decay), []).append(p)
    mult = {"tower": vision_mult, "proj": proj_mult, "text": text_mult}
    return [{"params": ps, "weight_decay": wd if decay else 0.0, "lr_mult": mult[part]}
            for (part, decay), ps in sorted(groups.items())]


def lr_at(progress, step, a):
    warm = min(1.0, (step + 1) / a.warmup)
    cos = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return a.lr * warm * (a.min_lr_frac + (1 - a.min_lr_frac) * cos)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--ckpt-dir", default="/tmp/vlm/ckpt")
    ap.add_argument("--tokenizer", default="/tmp/tiny/tokenizer.json")
    ap.add_argument("--budget-min", type=float, default=55.0, help="wall minutes of the training loop (evals included)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--groups-per-step", type=int, default=3)
    ap.add_argument("--phase1-train", default="", help="a one-view split (data.py --split fast) trained first")
    ap.add_argument("--phase1-frac", type=float, default=0.4, help="fraction of the budget spent on phase 1")
    ap.add_argument("--phase1-groups-per-step", type=int, default=8)
    ap.add_argument("--freeze-vision-until", type=float, default=0.0,
                    help="progress fraction until which the vision tower stays at its init (only the connector learns)")
    ap.add_argument("--vision-lr-mult", type=float, default=1.0)
    ap.add_argument("--proj-lr-mult", type=float, default=1.0)
    ap.add_argument("--embed-std", type=float, default=0.02)
    ap.add_argument("--proj-init", choices=["random", "pca"], default="random")
    ap.add_argument("--phase1-tower-cache", action="store_true",
                    help="phase 1 reads the frozen tower's outputs from a cache computed once at the start")
    ap.add_argument("--per-question", action="store_true", help="each question weighs the same (mean over its tokens)")
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--wd", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--eval-every-min", type=float, default=9.0)
    ap.add_argument("--eval-images", type=int, default=12)
    ap.add_argument("--ckpt-every-min", type=float, default=4.0)
    ap.add_argument("--preset", default="{}", help="JSON overrides of the model dimensions")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="", help="start from a phase S checkpoint (symbolic.py): its decoder, vocabulary and symbolic embedding")
    ap.add_argument("--symbolic-weight", type=float, default=0.0, help="weight of the dense per-token loss against the symbolic embedding")
    ap.add_argument("--text-lr-mult", type=float, default=1.0)
    ap.add_argument("--keep-init-vision", action="store_true", help="keep the --init checkpoint's vision encoder (pretrain_vision.py)")
    ap.add_argument("--type-weights", default="", help="with --per-question: weights of question types, e.g. color:2")
    ap.add_argument("--skip-types", default="", help="comma-separated question types left out of training (e.g. code)")
    ap.add_argument("--code-chars", action="store_true",
                    help="code answers one token per character (char_answer_ids) instead of the tokenizer's pieces")
    ap.add_argument("--extra-train", nargs="*", default=[],
                    help="more splits mixed into the main one (e.g. data.py --split code): each group of a step comes "
                         "from one of them, drawn at random, with probability --extra-frac")
    ap.add_argument("--extra-frac", type=float, default=0.3)
    ap.add_argument("--sym-from", default="", help="the phase V0 checkpoint holding the symbolic embedding, when --init lacks it")
    ap.add_argument("--read-weight", type=float, default=0.0,
                    help="weight of the reading probe on native code groups (reading.py); its state comes from --init")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    run_dir = os.path.join(HERE, "runs", a.name)
    ck_dir = os.path.join(a.ckpt_dir, a.name)
    os.makedirs(run_dir, exist_ok=True)
    os.makedirs(ck_dir, exist_ok=True)
    tok = Tok(a.tokenizer)
    train, held = Split(a.train), Split(a.eval)
    splits = {"main": train}
    if a.phase1_train:
        splits["phase1"] = Split(a.phase1_train)
    type_weight = {t.split(":")[0]: float(t.split(":")[1]) for t in a.type_weights.split(",") if t}
    extras = [Split(e) for e in a.extra_train]
    skip = {t for t in a.skip_types.split(",") if t}
    for sp in list(splits.values()) + extras:  # a group is one kind (frame questions, or one code question): drop whole groups
        sp.groups = [g for g in sp.groups if not set(g["types"]) & skip]
    preset = dict(DEFAULT_PRESET)
    preset.update(json.loads(a.preset))
    if a.code_chars:
        for sp in list(splits.values()) + extras + [held]:
            for g in sp.groups:
                if g["kind"] == "code":
                    g["answer_ids"] = [char_answer_ids(ans, tok) for ans in g["answers"]]
    vocab = vocab_of([g for sp in list(splits.values()) + extras for g in sp.groups])
    sym = None
    if a.init:
        from symbolic import load_symbolic
        init = torch.load(a.init)
        assert set(vocab) <= set(init["vocab"]), "the phase S vocabulary must hold every id of the data"
        vocab = init["vocab"]
        preset = init["preset"]
    fam = families.of_preset(preset)
    assert all(sp.family.name == fam.name for sp in list(splits.values()) + extras + [held]), "the data splits are of another family than the model"
    for sp in list(splits.values()) + extras + [held]:
        sp.adopt(fam)
    model = fam.model(preset, vocab, embed_std=a.embed_std)
    if a.init:
        own = model.vision.state_dict()
        missing = model.load_state_dict(init["model"])
        if not a.keep_init_vision:
            model.vision.load_state_dict(own)  # the vision encoder starts fresh; phase S never trained it
        sym = load_symbolic(init, a.sym_from)
        print(f"init from {a.init} (step {init['state']['step']})", flush=True)
    reader = None
    if a.read_weight > 0:
        from reading import SLOTS, NONE, WINDOW
        reader = torch.nn.Linear(WINDOW * preset["text_hidden"], SLOTS * (NONE + 1))
        reader.load_state_dict(init["reading_probe"])
    if a.symbolic_weight <= 0:
        sym = None
    if a.phase1_tower_cache and "phase1" in splits:
        assert a.freeze_vision_until >= a.phase1_frac, "cached tower features need a frozen tower during phase 1"
        splits["phase1"].cache_tower(model, os.path.join(ck_dir, "phase1_tower.npy"))
    if a.proj_init == "pca" and not a.resume:
        pca_init(model, splits["phase1"] if "phase1" in splits else train)
    pgroups = param_groups(model, a.wd, a.vision_lr_mult, a.proj_lr_mult, a.text_lr_mult)
    if reader is not None:
        pgroups.append({"params": list(reader.parameters()), "weight_decay": 0.0, "lr_mult": a.vision_lr_mult})
    opt = torch.optim.AdamW(pgroups, lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    n_params = sum(p.numel() for p in model.parameters())

    # periodic eval subset: the first images of the held-out set, fast + detail frames, fast + native codes
    imgs = sorted({g["image"] for g in held.groups})[:a.eval_images]
    eval_groups = [g for g in held.groups if g["image"] in imgs and
                   ((g["kind"] == "frame" and g["profile"] in ("fast", "detail")) or
                    (g["kind"] == "code" and g["profile"] in ("fast", "native")))]

    state = {"step": 0, "elapsed": 0.0, "epoch": {k: 0 for k in splits}, "pos": {k: 0 for k in splits},
             "groups_seen": 0, "questions_seen": 0, "last_eval": 0.0}
    ck = os.path.join(ck_dir, "ckpt.pt")
    if a.resume and os.path.exists(ck):
        c = torch.load(ck)
        model.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        state = c["state"]
        random.setstate(c["py_rng"])
        torch.set_rng_state(c["torch_rng"])
        state.setdefault("wall", state["elapsed"])
        print(f"resumed at step {state['step']} ({state['elapsed'] / 60:.1f} min)", flush=True)
    else:
        for f in ("curve.csv", "eval.csv"):
            if os.path.exists(os.path.join(run_dir, f)):
                os.remove(os.path.join(run_dir, f))
    meta = {"args": vars(a), "preset": preset, "vocab_k": len(vocab), "params": n_params,
            "train_groups": len(train.groups), "train_views": sum(g["n_views"] for g in train.groups),
            "train_questions": sum(len(g["lines"]) for g in train.groups), "eval_groups": len(eval_groups),
            "phase1_groups": len(splits["phase1"].groups) if "phase1" in splits else 0,
            "phase1_views": sum(g["n_views"] for g in splits["phase1"].groups) if "phase1" in splits else 0,
            "phase1_questions": sum(len(g["lines"]) for g in splits["phase1"].groups) if "phase1" in splits else 0}
    json.dump(meta, open(os.path.join(run_dir, "meta.json"), "w"), indent=1)
    print(json.dumps(meta), flush=True)

    curve_f = open(os.path.join(run_dir, "curve.csv"), "a", newline="")
    curve = csv.writer(curve_f)
    if state["step"] == 0:
        curve.writerow(["step", "elapsed_s", "lr", "loss", "loss_count", "loss_color", "loss_position",
                        "loss_presence", "loss_code", "views", "questions", "step_s", "split"])
    eval_f = open(os.path.join(run_dir, "eval.csv"), "a", newline="")
    evw = csv.writer(eval_f)
    if state["step"] == 0:
        evw.writerow(["step", "elapsed_s", "profile", "type", "right", "total", "acc"])

    def order(name, epoch):
        r = random.Random(a.seed * 1000 + epoch + (500 if name == "phase1" else 0))
        o = list(range(len(splits[name].groups)))
        r.shuffle(o)
        return o

    perms = {k: order(k, state["epoch"][k]) for k in splits}
    budget = a.budget_min * 60
    t_mark = time.time()
    last_ck = time.time()
    rng = random.Random(a.seed + 17 + state["step"])

    def save():
        tmp = ck + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "vocab": vocab,
                    "preset": preset, "py_rng": random.getstate(), "torch_rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, ck)

    def run_eval():
        t = time.time()
        res, _ = evaluate(model, held, tok, eval_groups)
        for (p, ty), (r, n) in sorted(res.items()):
            evw.writerow([state["step"], round(state["elapsed"]), p, ty, r, n, round(r / n, 4)])
        eval_f.flush()
        bt, bp = summarize(res)
        print(f"EVAL step {state['step']} ({time.time() - t:.0f}s) by type {bt} by profile {bp}", flush=True)

    model.train()
    cpu_mark = time.process_time()
    while True:
        now, cpu = time.time(), time.process_time()
        # the budget clock: wall seconds, or (--clock cpu) this process's CPU seconds per thread, which equals the
        # wall time on an idle machine and does not shrink the training when other work shares the cores
        state["elapsed"] += (cpu - cpu_mark) / a.threads if a.clock == "cpu" else now - t_mark
        state["wall"] = state.get("wall", 0.0) + now - t_mark
        t_mark, cpu_mark = now, cpu
        progress = state["elapsed"] / budget
        if progress >= 1.0 or (a.max_steps and state["step"] >= a.max_steps):
            break
        if state["elapsed"] - state["last_eval"] >= a.eval_every_min * 60 and state["step"] > 0:
            run_eval()
            state["last_eval"] = state["elapsed"]
            continue
        lr = lr_at(progress, state["step"], a)
        for pg in opt.param_groups:
            pg["lr"] = lr * pg["lr_mult"]
        frozen = progress < a.freeze_vision_until
        t0 = time.time()
        name = "phase1" if "phase1" in splits and progress < a.phase1_frac else "main"
        n_groups = a.phase1_groups_per_step if name == "phase1" else a.groups_per_step
        batch = []
        while len(batch) < n_groups:
            if name == "main" and extras and rng.random() < a.extra_frac:
                e = extras[rng.randrange(len(extras))]
                batch.append((e, e.groups[rng.randrange(len(e.groups))]))
                continue
            if state["pos"][name] >= len(perms[name]):
                state["epoch"][name] += 1
                state["pos"][name] = 0
                perms[name] = order(name, state["epoch"][name])
            batch.append((splits[name], splits[name].groups[perms[name][state["pos"][name]]]))
            state["pos"][name] += 1
        all_losses, all_types, weights, sym_losses, read_losses = [], [], [], [], []
        for sp, g in batch:
            losses, types, sl, rl = group_loss(model, sp, g, rng, frozen=frozen, sym=sym, reader=reader)
            if sl is not None:
                sym_losses.append(sl)
            if rl is not None:
                read_losses.append(rl)
            all_losses.append(losses)
            all_types += types
            for ans, ty in zip(g["answer_ids"], g["types"]):
                weights += [type_weight.get(ty, 1.0) / len(ans)] * len(ans)
        losses = torch.cat(all_losses)
        if a.per_question:
            w = torch.tensor(weights)
            loss = (losses * w).sum() / w.sum()
        else:
            loss = losses.mean()
        sym_loss = torch.stack(sym_losses).mean() if sym_losses else None
        read_loss = torch.stack(read_losses).mean() if read_losses else None
        total = loss + a.symbolic_weight * sym_loss if sym_loss is not None else loss
        if read_loss is not None:
            total = total + a.read_weight * read_loss
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():  # the untrained vocabulary stays exactly zero; the <image> row is never read
            if IMAGE_TOKEN in vocab:
                model.embed[vocab.index(IMAGE_TOKEN)] = 0
        state["step"] += 1
        state["groups_seen"] += len(batch)
        q = sum(len(g["lines"]) for _, g in batch)
        state["questions_seen"] += q
        per = {}
        for l, ty in zip(losses.tolist(), all_types):
            per.setdefault(ty, []).append(l)
        dt = time.time() - t0
        curve.writerow([state["step"], round(state["elapsed"], 1), f"{lr:.6f}", f"{loss.item():.4f}"] +
                       [f"{np.mean(per[t]):.4f}" if t in per else "" for t in ("count", "color", "position", "presence", "code")] +
                       [sum(g["n_views"] for _, g in batch), q, round(dt, 2), name + ("+frozen" if frozen else "")])
        if state["step"] % 10 == 0:
            curve_f.flush()
            print(f"step {state['step']} {state['elapsed'] / 60:.1f}min lr {lr:.2e} loss {loss.item():.3f} "
                  + (f"sym {sym_loss.item():.3f} " if sym_loss is not None else "")
                  + (f"read {read_loss.item():.3f} " if read_loss is not None else "") +
                  f"{ {t: round(float(np.mean(v)), 3) for t, v in per.items()} } {dt:.2f}s/step {name} ep {state['epoch'][name]} pos {state['pos'][name]}", flush=True)
        if time.time() - last_ck >= a.ckpt_every_min * 60:
            save()
            last_ck = time.time()
    curve_f.flush()
    save()
    run_eval()
    final = {"model": model.state_dict(), "vocab": vocab, "preset": preset, "state": state}
    if sym is not None:  # what a later phase V run or reading.py starts from
        final.update(sym=init["sym"], spatial_mode=init.get("spatial_mode"))
    if reader is not None:
        final["reading_probe"] = reader.state_dict()
    torch.save(final, os.path.join(ck_dir, "final.pt"))
    print(f"DONE step {state['step']} budget clock {state['elapsed'] / 60:.1f} min, wall {state.get('wall', 0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
