"""SmolVLM-architecture model in PyTorch, op for op what the C# model builder writes as ONNX
(tools/LlavaUhd.Edge.ModelBuilder/Generation/ModelGraphs.cs, Onnx/Layers.cs). Vocabulary tables are compact:
only the ids in `vocab_ids` have rows (embed_tokens) / columns (lm_head); every other id is exactly 0."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE_TOKEN = 49190
EOU = 49279

DEFAULT_PRESET = {"vision_hidden": 96, "vision_layers": 2, "vision_heads": 4, "vision_mlp": 192, "image_size": 512,
                  "patch_size": 16, "scale_factor": 4, "text_hidden": 256, "text_layers": 4, "text_heads": 4,
                  "kv_heads": 2, "head_dim": 64, "text_mlp": 512, "vocab_size": 49280, "rope_theta": 100000}

VISION_EPS = 1e-6
TEXT_EPS = 1e-5


class Linear(nn.Module):
    """y = x @ W (+ b), W stored [in, out] exactly as the ONNX initializer."""

    def __init__(self, d_in, d_out, bias=True, std=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_in, d_out) * (std if std is not None else 1.0 / math.sqrt(d_in)))
        self.bias = nn.Parameter(torch.zeros(d_out)) if bias else None

    def forward(self, x):
        y = torch.matmul(x, self.weight)
        return y + self.bias if self.bias is not None else y


class VitLayer(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.layer_norm1 = nn.LayerNorm(d, eps=VISION_EPS)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (Linear(d, d) for _ in range(4))
        self.out_proj.weight.data *= 0.5
        self.layer_norm2 = nn.LayerNorm(d, eps=VISION_EPS)
        self.fc1 = Linear(d, mlp)
        self.fc2 = Linear(mlp, d, std=0.5 / math.sqrt(mlp))

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads
        h = self.layer_norm1(x)
        q = self.q_proj(h).view(n, t, self.heads, hd).transpose(1, 2)
        k = self.k_proj(h).view(n, t, self.heads, hd).permute(0, 2, 3, 1)
        v = self.v_proj(h).view(n, t, self.heads, hd).transpose(1, 2)
        s = torch.matmul(q, k) * (1.0 / math.sqrt(hd))
        p = torch.softmax(s, dim=-1)
        o = torch.matmul(p, v).transpose(1, 2).reshape(n, t, d)
        x = x + self.out_proj(o)
        h = self.layer_norm2(x)
        return x + self.fc2(F.gelu(self.fc1(h)))


class VisionEncoder(nn.Module):
    def __init__(self, p):
        super().__init__()
        d, ps, s = p["vision_hidden"], p["patch_size"], p["image_size"]
        self.grid = s // ps
        self.sf = p["scale_factor"]
        self.d = d
        self.patch_embedding = nn.Conv2d(3, d, ps, stride=ps)
        self.position_embedding = nn.Parameter(torch.randn(self.grid * self.grid, d) * 0.02)
        self.layers = nn.ModuleList(VitLayer(d, p["vision_heads"], p["vision_mlp"]) for _ in range(p["vision_layers"]))
        self.post_layernorm = nn.LayerNorm(d, eps=VISION_EPS)
        self.proj = Linear(d * self.sf * self.sf, p["text_hidden"], bias=False)

    def forward(self, pixels):  # [N,3,512,512] -> [N,64,text_hidden]
        return self.proj(self.tower(pixels))

    def tower(self, pixels):  # [N,3,512,512] -> pixel-shuffled [N,64,16d] (everything but the projection)
        x = self.patch_embedding(pixels)
        n = x.shape[0]
        x = x.reshape(n, self.d, -1).transpose(1, 2) + self.position_embedding
        for layer in self.layers:
            x = layer(x)
        x = self.post_layernorm(x)
        g, gs, d, sf = self.grid, self.grid // self.sf, self.d, self.sf
        x = x.reshape(n, g, gs, d * sf).permute(0, 2, 1, 3).reshape(n, gs, gs, d * sf * sf)
        return x.permute(0, 2, 1, 3).reshape(n, gs * gs, d * sf * sf)


def rms_norm(x, w):
    return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + TEXT_EPS) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class DecoderLayer(nn.Module):
    def __init__(self, p):
        super().__init__()
        h, nh, kvh, hd, mlp = p["text_hidden"], p["text_heads"], p["kv_heads"], p["head_dim"], p["text_mlp"]
        self.nh, self.kvh, self.hd = nh, kvh, hd
        self.input_layernorm = nn.Parameter(torch.ones(h))
        self.q_proj = Linear(h, nh * hd, bias=False)
        self.k_proj = Linear(h, kvh * hd, bias=False)
        self.v_proj = Linear(h, kvh * hd, bias=False)
        self.o_proj = Linear(nh * hd, h, bias=False, std=0.5 / math.sqrt(nh * hd))
        self.post_attention_layernorm = nn.Parameter(torch.ones(h))
        self.gate_proj = Linear(h, mlp, bias=False)
        self.up_proj = Linear(h, mlp, bias=False)
        self.down_proj = Linear(mlp, h, bias=False, std=0.5 / math.sqrt(mlp))

    def qkv(self, x, cos, sin):
        b, s, _ = x.shape
        a = rms_norm(x, self.input_layernorm)
        q = self.q_proj(a).view(b, s, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(a).view(b, s, self.kvh, self.hd).transpose(1, 2)
        v = self.v_proj(a).view(b, s, self.kvh, self.hd).transpose(1, 2)
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin, v

    def attend(self, x, q, k, v, bias):
        # grouped-query attention as the ONNX graph does it: query heads g*rep .. g*rep+rep-1 share KV head g
        b, _, s, _ = q.shape
        rep = self.nh // self.kvh
        qg = q.reshape(b, self.kvh, rep * s, self.hd)
        sc = torch.matmul(qg, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd)) + bias.repeat(rep, 1)
        o = torch.matmul(torch.softmax(sc, dim=-1), v).reshape(b, self.nh, s, self.hd)
        o = o.transpose(1, 2).reshape(b, s, self.nh * self.hd)
        x = x + self.o_proj(o)
        m = rms_norm(x, self.post_attention_layernorm)
        return x + self.down_proj(F.silu(self.gate_proj(m)) * self.up_proj(m))


class VLM(nn.Module):
    def __init__(self, p, vocab_ids, embed_std=0.02, vision=None, image_token=IMAGE_TOKEN):
        super().__init__()
        self.p = p
        self.vision = vision if vision is not None else VisionEncoder(p)  # another family's visual path (model_uhd.py)
        self.image_token = image_token
        h = p["text_hidden"]
        self.vocab_ids = list(vocab_ids)  # sorted full ids with rows/columns
        k = len(self.vocab_ids)
        lut = torch.full((p["vocab_size"],), k, dtype=torch.long)  # unknown ids -> the zero row k
        lut[torch.tensor(self.vocab_ids)] = torch.arange(k)
        self.register_buffer("lut", lut, persistent=False)
        self.embed = nn.Parameter(torch.randn(k, h) * embed_std)
        self.layers = nn.ModuleList(DecoderLayer(p) for _ in range(p["text_layers"]))
        self.norm = nn.Parameter(torch.ones(h))
        self.lm_head = nn.Parameter(torch.randn(h, k) * 0.02)
        hd = p["head_dim"]
        self.register_buffer("inv_freq", 1.0 / (p["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd)), persistent=False)
        if image_token in self.vocab_ids:  # replaced by image features: never read, kept at 0
            with torch.no_grad():
                self.embed[self.vocab_ids.index(image_token)] = 0

    def rope(self, start, length):
        pos = torch.arange(start, start + length, dtype=torch.float32)
        f = pos[:, None] * self.inv_freq[None, :]
        ang = torch.cat((f, f), dim=-1)
        return ang.cos()[None, None], ang.sin()[None, None]

    def embed_ids(self, ids):
        table = torch.cat((self.embed, self.embed.new_zeros(1, self.embed.shape[1])), 0)
        return F.embedding(self.lut[ids], table)

    def run_prefix(self, xp):
        """xp [1,P,H]: the shared start of a group's sequences (the image part). Returns per-layer (k, v) with
        RoPE applied (positions 0..P-1); the last layer's attention output is not needed and not computed."""
        P = xp.shape[1]
        cos, sin = self.rope(0, P)
        bias = torch.triu(torch.full((P, P), -1e9), 1)
        kvs = []
        for i, layer in enumerate(self.layers):
            q, k, v = layer.qkv(xp, cos, sin)
            kvs.append((k, v))
            if i < len(self.layers) - 1:
                xp = layer.attend(xp, q, k, v, bias)
        return kvs

    def run_suffix(self, kvs, xs, prefix_of=None, mid=None):
        """xs [B,T,H] (right padded) continuing after the prefix whose cache is kvs (batch 1, or one prefix per
        group with prefix_of [B] naming each sequence's group). Returns final-normed [B,T,H]; with `mid` = a layer
        index, also the residual stream after that layer (a training probe reads it)."""
        probe = None
        P = kvs[0][0].shape[2]
        B, T, _ = xs.shape
        cos, sin = self.rope(P, T)
        bias = torch.cat((torch.zeros(T, P), torch.triu(torch.full((T, T), -1e9), 1)), 1)
        for i, ((kp, vp), layer) in enumerate(zip(kvs, self.layers)):
            q, k, v = layer.qkv(xs, cos, sin)
            kp, vp = (kp[prefix_of], vp[prefix_of]) if prefix_of is not None else (kp.expand(B, -1, -1, -1), vp.expand(B, -1, -1, -1))
            kall = torch.cat((kp, k), 2)
            vall = torch.cat((vp, v), 2)
            xs = layer.attend(xs, q, kall, vall, bias)
            if i == mid:
                probe = xs
        out = rms_norm(xs, self.norm)
        return (out, probe) if mid is not None else out

    def forward_full(self, x):
        """Plain causal forward of one sequence x [1,S,H] (reference path, used by tests/export)."""
        S = x.shape[1]
        cos, sin = self.rope(0, S)
        bias = torch.triu(torch.full((S, S), -1e9), 1)
        for layer in self.layers:
            q, k, v = layer.qkv(x, cos, sin)
            x = layer.attend(x, q, k, v, bias)
        return rms_norm(x, self.norm)

    def logits_compact(self, hidden):
        return torch.matmul(hidden, self.lm_head)

    def full_logits(self, hidden):
        k = len(self.vocab_ids)
        full = hidden.new_zeros(hidden.shape[:-1] + (self.p["vocab_size"],))
        full[..., torch.tensor(self.vocab_ids)] = self.logits_compact(hidden)
        return full

    def onnx_names(self):
        """(ONNX initializer name, state-dict key, sparse axis or None) of every exported tensor, in the export's
        order: the visual path, then the text side. The one table both directions use (export.py writes by it,
        state_from_onnx reads by it); a family with another visual path overrides vision_names."""
        return [(o, k, None) for o, k in self.vision_names()] + text_names(self)

    def vision_names(self):
        """The Idefics3 visual path as ModelGraphs names it: patch embedding, positions, ViT layers, post norm, connector."""
        v = "vision."
        out = [("embeddings.patch_embedding.weight", v + "patch_embedding.weight"), ("embeddings.patch_embedding.bias", v + "patch_embedding.bias"),
               ("embeddings.position_embedding", v + "position_embedding")]
        out += vit_names(self.p["vision_layers"], v)
        out += [("post_layernorm.weight", v + "post_layernorm.weight"), ("post_layernorm.bias", v + "post_layernorm.bias"),
                ("connector.modality_projection.proj.weight", v + "proj.weight")]
        return out

    def merge(self, ids, feats):
        """ids: LongTensor [S]; feats [V*64,H] replacing the <image> rows in order."""
        e = self.embed_ids(ids)
        pos = (ids == self.image_token).nonzero(as_tuple=True)[0]
        assert pos.numel() == feats.shape[0], (pos.numel(), feats.shape)
        e = e.index_put((pos,), feats)
        return e


