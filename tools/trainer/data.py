"""Data: parcel scenes from the C# CLI (`sample --dataset`), prompt/answer ids from the runtime's own prompt
builder (`prompt --dataset`), and a cache of the uint8 views of every (image, region, profile) group.

A group is what one encoder pass serves: the frame questions (count/color/position/presence) of an image at one
profile, or the code question on its roi crop at one profile. Views are cached in one uint8 memmap
[total_views,512,512,3]; groups.pkl holds the index and the token ids."""
import argparse
import json
import math
import os
import pickle
import random
import subprocess
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pixels import views_of, region_of, profile_edge, clip_roi, geometry  # noqa: E402

CLI = ["dotnet", os.environ.get("LLAVA_CLI", "/tmp/llava-cli/llava-edge.dll")]
PROFILES = ["fast", "balanced", "detail", "native"]


def generate(out, count, seed, tok_model, profiles=PROFILES):
    if not os.path.exists(f"{out}/dataset.jsonl"):
        subprocess.run(CLI + ["sample", "--dataset", out, "--count", str(count), "--seed", str(seed), "--roi"],
                       check=True, stdout=subprocess.DEVNULL)
    os.makedirs(f"{out}/dumps", exist_ok=True)
    for p in profiles:
        f = f"{out}/dumps/{p}.jsonl"
        if not os.path.exists(f):
            with open(f + ".tmp", "w") as fh:
                subprocess.run(CLI + ["prompt", "--dataset", f"{out}/dataset.jsonl", "--model", tok_model, "--profile", p],
                               check=True, stdout=fh)
            os.rename(f + ".tmp", f)


def load_lines(out, profiles=PROFILES):
    lines = [json.loads(l) for l in open(f"{out}/dataset.jsonl")]
    dumps = {}
    for p in profiles:
        dumps[p] = [json.loads(l) for l in open(f"{out}/dumps/{p}.jsonl")]
        assert len(dumps[p]) == len(lines)
    return lines, dumps


IMAGE, FAKE, GLOBAL, NL, NLNL = 49190, 49189, 49152, 198, 1116


def image_block(rows, cols, per_view=64):
    """The prompt's image part for a rows x cols grid (docs/smolvlm.md section 5)."""
    out = []
    if rows == 0:
        return [FAKE, GLOBAL] + [IMAGE] * per_view + [FAKE]
    for r in range(rows):
        for c in range(cols):
            out += [FAKE, 49153 + r * 6 + c] + [IMAGE] * per_view
        out.append(NLNL if r == rows - 1 else NL)
    return out + [FAKE, GLOBAL] + [IMAGE] * per_view + [FAKE]


def fix_ids(ids, rows, cols):
    """Replace the image block of a dumped prompt with the one for rows x cols (asserting the layout)."""
    a = ids.index(FAKE)
    b = len(ids) - 1 - ids[::-1].index(FAKE)
    return ids[:a] + image_block(rows, cols) + ids[b + 1:]


FIXES = {"checked": 0, "clipped": 0, "rebuilt": 0}


def plan_groups(lines, dumps, assign, root):
    """assign(image_index, kind) -> list of profiles. Returns groups (without view offsets)."""
    by_image = {}
    for i, l in enumerate(lines):
        by_image.setdefault(l["image"], []).append(i)
    groups = []
    for n, (image, idx) in enumerate(by_image.items()):
        frame = [i for i in idx if lines[i].get("roi") is None]
        code = [i for i in idx if lines[i].get("roi") is not None]
        for kind, members in (("frame", frame), ("code", code)):
            if not members:
                continue
            # code lines of an image (one per image) each form their own group (own roi)
            sets = [members] if kind == "frame" else [[m] for m in members]
            for ms in sets:
                roi = lines[ms[0]].get("roi")
                if roi is not None:
                    # the eval verb clips a region that reaches past the frame; `prompt --dataset` does not:
                    # views and the prompt's grid follow the clipped region here (what eval will feed)
                    W, H = Image.open(os.path.join(root, image)).size
                    croi = list(clip_roi(roi, W, H))
                    FIXES["clipped"] += croi != roi
                    roi = croi
                for p in assign(n, kind):
                    d0 = dumps[p][ms[0]]
                    rw, rh = (roi[2], roi[3]) if roi is not None else Image.open(os.path.join(root, image)).size
                    edge = profile_edge(p, roi)
                    rows, cols, nv = geometry(rw, rh, edge)
                    ids = []
                    for m in ms:
                        built = fix_ids(dumps[p][m]["input_ids"], rows, cols)
                        if (rows, cols, nv, edge) == (d0["rows"], d0["cols"], d0["views"], d0["longest_edge"]):
                            assert built == dumps[p][m]["input_ids"], (image, p, "prompt builder differs from the dump")
                            FIXES["checked"] += 1
                        else:
                            FIXES["rebuilt"] += 1
                        ids.append(built)
                    groups.append({
                        "image": image, "roi": roi, "profile": p, "kind": kind,
                        "n_views": nv, "rows": rows, "cols": cols, "edge": edge,
                        "lines": ms,
                        "types": [lines[m]["type"] for m in ms],
                        "answers": [lines[m]["answer"] for m in ms],
                        "questions": [lines[m]["question"] for m in ms],
                        "input_ids": ids,
                        "answer_ids": [dumps[p][m]["answer_ids"] for m in ms],
                    })
    return groups


