"""Checks: prefix/suffix decoding == one causal pass; compact CE == full-vocabulary CE with zero columns;
GQA head mapping (query head i uses KV head i // rep)."""
import os, sys
import torch
import torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VLM, DEFAULT_PRESET, full_vocab_ce

torch.manual_seed(0)
torch.set_num_threads(2)
vocab = sorted(set(range(0, 400, 3)) | {49190, 49279})
m = VLM(dict(DEFAULT_PRESET), vocab).double()
with torch.no_grad():
    for p in m.parameters():
        p.add_(torch.randn_like(p) * 0.05)
ids = torch.tensor([vocab[i % len(vocab)] for i in range(1, 60)])
x = m.embed_ids(ids)[None]
full = m.forward_full(x)
for P in (1, 17, 58):
    kvs = m.run_prefix(x[:, :P])
    suf = m.run_suffix(kvs, x[:, P:])
    print("prefix", P, "max diff", float((suf - full[:, P:]).abs().max()))
# batched, right-padded suffixes
kvs = m.run_prefix(x[:, :20])
xs = torch.cat((x[:, 20:], torch.cat((x[:, 20:45], torch.zeros(1, 14, x.shape[2], dtype=x.dtype)), 1)), 0)
h = m.run_suffix(kvs, xs)
print("batched/padded max diff", float((h[1, :25] - full[0, 20:45]).abs().max()), float((h[0] - full[0, 20:]).abs().max()))
# CE with the full-vocabulary normaliser
hid = full[0, :5]
fl = m.full_logits(hid)
tg = torch.tensor([vocab[5], vocab[7], 49279, vocab[1], vocab[2]])
ref = F.cross_entropy(fl, tg, reduction="none")
ours = full_vocab_ce(m.logits_compact(hid), m.lut[tg], 49280)
print("ce max diff", float((ref - ours).abs().max()))
# GQA: explicit per-head reference for layer 0
layer = m.layers[0]
cos, sin = m.rope(0, 10)
q, k, v = layer.qkv(x[:, :10], cos, sin)
outs = []
for i in range(layer.nh):
    s = q[:, i] @ k[:, i // (layer.nh // layer.kvh)].transpose(-1, -2) / 8 + torch.triu(torch.full((10, 10), -1e9, dtype=x.dtype), 1)
    outs.append(torch.softmax(s, -1) @ v[:, i // (layer.nh // layer.kvh)])
o = torch.cat(outs, -1)
ref = x[:, :10] + o @ layer.o_proj.weight
mm = torch.nn.functional.silu
r2 = ref + layer.down_proj(mm(layer.gate_proj(__import__("model").rms_norm(ref, layer.post_attention_layernorm))) * layer.up_proj(__import__("model").rms_norm(ref, layer.post_attention_layernorm)))
got = layer.attend(x[:, :10], q, k, v, torch.triu(torch.full((10, 10), -1e9, dtype=x.dtype), 1))
print("gqa max diff", float((got - r2).abs().max()))
