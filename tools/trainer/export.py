"""Export: weights.json + weights.bin (float16, ONNX initializer names and layouts, compact vocabulary tables) and
the parity goldens (tests/TestData/golden/demo-smolvlm/) from the fp16-rounded model.

  /usr/bin/python3 tools/trainer/export.py --ckpt /tmp/vlm/ckpt/demo/final.pt --run tools/trainer/runs/demo
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families  # noqa: E402
from pixels import to_pixels  # noqa: E402
import train as T  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLI = ["dotnet", os.environ.get("LLAVA_CLI", "/tmp/llava-cli/llava-edge.dll")]
PRESET_KEYS = ["vision_hidden", "vision_layers", "vision_heads", "vision_mlp", "image_size", "patch_size", "scale_factor",
               "text_hidden", "text_layers", "text_heads", "kv_heads", "head_dim", "text_mlp", "vocab_size", "rope_theta"]
FAMILY_KEYS = ["family", "queries", "scale_resolution", "max_slices",  # the MiniCPM-V-style families (docs/llava-uhd.md)
               "merge_layer", "merge_window"]  # llava-uhd with progressive compression


def onnx_tensors(model):
    """(name, stored array float32, sparse or None) of every exported tensor, by the model's one name table
    (model.onnx_names); a sparse tensor stores only the model's vocabulary ids along its axis."""
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    ids = list(model.vocab_ids)
    return [(name, sd[key], None if axis is None else {"axis": axis, "ids": ids}) for name, key, axis in model.onnx_names()]


def full_shape(name, arr, sparse, vocab):
    shape = list(arr.shape)
    if sparse is not None:
        shape[sparse["axis"]] = vocab
    return shape


def write_weights(model, out_dir, training):
    os.makedirs(out_dir, exist_ok=True)
    tensors, blob, off = [], bytearray(), 0
    for name, arr, sparse in onnx_tensors(model):
        h = np.ascontiguousarray(arr.astype("<f2"))
        entry = {"name": name, "shape": full_shape(name, arr, sparse, model.p["vocab_size"]), "dtype": "float16",
                 "offset": off, "length": int(h.size)}
        if sparse is not None:
            entry["sparse"] = sparse
        tensors.append(entry)
        blob += h.tobytes()
        off += h.nbytes
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        f.write(blob)
    sha = hashlib.sha256(bytes(blob)).hexdigest()
    with open(os.path.join(out_dir, "weights.sha256"), "w") as f:
        f.write(sha + "\n")
    preset = {k: model.p[k] for k in PRESET_KEYS + FAMILY_KEYS if k in model.p}
    doc = {"format": 1, "preset": preset, "tensors": tensors, "training": training}
    with open(os.path.join(out_dir, "weights.json"), "w") as f:
        json.dump(doc, f, indent=1)
    return len(blob), sha


def read_weights(out_dir):
    """Dense float32 arrays from weights.json/bin (the C# TrainedWeights logic), for a round-trip check."""
    doc = json.load(open(os.path.join(out_dir, "weights.json")))
    blob = open(os.path.join(out_dir, "weights.bin"), "rb").read()
    res = {}
    for t in doc["tensors"]:
        v = np.frombuffer(blob, dtype="<f2", count=t["length"], offset=t["offset"]).astype(np.float32)
        full = np.zeros(t["shape"], dtype=np.float32)
        if "sparse" in t:
            ids = t["sparse"]["ids"]
            if t["sparse"]["axis"] == 0:
                full[ids, :] = v.reshape(len(ids), t["shape"][1])
            else:
                full[:, ids] = v.reshape(t["shape"][0], len(ids))
        else:
            full[...] = v.reshape(t["shape"])
        res[t["name"]] = full
    return doc, res


def goldens(model, tok, gold_dir, work, n=4, tok_model="/tmp/tiny"):
    """4 held-out samples of seed 7 at 1280x720, fast profile (one view each), from the fp16-rounded model;
    `tok_model` is a package of the model's family (its prompt layout)."""
    fam = families.of_preset(model.p)
    os.makedirs(gold_dir, exist_ok=True)
    ds = os.path.join(work, "golden-ds")
    if not os.path.exists(os.path.join(ds, "dataset.jsonl")):
        subprocess.run(CLI + ["sample", "--dataset", ds, "--count", "8", "--seed", "7", "--size", "1280x720"],
                       check=True, stdout=subprocess.DEVNULL)
    dump = subprocess.run(CLI + ["prompt", "--dataset", os.path.join(ds, "dataset.jsonl"), "--model", tok_model,
                                 "--profile", "fast"], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in dump.splitlines()]
    lines = [json.loads(l) for l in open(os.path.join(ds, "dataset.jsonl"))]
    # one question per image, types in turn: count, color, position, presence
    want, picked, used = ["count", "color", "position", "presence"], [], set()
    for ty in want:
        for r, l in zip(rows, lines):
            if l["type"] == ty and l["image"] not in used and l.get("roi") is None:
                picked.append((r, l))
                used.add(l["image"])
                break
    assert len(picked) == n
    out = []
    for r, l in picked:
        src = os.path.join(ds, l["image"])
        name = os.path.splitext(os.path.basename(l["image"]))[0]
        shutil.copy(src, os.path.join(gold_dir, name + ".png"))
        img = Image.open(src).convert("RGB")
        views = fam.views(img, {"image": name, "profile": "fast", **fam.plan(img.size[0], img.size[1], "fast", None)})
        assert len(views) == r["views"] == 1
        with torch.no_grad():
            feats = model.vision(to_pixels(np.stack(views)))  # [1,T,H]
            ids = torch.tensor(r["input_ids"])
            x = model.merge(ids, feats.reshape(-1, feats.shape[-1]))[None]
            h = model.forward_full(x)[0, -1]
            logits = model.full_logits(h)
            banned = torch.tensor(tok.banned)
            gen, s = [], x
            for _ in range(8):
                hh = model.forward_full(s)[0, -1]
                fl = model.full_logits(hh)
                raw_arg = int(torch.argmax(fl))
                fl[banned] = -float("inf")
                t = int(torch.argmax(fl))
                assert raw_arg == t, "a banned token would win: the golden depends on the ban rule"
                gen.append(t)
                if t in T.STOP_IDS:
                    break
                s = torch.cat((s, model.embed_ids(torch.tensor([t]))[None]), 1)
        feats.numpy().astype("<f4").tofile(os.path.join(gold_dir, name + ".f32"))
        logits.numpy().astype("<f4").tofile(os.path.join(gold_dir, name + "-logits.f32"))
        rec = {"image": name + ".png", "question": l["question"], "answer": l["answer"], "type": l["type"],
               "profile": "fast", "input_ids": r["input_ids"], "image_features_file": name + ".f32",
               "logits_file": name + "-logits.f32", "greedy_ids": gen, "greedy_text": tok.decode(gen)}
        out.append(rec)
        print("golden", name, l["type"], repr(l["question"]), "->", repr(rec["greedy_text"]), "expected", l["answer"], gen)
    with open(os.path.join(gold_dir, "parity.jsonl"), "w") as f:
        for rec in out:
            f.write(json.dumps(rec) + "\n")