def _views_job(args):
    root, g = args
    img = Image.open(os.path.join(root, g["image"])).convert("RGB")
    views, rows, cols = views_of(region_of(img, g["roi"]), profile_edge(g["profile"], g["roi"]))
    assert (len(views), rows, cols) == (g["n_views"], g["rows"], g["cols"]), (g["image"], g["profile"], len(views), rows, cols, g["n_views"])
    return views


def build_cache(root, groups, cache, procs=2):
    total = sum(g["n_views"] for g in groups)
    off = 0
    for g in groups:
        g["offset"] = off
        off += g["n_views"]
    mm = np.lib.format.open_memmap(cache + ".tmp.npy", mode="w+", dtype=np.uint8, shape=(total, 512, 512, 3))
    t = time.time()
    with Pool(procs) as pool:
        for k, (g, v) in enumerate(zip(groups, pool.imap(_views_job, [(root, g) for g in groups], chunksize=4))):
            mm[g["offset"]:g["offset"] + g["n_views"]] = v
            if k % 200 == 0:
                print(f"  cache {k}/{len(groups)} groups {time.time() - t:.0f}s", flush=True)
    mm.flush()
    del mm
    os.rename(cache + ".tmp.npy", cache)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--tok-model", default="/tmp/tiny")
    ap.add_argument("--split", choices=["train", "eval", "fast", "code"], default="train")
    ap.add_argument("--mix-seed", type=int, default=0)
    ap.add_argument("--procs", type=int, default=2)
    a = ap.parse_args()
    if a.split != "eval":
        assert a.seed >= 1000 and a.seed != 7, "training seeds are >= 1000; seed 7 is the held-out set"
    t0 = time.time()
    profiles = {"fast": ["fast"], "code": ["native"]}.get(a.split, PROFILES)
    generate(a.out, a.count, a.seed, a.tok_model, profiles)
    print(f"generated + dumped in {time.time() - t0:.0f}s", flush=True)
    lines, dumps = load_lines(a.out, profiles)
    rng = random.Random(a.mix_seed * 7919 + a.seed)
    if a.split == "train":
        # frame questions: mostly detail (the default), then fast and balanced; code: mostly native roi crops
        def assign(n, kind):
            r = rng.random()
            if kind == "frame":
                return ["detail" if r < 0.45 else "balanced" if r < 0.70 else "fast"]
            return ["native" if r < 0.55 else "fast" if r < 0.70 else "balanced" if r < 0.88 else "detail"]
    elif a.split == "fast":
        def assign(n, kind):  # the cheap one-view set (curriculum phase 1): every question at the fast profile
            return ["fast"]
    elif a.split == "code":
        def assign(n, kind):  # the code questions on their native regions only (the reading curriculum)
            return ["native"] if kind == "code" else []
    else:
        def assign(n, kind):  # every profile; frame lines at native are the detail views (no roi)
            return ["fast", "balanced", "detail", "native"] if kind == "code" else ["fast", "balanced", "detail"]
    groups = plan_groups(lines, dumps, assign, a.out)
    print(f"prompt ids: {FIXES}", flush=True)
    total = build_cache(a.out, groups, f"{a.out}/views.npy", a.procs)
    with open(f"{a.out}/groups.pkl", "wb") as fh:
        pickle.dump(groups, fh)
    print(f"{len(lines)} lines, {len(groups)} groups, {total} views, {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
