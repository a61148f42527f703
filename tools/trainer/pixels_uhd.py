"""The MiniCPM-V slicing scheme's views with Pillow (BICUBIC resizes), equal to the runtime's
(`llava-edge preprocess --scheme minicpmv`): the overview (the whole region resized to about S x S, patch-aligned),
then the slices of the refined image row-major. Geometry from tools/golden/slicing_reference.py (the reference
processor transcribed; docs/slicing.md).

  /usr/bin/python3 tools/trainer/pixels_uhd.py IMAGE... (checks against the runtime: max abs diff must be 0)
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import slicing_reference as ref  # noqa: E402


def plan(width, height, max_slices, scale, patch):
    """The reference plan: {"grid": [cols, rows] or None, "overview": [w, h], "refined": [w, h], "slice": [w, h]}."""
    return ref.minicpmv(width, height, max_slices, scale, patch)


def views_of(region: Image.Image, max_slices, scale, patch):
    """uint8 HWC views (sizes differ: overview first, then the slices row-major) and the plan."""
    w, h = region.size
    p = plan(w, h, max_slices, scale, patch)
    out = [np.asarray(region.resize(tuple(p["overview"]), Image.BICUBIC))]
    if p["grid"]:
        refined = region.resize(tuple(p["refined"]), Image.BICUBIC)
        sw, sh = p["slice"]
        for r in range(p["grid"][1]):
            for c in range(p["grid"][0]):
                out.append(np.asarray(refined.crop((c * sw, r * sh, (c + 1) * sw, (r + 1) * sh))))
    return out, p


def view_rects(region, p):
    """Frame rectangles (x0, y0, x1, y1) each view of `region` (x, y, w, h) covers, in the order of views_of."""
    rx, ry, rw, rh = region
    rects = [(rx, ry, rx + rw, ry + rh)]
    if p["grid"]:
        (cols, rows), (fw, fh) = p["grid"], p["refined"]
        sx, sy = rw / fw, rh / fh
        sw, sh = p["slice"]
        for r in range(rows):
            for c in range(cols):
                rects.append((rx + c * sw * sx, ry + r * sh * sy, rx + (c + 1) * sw * sx, ry + (r + 1) * sh * sy))
    return rects


def normalise(view_u8):
    """uint8 HWC -> float32 CHW, (v/255 - 0.5)/0.5 as the runtime computes it."""
    a = np.asarray(view_u8, dtype=np.float32) * np.float32(1 / 255)
    return ((a - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)


def main():
    cli = ["dotnet", os.environ.get("LLAVA_CLI", "/tmp/llava-cli/llava-edge.dll")]
    worst = 0.0
    for img in sys.argv[1:]:
        for max_slices, scale, patch in ((9, 448, 14), (6, 336, 14), (9, 112, 14)):
            out = tempfile.mkdtemp(prefix="uhd-pix-")
            subprocess.run(cli + ["preprocess", img, "--scheme", "minicpmv", "--max-slices", str(max_slices), "--scale-resolution",
                                  str(scale), "--patch-size", str(patch), "--out", out], check=True, capture_output=True)
            meta = json.load(open(f"{out}/views.json"))
            mine, _ = views_of(Image.open(img).convert("RGB"), max_slices, scale, patch)
            assert len(mine) == len(meta["views"]), (img, len(mine), len(meta["views"]))
            for v, m in zip(meta["views"], mine):
                d = float(np.abs(np.load(f"{out}/{v['file']}") - normalise(m)).max())
                worst = max(worst, d)
            print(os.path.basename(img), max_slices, scale, f"{len(mine)} views", "max abs diff", worst, flush=True)
    print(f"PIXELS-UHD max abs diff {worst}")


if __name__ == "__main__":
    main()
