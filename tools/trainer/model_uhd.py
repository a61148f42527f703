"""The MiniCPM-V family's visual encoding in PyTorch (LLaVA-UHD style), op for op what the C# model builder writes
(tools/LlavaUhd.Edge.ModelBuilder/Generation/ModelGraphs.cs: MiniCpmVVisionEncoder, MiniCpmVResampler; Onnx/Layers.cs).

One view (an adaptive slice or the overview) of any patch-aligned size goes through the vision encoder with its
patch positions bucketed into the grid x grid position table (PatchPositions.Bucketed in the runtime), then a
perceiver resampler turns its patches into a fixed number of tokens of the text width. The decoder is model.py's.
Parameter names follow the ONNX initializers (docs/demo-model.md, "Weights format")."""
import math

import torch
import torch.nn as nn

from families import LLAVA_UHD
from model import IMAGE_TOKEN, Linear, VitLayer, VISION_EPS, VLM, state_from_onnx, vit_names

RESAMPLER_EPS = 1e-6


def bucketed(rows, cols, grid):
    """Each patch's fractional coordinates bucketed into a grid x grid table, as the runtime's PatchPositions.Bucketed
    (torch.bucketize over arange(1/grid, 1, 1/grid), right=True, in MiniCPM-V / Idefics2)."""
    def bucket(i, n):
        return min(grid - 1, math.floor(i / n * grid + 1e-9))
    return torch.tensor([bucket(r, rows) * grid + bucket(c, cols) for r in range(rows) for c in range(cols)])


