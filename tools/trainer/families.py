"""The trainer's knowledge of each model family, in one place (docs/llava-uhd.md, docs/demo-model.md): how a region
becomes views at a profile, which frame rectangle each view covers (for the symbolic labels), the prompt's image
block, where the whole-region view sits among the views, and the PyTorch model. The family comes from the model's
preset (`"family"`, absent = smolvlm) and from a data split's `family.json`; the two must agree.

- smolvlm: Idefics3 tiles of 512 px row-major, then the global view; 64 tokens per view from the pixel shuffle.
- llava-uhd: the minicpmv scheme (an overview first, then adaptive slices row-major), a resampler with `queries`
  tokens per view; the slices of a row joined by ",", rows ended by "\\n", then the overview."""
import json
import math
import os

import numpy as np

from pixels import geometry as idefics_geometry, profile_edge, views_of as idefics_views
import pixels_uhd

SMOLVLM, LLAVA_UHD = "smolvlm", "llava-uhd"
IMAGE, FAKE, GLOBAL, NL, NLNL, COMMA = 49190, 49189, 49152, 198, 1116, 28


class Family:
    """What the families share: the block is the span from the first to the last of its `edge` token."""
    whole = -1
    edge = IMAGE

    def block_span(self, ids):
        """(first, last) index of the image block in prompt ids."""
        return ids.index(self.edge), len(ids) - 1 - ids[::-1].index(self.edge)

    def global_index(self, n_views):
        """The index of the view of the whole region among n_views."""
        return self.whole % n_views


class SmolVlm(Family):
    name = SMOLVLM
    edge = FAKE  # the block opens and closes with <fake_token_around_image>
    per_view = 64
    whole = -1  # the view of the whole region, as a Python index: the last

    def preset_keys(self):
        return {}

    def plan(self, rw, rh, profile, roi):
        """The group fields that fix its views: rows, cols, n_views, edge."""
        edge = profile_edge(profile, roi)
        rows, cols, nv = idefics_geometry(rw, rh, edge)
        return {"rows": rows, "cols": cols, "n_views": nv, "edge": edge}

    def views(self, region_img, g):
        views, rows, cols = idefics_views(region_img, g["edge"])
        assert (len(views), rows, cols) == (g["n_views"], g["rows"], g["cols"]), (g["image"], g["profile"], len(views), rows, cols)
        return views

    def rects(self, region, g):
        from symbolic import view_rects
        rects, rows, cols = view_rects(region, g["edge"])
        assert (len(rects), rows, cols) == (g["n_views"], g["rows"], g["cols"]), (g["image"], g["profile"])
        return rects

    def image_block(self, g):
        """The prompt's image part for the group's grid (docs/smolvlm.md section 5)."""
        rows, cols, per = g["rows"], g["cols"], self.per_view
        if rows == 0:
            return [FAKE, GLOBAL] + [IMAGE] * per + [FAKE]
        out = []
        for r in range(rows):
            for c in range(cols):
                out += [FAKE, 49153 + r * 6 + c] + [IMAGE] * per
            out.append(NLNL if r == rows - 1 else NL)
        return out + [FAKE, GLOBAL] + [IMAGE] * per + [FAKE]

    def model(self, preset, vocab, **kw):
        from model import VLM
        return VLM(preset, vocab, **kw)


class LlavaUhd(Family):
    name = LLAVA_UHD
    whole = 0  # the overview comes first

    def __init__(self, scale=448, patch=14, max_slices=9, queries=64):
        self.scale, self.patch, self.max_slices, self.per_view = scale, patch, max_slices, queries
        self.grid = math.isqrt(queries)
        assert self.grid * self.grid == queries, "the symbolic labels put the queries on a square grid"

    def preset_keys(self):
        return {"family": LLAVA_UHD, "scale_resolution": self.scale, "patch_size": self.patch, "max_slices": self.max_slices,
                "queries": self.per_view}

    def slices_for(self, profile, rw, rh):
        """The runtime's profiles on the minicpmv scheme (CompressionProfiles.Apply): fast = the overview's one
        slice, balanced = at most 4, detail = the model's most, native = one per S x S of the region."""
        if profile == "fast":
            return 1
        if profile == "balanced":
            return min(self.max_slices, 4)
        if profile == "native":
            return min(max(math.ceil(rw * rh / (self.scale * self.scale)), 1), self.max_slices)
        return self.max_slices

    def plan(self, rw, rh, profile, roi):
        ms = self.slices_for(profile, rw, rh)
        p = pixels_uhd.plan(rw, rh, ms, self.scale, self.patch)
        cols, rows = p["grid"] if p["grid"] else (0, 0)
        ow, oh = p["overview"]
        shapes = [(oh, ow, 3)] + ([(p["slice"][1], p["slice"][0], 3)] * (rows * cols) if p["grid"] else [])
        return {"rows": rows, "cols": cols, "n_views": 1 + rows * cols, "slices": ms, "view_shapes": shapes}

    def _plan_of(self, g, rw, rh):
        return pixels_uhd.plan(rw, rh, g["slices"], self.scale, self.patch)

    def views(self, region_img, g):
        views, p = pixels_uhd.views_of(region_img, g["slices"], self.scale, self.patch)
        cols, rows = p["grid"] if p["grid"] else (0, 0)
        assert (len(views), rows, cols) == (g["n_views"], g["rows"], g["cols"]), (g["image"], g["profile"], len(views), rows, cols)
        return views

    def rects(self, region, g):
        rects = pixels_uhd.view_rects(region, self._plan_of(g, region[2], region[3]))
        assert len(rects) == g["n_views"], (g["image"], g["profile"])
        return rects

    def image_block(self, g):
        rows, cols, per = g["rows"], g["cols"], self.per_view
        out = []
        for r in range(rows):
            for c in range(cols):
                out += [IMAGE] * per + [COMMA if c < cols - 1 else NL]
        return out + [IMAGE] * per

    def model(self, preset, vocab, **kw):
        from model_uhd import UhdVLM
        return UhdVLM(preset, vocab, **kw)


def of_preset(preset):
    if preset.get("family", SMOLVLM) == SMOLVLM:
        return SmolVlm()
    assert preset["family"] == LLAVA_UHD, preset["family"]
    return LlavaUhd(preset["scale_resolution"], preset["patch_size"], preset["max_slices"], preset["queries"])


def write_split_family(root, fam):
    json.dump({"family": fam.name, **fam.preset_keys()}, open(os.path.join(root, "family.json"), "w"))


def of_split(root):
    f = os.path.join(root, "family.json")
    return of_preset(json.load(open(f))) if os.path.exists(f) else SmolVlm()


def uhd_defaults():
    """The LLaVA-UHD-style demo's visual settings (docs/llava-uhd.md): 448 px slices of patch 14, at most 9 slices,
    64 queries per view, a 32 x 32 position grid."""
    return {"image_size": 448, **LlavaUhd().preset_keys()}


def stack_or_list(views):
    """Views of one size stack into [V, H, W, 3]; otherwise they stay a list."""
    shapes = {v.shape for v in views}
    return np.stack(views) if len(shapes) == 1 else list(views)