def training_summary(run, ckpt):
    """The "training" object of weights.json: seeds, data, steps, time, final losses, held-out accuracy."""
    import csv
    meta = json.load(open(os.path.join(run, "meta.json")))
    rows = list(csv.DictReader(open(os.path.join(run, "curve.csv"))))
    last = rows[-100:]
    final = {}
    for t in ("count", "color", "position", "presence", "code"):
        v = [float(r["loss_" + t]) for r in last if r["loss_" + t]]
        final[t] = round(sum(v) / len(v), 4) if v else None
    st = ckpt.get("state", {})
    out = {
        "trainer": "tools/trainer/train.py (see tools/trainer/README.md)",
        "seed": meta["args"]["seed"], "train_data_seeds": {"phase1": 1001, "main": 1000}, "heldout_seed": 7,
        "trainer_phase_v": "tools/trainer/train.py",
        "args": meta["args"], "params": meta["params"], "vocab_rows": meta["vocab_k"],
        "data": {k: meta[k] for k in ("phase1_groups", "phase1_views", "phase1_questions", "train_groups",
                                      "train_views", "train_questions")},
        "steps": int(rows[-1]["step"]), "groups_seen": st.get("groups_seen"), "questions_seen": st.get("questions_seen"),
        "budget_clock_min": round(float(rows[-1]["elapsed_s"]) / 60, 1),
        "final_loss_per_token_last100": final, "final_loss_mean_last100": round(sum(float(r["loss"]) for r in last) / len(last), 4),
    }
    if meta["args"].get("init"):  # phase S (symbolic.py) before this run
        init = torch.load(meta["args"]["init"])
        s0 = init["state"]
        out["phase_s"] = {"trainer": "tools/trainer/symbolic.py", "steps": s0["step"], "minutes": round(s0["elapsed"] / 60, 1)}
        if "vision_steps" in init:
            out["phase_v0"] = {"trainer": "tools/trainer/pretrain_vision.py", "steps": init["vision_steps"]}
    for f in ("final_eval.json", "timing.json"):
        if os.path.exists(os.path.join(run, f)):
            out[f[:-5]] = json.load(open(os.path.join(run, f)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--run", required=True, help="tools/trainer/runs/<name> (meta.json, curve, final eval)")
    ap.add_argument("--out", default=os.path.join(REPO, "models-quantized", "demo-smolvlm"))
    ap.add_argument("--golden", default=os.path.join(REPO, "tests", "TestData", "golden", "demo-smolvlm"))
    ap.add_argument("--work", default="/tmp/vlm")
    ap.add_argument("--tokenizer", default="/tmp/tiny/tokenizer.json")
    ap.add_argument("--tok-model", default="/tmp/tiny", help="a package of the model's family, for the goldens' prompts")
    a = ap.parse_args()
    torch.set_num_threads(2)
    c = torch.load(a.ckpt)
    model = families.of_preset(c["preset"]).model(c["preset"], c["vocab"])
    model.load_state_dict(c["model"])
    with torch.no_grad():  # the export precision
        for p in model.parameters():
            p.copy_(p.half().float())
    model.eval()
    training = training_summary(a.run, c)
    size, sha = write_weights(model, a.out, training)
    doc, dense = read_weights(a.out)
    # round trip: every dense tensor equals the fp16-rounded model's
    for name, arr, sparse in onnx_tensors(model):
        full = dense[name]
        if sparse is None:
            assert np.array_equal(full, arr), name
        elif sparse["axis"] == 0:
            assert np.array_equal(full[sparse["ids"]], arr) and np.count_nonzero(full) == np.count_nonzero(arr), name
        else:
            assert np.array_equal(full[:, sparse["ids"]], arr) and np.count_nonzero(full) == np.count_nonzero(arr), name
    print(f"weights.bin {size} bytes sha256 {sha}; {len(doc['tensors'])} tensors; vocab rows {len(model.vocab_ids)}")
    goldens(model, T.Tok(a.tokenizer), a.golden, a.work, tok_model=a.tok_model)


if __name__ == "__main__":
    main()