class WindowMerge(nn.Module):
    """Progressive compression (docs/llava-uhd.md): [N, rows*cols, D] -> [N, ceil(rows/w)*ceil(cols/w), D], as
    Layers.WindowMerge writes it: zero-pad the bottom and right to multiples of w, concatenate each window's w*w tokens
    (row-major inside the window, windows row-major), LayerNorm, a linear map without bias (Swin's patch merging).
    The map starts as the window's mean, so a fresh merge passes an average of its tokens on."""

    def __init__(self, d, w):
        super().__init__()
        self.d, self.w = d, w
        self.norm = nn.LayerNorm(w * w * d, eps=RESAMPLER_EPS)
        self.reduction = nn.Parameter(torch.eye(d).repeat(w * w, 1) / (w * w))

    def forward(self, x, rows, cols):
        n, d, w = x.shape[0], self.d, self.w
        r2, c2 = -(-rows // w), -(-cols // w)
        x = nn.functional.pad(x.reshape(n, rows, cols, d), (0, 0, 0, c2 * w - cols, 0, r2 * w - rows))
        x = x.reshape(n, r2, w, c2, w, d).permute(0, 1, 3, 2, 4, 5).reshape(n, r2 * c2, w * w * d)
        return torch.matmul(self.norm(x), self.reduction)


class UhdVisionEncoder(nn.Module):
    """pixel_values [N, 3, H, W] (one view size per call) -> vision_features [N, (H/p)(W/p), vision_hidden], or with
    `merge_layer` set ([1, layers - 1]) the tokens merged window by window before that layer -> [N, ceil(H/pw) *
    ceil(W/pw), vision_hidden] (LLaVA-UHD v3 style)."""

    def __init__(self, p):
        super().__init__()
        d, ps = p["vision_hidden"], p["patch_size"]
        self.ps, self.d = ps, d
        self.grid = p["image_size"] // ps
        self.patch_embedding = nn.Conv2d(3, d, ps, stride=ps)
        self.position_embedding = nn.Parameter(torch.randn(self.grid * self.grid, d) * 0.02)
        self.layers = nn.ModuleList(VitLayer(d, p["vision_heads"], p["vision_mlp"]) for _ in range(p["vision_layers"]))
        self.post_layernorm = nn.LayerNorm(d, eps=VISION_EPS)
        self.merge_layer = p.get("merge_layer", 0)
        if self.merge_layer:
            assert 1 <= self.merge_layer < p["vision_layers"], "merge_layer must sit between two encoder layers"
            self.merge = WindowMerge(d, p.get("merge_window", 2))

    def forward(self, pixels, positions=None):
        n, _, h, w = pixels.shape
        rows, cols = h // self.ps, w // self.ps
        if positions is None:
            positions = bucketed(rows, cols, self.grid)
        x = self.patch_embedding(pixels).reshape(n, self.d, -1).transpose(1, 2)
        x = x + self.position_embedding[positions]
        for i, layer in enumerate(self.layers):
            if i == self.merge_layer and i > 0:
                x = self.merge(x, rows, cols)
            x = layer(x)
        return self.post_layernorm(x)


class Resampler(nn.Module):
    """vision_features [N, T, vision_hidden] -> image_features [N, queries, text_hidden]: learned queries (LayerNorm'd)
    cross-attend to LayerNorm(kv_proj(features)) with text_hidden / 16 heads, out_proj, ln_post, proj."""

    def __init__(self, p):
        super().__init__()
        e, q = p["text_hidden"], p["queries"]
        self.e, self.heads = e, max(1, e // 16)
        self.kv_proj = Linear(p["vision_hidden"], e, bias=False)
        self.ln_kv = nn.LayerNorm(e, eps=RESAMPLER_EPS)
        self.query = nn.Parameter(torch.randn(q, e) * 0.5)
        self.ln_q = nn.LayerNorm(e, eps=RESAMPLER_EPS)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (Linear(e, e) for _ in range(4))
        self.ln_post = nn.LayerNorm(e, eps=RESAMPLER_EPS)
        self.proj = nn.Parameter(torch.randn(e, p["text_hidden"]) / math.sqrt(e))

    def forward(self, feats):
        n, t, _ = feats.shape
        e, hn = self.e, self.heads
        hd = e // hn
        kv = self.ln_kv(self.kv_proj(feats))
        q = self.q_proj(self.ln_q(self.query)).reshape(1, -1, hn, hd).transpose(1, 2)  # [1, h, Q, hd]
        k = self.k_proj(kv).reshape(n, t, hn, hd).permute(0, 2, 3, 1)  # [N, h, hd, T]
        v = self.v_proj(kv).reshape(n, t, hn, hd).transpose(1, 2)  # [N, h, T, hd]
        s = torch.softmax(torch.matmul(q, k) * (1.0 / math.sqrt(hd)), dim=-1)
        o = torch.matmul(s, v).transpose(1, 2).reshape(n, -1, e)
        return torch.matmul(self.ln_post(self.out_proj(o)), self.proj)


class UhdVisual(nn.Module):
    """The whole visual path: encoder then resampler. Takes [N, 3, H, W] (one size) or a list of [3, H, W] views
    of any sizes (run in batches of equal size, returned in list order) -> [N, queries, text_hidden]."""

    def __init__(self, p):
        super().__init__()
        self.encoder = UhdVisionEncoder(p)
        self.resampler = Resampler(p)

    def forward(self, pixels):
        if torch.is_tensor(pixels):
            return self.resampler(self.encoder(pixels))
        by_shape = {}
        for i, v in enumerate(pixels):
            by_shape.setdefault(tuple(v.shape), []).append(i)
        out = [None] * len(pixels)
        for idx in by_shape.values():
            y = self.resampler(self.encoder(torch.stack([pixels[i] for i in idx])))
            for k, i in enumerate(idx):
                out[i] = y[k]
        return torch.stack(out)


class UhdVLM(VLM):
    """model.py's decoder with the MiniCPM-V family's visual path in place of the Idefics3 one (`self.vision`)."""

    def __init__(self, p, vocab_ids, embed_std=0.02, image_token=IMAGE_TOKEN):
        super().__init__(p, vocab_ids, embed_std=embed_std, vision=UhdVisual(p), image_token=image_token)

    def merge(self, ids, feats):
        """feats: one image's view tokens [V*queries, H] in view order — the overview first, as pixels_uhd and the
        runtime's plan give them. The llava-uhd prompt places the overview after the slices (docs/llava-uhd.md), and
        the runtime fills each placeholder run with its own view's tokens, so the overview's tokens go last here."""
        f = feats.reshape(-1, self.p["queries"], feats.shape[-1])
        if f.shape[0] > 1 and self.p.get("family") == LLAVA_UHD:  # MiniCPM-V's own prompt keeps the overview first
            f = torch.cat((f[1:], f[:1]))
        return super().merge(ids, f.reshape(-1, feats.shape[-1]))

    def vision_names(self):
        """The encoder and resampler as ModelGraphs.MiniCpmVVisionEncoder and MiniCpmVResampler name them."""
        v, r = "vision.encoder.", "vision.resampler."
        out = [("embeddings.patch_embedding.weight", v + "patch_embedding.weight"), ("embeddings.patch_embedding.bias", v + "patch_embedding.bias"),
               ("embeddings.position_embedding", v + "position_embedding")]
        out += vit_names(self.p["vision_layers"], v)
        out += [("post_layernorm.weight", v + "post_layernorm.weight"), ("post_layernorm.bias", v + "post_layernorm.bias")]
        if self.p.get("merge_layer", 0):
            out += [("encoder.merge.norm.weight", v + "merge.norm.weight"), ("encoder.merge.norm.bias", v + "merge.norm.bias"),
                    ("encoder.merge.reduction.weight", v + "merge.reduction")]
        out += [("kv_proj.weight", r + "kv_proj.weight"), ("query", r + "query"), ("proj", r + "proj")]
        for a in ("ln_kv", "ln_q", "ln_post"):
            out += [(a + ".weight", r + a + ".weight"), (a + ".bias", r + a + ".bias")]
        for a in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [("attn." + a + ".weight", r + a + ".weight"), ("attn." + a + ".bias", r + a + ".bias")]
        return out


def onnx_state(model, W):
    """A state dict for `model` (UhdVLM) from a generated package's ONNX initializers `W` (name -> tensor)."""
    return state_from_onnx(model, W)