def vit_names(layers, prefix):
    """(ONNX name, state key) of the ViT layers, `prefix` the encoder module's ("vision." or "vision.encoder.")."""
    out = []
    for l in range(layers):
        o, n = f"encoder.layers.{l}.", f"{prefix}layers.{l}."
        out += [(o + "layer_norm1.weight", n + "layer_norm1.weight"), (o + "layer_norm1.bias", n + "layer_norm1.bias")]
        for a in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [(o + "self_attn." + a + ".weight", n + a + ".weight"), (o + "self_attn." + a + ".bias", n + a + ".bias")]
        out += [(o + "layer_norm2.weight", n + "layer_norm2.weight"), (o + "layer_norm2.bias", n + "layer_norm2.bias")]
        for a in ("fc1", "fc2"):
            out += [(o + "mlp." + a + ".weight", n + a + ".weight"), (o + "mlp." + a + ".bias", n + a + ".bias")]
    return out


def text_names(model):
    """(ONNX name, state key, sparse axis) of the text side every family shares: the embedding table (rows of the
    model's vocabulary ids), the decoder layers, the final norm and the head (its columns)."""
    out = [("embed_tokens.weight", "embed", 0)]
    for l in range(model.p["text_layers"]):
        o, n = f"model.layers.{l}.", f"layers.{l}."
        out.append((o + "input_layernorm.weight", n + "input_layernorm", None))
        out += [(o + "self_attn." + a + ".weight", n + a + ".weight", None) for a in ("q_proj", "k_proj", "v_proj", "o_proj")]
        out.append((o + "post_attention_layernorm.weight", n + "post_attention_layernorm", None))
        out += [(o + "mlp." + a + ".weight", n + a + ".weight", None) for a in ("gate_proj", "up_proj", "down_proj")]
    return out + [("model.norm.weight", "norm", None), ("lm_head.weight", "lm_head", 1)]


def state_from_onnx(model, W):
    """A state dict for `model` from full ONNX tensors `W` (name -> tensor: a package's initializers, or dense
    weights.json/bin): the vocabulary tables cut to the model's ids."""
    ids = torch.tensor(model.vocab_ids)
    sd = {}
    for name, key, axis in model.onnx_names():
        sd[key] = W[name] if axis is None else W[name][ids] if axis == 0 else W[name][:, ids]
    return sd


def full_vocab_ce(logits_k, targets_k, vocab_size):
    """Cross-entropy with the full-vocabulary normaliser: the V-k untrained logits are exactly 0."""
    k = logits_k.shape[-1]
    lse = torch.logaddexp(torch.logsumexp(logits_k, -1), logits_k.new_tensor(math.log(vocab_size - k)))
    return lse - logits_k.gather(-1, targets_k[:, None]).squeeze(1)
