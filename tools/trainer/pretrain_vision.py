"""Phase V0: the vision encoder alone against the symbolic embedding (symbolic.py), no decoder in the loop.

Each cached view of the data.py splits gets its token labels from the scene's ground truth (scenes.jsonl) and the
runtime's view geometry; the loss is the encoder's 64 output tokens against the frozen symbolic embedding of those
labels (mean square error over the target's mean square). Without the decoder a step costs only the encoder, so the
encoder sees many more views per minute than in phase V, where the answer loss joins.

  /usr/bin/python3 tools/trainer/pretrain_vision.py --init /tmp/vlm/ckpt/symS.pt --out /tmp/vlm/ckpt/vision.pt \\
      --splits /tmp/vlm/trainfast /tmp/vlm/train --budget-min 20
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families  # noqa: E402
from pixels import to_pixels  # noqa: E402
from symbolic import load_symbolic, view_targets  # noqa: E402
from train import Split  # noqa: E402


def vision_of_weights(model, folder):
    """The visual path of a compact weights folder (weights.json + weights.bin, docs/demo-model.md) as `model`'s
    state-dict entries, read by the model's own name table (the one export.py writes by). Weights of another family
    give what the two share: a smolvlm encoder gives a llava-uhd model its ViT layers, position table (both 32 x 32)
    and post norm, and its patch embedding resized to the model's patch (scaled by the area ratio, so a smooth image
    gives the same response); what the source lacks (the resampler, a window merge) keeps its initial values."""
    from export import read_weights
    from model import state_from_onnx
    dense = {k: torch.from_numpy(v) for k, v in read_weights(folder)[1].items()}
    own = model.state_dict()
    vision = [(o, k) for o, k, _ in model.onnx_names() if k.startswith("vision.")]
    if all(o in dense for o, _ in vision):
        return {k: v for k, v in state_from_onnx(model, dense).items() if k.startswith("vision.")}
    out, kept = {}, []
    for name, key in vision:
        if name not in dense:
            kept.append(name)
            continue
        w = dense[name]
        if name == "embeddings.patch_embedding.weight" and w.shape != own[key].shape:
            w = torch.nn.functional.interpolate(w, size=tuple(own[key].shape[-2:]), mode="bilinear", align_corners=False)
            w = w * (dense[name].shape[-1] / own[key].shape[-1]) ** 2
        assert w.shape == own[key].shape, (name, tuple(w.shape), tuple(own[key].shape))
        out[key] = w
    print(f"vision from {folder}: {len(out)} tensors; kept at their initial values: {', '.join(kept)}", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True, help="phase S checkpoint (decoder, vocabulary, symbolic embedding)")
    ap.add_argument("--vision-from", default="",
                    help="a checkpoint, or a compact weights folder (weights.json), whose vision encoder to start from (else fresh)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--splits", nargs="+", required=True)
    ap.add_argument("--budget-min", type=float, default=20)
    ap.add_argument("--views-per-step", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    init = torch.load(a.init)
    fam = families.of_preset(init["preset"])
    model = fam.model(init["preset"], init["vocab"])
    model.load_state_dict(init["model"])
    if a.vision_from:
        src = vision_of_weights(model, a.vision_from) if os.path.isdir(a.vision_from) else torch.load(a.vision_from)["model"]
        bad = model.load_state_dict({k: v for k, v in src.items() if k.startswith("vision.")}, strict=False).unexpected_keys
        assert not bad, bad
    sym = load_symbolic(init)
    splits = [Split(s) for s in a.splits]
    assert all(sp.family.name == fam.name for sp in splits), "the data splits are of another family than the model"
    # every (split, group, view) with its labels computed on demand
    items = []
    for si, sp in enumerate(splits):
        for gi, g in enumerate(sp.groups):
            for v in range(g["n_views"]):
                items.append((si, gi, v))
    print(f"{len(items)} views in {len(splits)} splits", flush=True)
    params = list(model.vision.parameters())
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=0.01)
    rng = random.Random(a.seed)
    label_cache = {}

    def labels(si, gi):
        if (si, gi) not in label_cache:
            sp = splits[si]
            label_cache[(si, gi)] = view_targets(sym, sp.truth[sp.groups[gi]["image"]], sp.groups[gi], fam)
        return label_cache[(si, gi)]

    t0 = time.time()
    step = 0
    budget = a.budget_min * 60
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        lr = a.lr * min(1.0, (step + 1) / 20) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        batch = [items[rng.randrange(len(items))] for _ in range(a.views_per_step)]
        views = families.stack_or_list([splits[si].view(splits[si].groups[gi], v) for si, gi, v in batch])
        target = torch.stack([labels(si, gi)[v] for si, gi, v in batch])
        out = model.vision(to_pixels(views) if isinstance(views, np.ndarray) else [to_pixels(np.ascontiguousarray(v)) for v in views])
        loss = ((out - target) ** 2).mean() / (target ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 20 == 0:
            print(f"V0 step {step} {(time.time() - t0) / 60:.1f}min lr {lr:.2e} sym {loss.item():.3f}", flush=True)
        if step % 200 == 0:
            torch.save({"model": model.state_dict(), "sym": init["sym"], "vocab": init["vocab"], "preset": init["preset"],
                        "state": init["state"], "spatial_mode": init.get("spatial_mode")}, a.out + ".tmp")
            os.replace(a.out + ".tmp", a.out)
    torch.save({"model": model.state_dict(), "sym": init["sym"], "vocab": init["vocab"], "preset": init["preset"],
                "state": init["state"], "vision_steps": step, "spatial_mode": init.get("spatial_mode")}, a.out)
    print(f"V0 DONE {step} steps, {step * a.views_per_step} views, {(time.time() - t0) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
