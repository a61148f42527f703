"""Held-out accuracy (seed 7) per profile and type of a checkpoint, weights rounded to float16 as exported.

  /usr/bin/python3 tools/trainer/evalfinal.py --ckpt /tmp/vlm/ckpt/demo/final.pt --eval /tmp/vlm/heldout --run tools/trainer/runs/demo
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VLM  # noqa: E402
import train as T  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--tokenizer", default="/tmp/tiny/tokenizer.json")
    ap.add_argument("--images", type=int, default=0, help="first N held-out images (0 = all)")
    ap.add_argument("--no-fp16", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(2)
    c = torch.load(a.ckpt)
    model = VLM(c["preset"], c["vocab"])
    model.load_state_dict(c["model"])
    if not a.no_fp16:
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.half().float())
    held = T.Split(a.eval)
    imgs = sorted({g["image"] for g in held.groups})
    if a.images:
        imgs = imgs[:a.images]
    groups = [g for g in held.groups if g["image"] in set(imgs)]
    t = time.time()
    res, preds = T.evaluate(model, held, T.Tok(a.tokenizer), groups)
    by_type, by_prof = T.summarize(res)
    table = {p: {} for p in ("fast", "balanced", "detail", "native")}
    for (p, ty), (r, n) in sorted(res.items()):
        table[p][ty] = {"right": r, "total": n, "acc": round(r / n, 4)}
    for p in table:
        r = sum(v["right"] for v in table[p].values())
        n = sum(v["total"] for v in table[p].values())
        table[p]["all"] = {"right": r, "total": n, "acc": round(r / n, 4) if n else None}
    out = {"images": len(imgs), "seconds": round(time.time() - t), "fp16": not a.no_fp16, "by_profile_type": table,
           "by_type_all_profiles": by_type, "by_profile": by_prof}
    json.dump(out, open(os.path.join(a.run, "final_eval.json"), "w"), indent=1)
    with open(os.path.join(a.run, "final_predictions.jsonl"), "w") as f:
        for p in preds:
            f.write(json.dumps(p) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
