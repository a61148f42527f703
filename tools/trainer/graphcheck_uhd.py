"""Structural parity of model_uhd.py with the C# MiniCPM-V-family graphs: load a generated package's ONNX initializers
(e.g. tiny-minicpmv, random weights, the same ModelGraphs code a trained LLaVA-UHD-style package is built with) into
the PyTorch model, run the runtime's own views (`llava-edge preprocess`, the package's slicing settings) and prompt ids
(`llava-edge prompt --json`), and compare the visual tokens with the runtime's (an fp32 token packet of `tokens
encode`), then greedy ids with the runtime's `ask --json`.

  /usr/bin/python3 tools/trainer/graphcheck_uhd.py /tmp/tinym IMAGE...
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_uhd import UhdVLM, onnx_state  # noqa: E402

CLI = ["dotnet", os.environ.get("LLAVA_CLI", "/tmp/llava-cli/llava-edge.dll")]


def preset_of(pkg):
    cfg = json.load(open(f"{pkg}/config.json"))
    vc, sc = cfg["vision_config"], cfg["slice_config"]
    return {"family": cfg["model_type"], "vision_hidden": vc["hidden_size"], "vision_layers": vc["num_hidden_layers"], "vision_heads": vc["num_attention_heads"],
            "vision_mlp": vc["intermediate_size"], "image_size": vc["image_size"], "patch_size": vc["patch_size"],
            "queries": cfg["query_num"], "scale_resolution": sc["scale_resolution"], "max_slices": sc["max_slice_nums"],
            "text_hidden": cfg["hidden_size"], "text_layers": cfg["num_hidden_layers"], "text_heads": cfg["num_attention_heads"],
            "kv_heads": cfg["num_key_value_heads"], "head_dim": cfg["head_dim"], "text_mlp": cfg["intermediate_size"],
            "vocab_size": cfg["vocab_size"], "rope_theta": cfg["rope_theta"],
            "merge_layer": vc.get("merge_layer", 0), "merge_window": vc.get("merge_window", 2)}


def runtime_views(img, p):
    """The runtime's views for the package's slicing settings, in plan order (the overview first)."""
    out = tempfile.mkdtemp(prefix="uhd-views-")
    subprocess.run(CLI + ["preprocess", img, "--scheme", "minicpmv", "--max-slices", str(p["max_slices"]),
                          "--scale-resolution", str(p["scale_resolution"]), "--patch-size", str(p["patch_size"]),
                          "--tokens-per-view", str(p["queries"]), "--out", out], check=True, capture_output=True)
    meta = json.load(open(f"{out}/views.json"))
    return [np.load(f"{out}/{v['file']}") for v in meta["views"]]


def runtime_features(img, pkg, tokens, width):
    """The runtime's visual tokens of the image at `detail` (an fp32 token packet without Brotli: the payload, the
    [tokens, width] float32 block, sits after its u32 stored length and before the 4-byte CRC;
    Core/Tokens/TokenPacketCodec.cs). None when the packet holds another number of tokens."""
    out = tempfile.mktemp(suffix=".lutk")
    subprocess.run(CLI + ["tokens", "encode", img, "--model", pkg, "--dtype", "fp32", "--profile", "detail", "--out", out],
                   check=True, capture_output=True)
    data = open(out, "rb").read()
    os.remove(out)
    raw = tokens * width * 4
    if int.from_bytes(data[-8 - raw:-4 - raw], "little") != raw:
        return None
    return torch.from_numpy(np.frombuffer(data[-4 - raw:-4], dtype=np.float32).copy()).reshape(tokens, width)


def main():
    pkg = sys.argv[1]
    imgs = sys.argv[2:]
    torch.set_num_threads(2)
    W = {}
    for f in ("vision_encoder", "resampler", "decoder_model_merged", "embed_tokens"):
        for i in onnx.load(f"{pkg}/onnx/{f}.onnx").graph.initializer:
            W[i.name] = torch.from_numpy(numpy_helper.to_array(i).copy())
    p = preset_of(pkg)
    tokj = json.load(open(f"{pkg}/tokenizer.json"))
    added = {a["content"]: a["id"] for a in tokj["added_tokens"]}
    tokens = json.load(open(f"{pkg}/model.json"))["tokens"]  # what the importer resolved for the family
    image_token = tokens["imageTokenId"]
    cfg = json.load(open(f"{pkg}/config.json"))
    stops = set(tokens["eosTokenIds"])
    known = set(tokj["model"]["vocab"].values()) | set(added.values())
    # the runtime never generates added tokens other than the stops, nor ids the tokenizer has no token for
    banned = torch.tensor(sorted({i for i in added.values() if i not in stops} | (set(range(cfg["vocab_size"])) - known)))
    m = UhdVLM(p, list(range(p["vocab_size"])), image_token=image_token)
    m.load_state_dict(onnx_state(m, W), strict=True)
    m.eval()
    ok = total = 0
    worst = 0.0
    for img in imgs:
        views = runtime_views(img, p)
        with torch.no_grad():
            feats = torch.cat([m.vision(torch.from_numpy(v)[None]) for v in views]).reshape(-1, p["text_hidden"])
        ref = runtime_features(img, pkg, feats.shape[0], p["text_hidden"])
        diff = float("inf") if ref is None else float((feats - ref).abs().max())
        worst = max(worst, diff)
        print(os.path.basename(img), f"{len(views)} views, {feats.shape[0]} visual tokens, max |diff| against the runtime's {diff:.2e}", flush=True)
        for q in ("How many parcels are there?", "What color is the parcel on the left?"):
            r = json.loads(subprocess.run(CLI + ["ask", img, q, "--model", pkg, "--json", "--max-new-tokens", "6"],
                                          check=True, capture_output=True, text=True).stdout)
            pj = json.loads(subprocess.run(CLI + ["prompt", img, q, "--model", pkg, "--json"],
                                           check=True, capture_output=True, text=True).stdout)
            with torch.no_grad():
                s = m.merge(torch.tensor(pj["input_ids"]), feats)[None]
                gen = []
                for _ in range(6):
                    full = m.full_logits(m.forward_full(s)[0, -1])
                    full[banned] = -float("inf")
                    t = int(torch.argmax(full))
                    gen.append(t)
                    if t in stops:
                        break
                    s = torch.cat((s, m.embed_ids(torch.tensor([t]))[None]), 1)
            same = [t for t in gen if t not in stops] == r["token_ids"]  # the runtime reports ids without the stop
            ok += same
            total += 1
            print(os.path.basename(img), f"views={len(views)}", "runtime", r["token_ids"], "torch", gen, "SAME" if same else "DIFF", flush=True)
    print(f"GRAPHCHECK-UHD visual tokens max |diff| {worst:.2e}; {ok}/{total} identical greedy sequences"
          " (on random weights over 49 280 tokens a near-tie of logits can decide a sequence)")


if __name__ == "__main__":
    main()
