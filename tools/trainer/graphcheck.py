"""Structural parity with the C# graphs: load a generated package's ONNX initializers (e.g. tiny-smolvlm, random
weights, same ModelGraphs code as demo-smolvlm) into this PyTorch model, and compare greedy ids with the runtime's
`ask --json` for a few images, questions and profiles."""
import json, os, subprocess, sys
import numpy as np
import onnx
from onnx import numpy_helper
import torch
from PIL import Image
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VLM, state_from_onnx
from pixels import views_of, to_pixels, PROFILE_EDGE
import train as T

CLI = ["dotnet", "/tmp/llava-cli/llava-edge.dll"]
pkg = sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny"
imgs = sys.argv[2:] or ["/tmp/vlm/pixcheck/img-1280x720.png", "/tmp/vlm/pixcheck/img-1080x1920.png"]
torch.set_num_threads(2)
W = {}
for f in ("vision_encoder", "decoder_model_merged", "embed_tokens"):
    for i in onnx.load(f"{pkg}/onnx/{f}.onnx").graph.initializer:
        W[i.name] = torch.from_numpy(numpy_helper.to_array(i).copy())
cfg = json.load(open(f"{pkg}/config.json"))
vc, tc = cfg["vision_config"], cfg["text_config"]
preset = {"vision_hidden": vc["hidden_size"], "vision_layers": vc["num_hidden_layers"], "vision_heads": vc["num_attention_heads"],
          "vision_mlp": vc["intermediate_size"], "image_size": 512, "patch_size": 16, "scale_factor": cfg["scale_factor"],
          "text_hidden": tc["hidden_size"], "text_layers": tc["num_hidden_layers"], "text_heads": tc["num_attention_heads"],
          "kv_heads": tc["num_key_value_heads"], "head_dim": tc["head_dim"], "text_mlp": tc["intermediate_size"],
          "vocab_size": 49280, "rope_theta": tc["rope_theta"]}
m = VLM(preset, list(range(49280)))


def load(model, W):
    model.load_state_dict(state_from_onnx(model, W), strict=True)


if __name__ == "__main__":
    load(m, W)
    m.eval()
    tok = T.Tok(f"{pkg}/tokenizer.json")
    ok = total = 0
    for img in imgs:
        for prof in os.environ.get("PROFILES", "fast,balanced,detail").split(","):
            for q in ("How many parcels are there?", "What code is printed on the red box?"):
                r = json.loads(subprocess.run(CLI + ["ask", img, q, "--model", pkg, "--profile", prof, "--json", "--max-new-tokens", "6"],
                                              check=True, capture_output=True, text=True).stdout)
                pj = json.loads(subprocess.run(CLI + ["prompt", img, q, "--model", pkg, "--profile", prof, "--json"],
                                               check=True, capture_output=True, text=True).stdout)
                views, rows, cols = views_of(Image.open(img).convert("RGB"), PROFILE_EDGE[prof])
                with torch.no_grad():
                    feats = m.vision(to_pixels(views)).reshape(-1, preset["text_hidden"])
                    ids = torch.tensor(pj["input_ids"])
                    x = m.merge(ids, feats)[None]
                    s = x
                    gen = []
                    banned = torch.tensor(tok.banned)
                    for _ in range(6):
                        h = m.forward_full(s)[0, -1]
                        full = m.full_logits(h)
                        full[banned] = -float("inf")
                        t = int(torch.argmax(full))
                        gen.append(t)
                        if t in T.STOP_IDS:
                            break
                        s = torch.cat((s, m.embed_ids(torch.tensor([t]))[None]), 1)
                same = gen == r["token_ids"]
                ok += same
                total += 1
                print(os.path.basename(img), prof, f"views={len(views)}", "runtime", r["token_ids"], "torch", gen, "SAME" if same else "DIFF", flush=True)
    print(f"GRAPHCHECK {ok}/{total} identical greedy sequences")
