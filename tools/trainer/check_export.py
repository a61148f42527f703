"""Round trip: rebuild the model from weights.json/bin alone (dense, full vocabulary, ONNX names as the C# builder
reads them) and recompute every golden of tests/TestData/golden/demo-smolvlm: features, logits, greedy ids."""
import json, os, sys
import numpy as np
import torch
from PIL import Image
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VLM
from pixels import views_of, to_pixels
from export import read_weights, REPO
import graphcheck
import train as T

torch.set_num_threads(2)
doc, dense = read_weights(os.path.join(REPO, "models-quantized", "demo-smolvlm"))
m = VLM(doc["preset"], list(range(doc["preset"]["vocab_size"])))
graphcheck.load(m, {k: torch.from_numpy(v) for k, v in dense.items()})
m.eval()
tok = T.Tok("/tmp/tiny/tokenizer.json")
gold = os.path.join(REPO, "tests", "TestData", "golden", "demo-smolvlm")
worst_f = worst_l = 0.0
same = 0
recs = [json.loads(l) for l in open(os.path.join(gold, "parity.jsonl"))]
for r in recs:
    views, _, _ = views_of(Image.open(os.path.join(gold, r["image"])).convert("RGB"), 512)
    with torch.no_grad():
        f = m.vision(to_pixels(views))
        x = m.merge(torch.tensor(r["input_ids"]), f.reshape(-1, f.shape[-1]))[None]
        logits = m.full_logits(m.forward_full(x)[0, -1])
        gen, s = [], x
        for _ in range(8):
            fl = m.full_logits(m.forward_full(s)[0, -1])
            fl[torch.tensor(tok.banned)] = -float("inf")
            t = int(torch.argmax(fl))
            gen.append(t)
            if t in T.STOP_IDS:
                break
            s = torch.cat((s, m.embed_ids(torch.tensor([t]))[None]), 1)
    ref_f = np.fromfile(os.path.join(gold, r["image_features_file"]), dtype="<f4").reshape(1, 64, -1)
    ref_l = np.fromfile(os.path.join(gold, r["logits_file"]), dtype="<f4")
    worst_f = max(worst_f, float(np.abs(ref_f - f.numpy()).max()))
    worst_l = max(worst_l, float(np.abs(ref_l - logits.numpy()).max()))
    same += gen == r["greedy_ids"]
    print(r["image"], "greedy", gen, r["greedy_ids"], "top logit", float(ref_l.max()), "at", int(ref_l.argmax()))
print(f"EXPORT ROUND TRIP: features max abs diff {worst_f:.3g}, logits max abs diff {worst_l:.3g}, greedy {same}/{len(recs)} identical")
