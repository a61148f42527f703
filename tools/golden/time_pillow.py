#!/usr/bin/python3
"""Times the reference pixel path (Pillow resizes + numpy normalisation) on a generated BGR frame, for the ratio
in README's Performance section. Usage: /usr/bin/python3 tools/golden/time_pillow.py 3840x2160 [runs]"""
import math
import statistics
import sys
import time

import numpy as np
from PIL import Image

import slicing_reference as ref


def norm(img):
    a = np.asarray(img, dtype=np.float32) * (1 / 255)
    return ((a - 0.5) / 0.5).transpose(2, 0, 1).copy()


def minicpmv(bgr):
    img = Image.fromarray(bgr[:, :, ::-1].copy(), "RGB")
    w, h = img.size
    p = ref.minicpmv(w, h, 9)
    out = [norm(img.resize(tuple(p["overview"]), Image.BICUBIC))]
    if p["grid"]:
        refined = img.resize(tuple(p["refined"]), Image.BICUBIC)
        sw, sh = p["slice"]
        for r in range(p["grid"][1]):
            for c in range(p["grid"][0]):
                out.append(norm(refined.crop((c * sw, r * sh, (c + 1) * sw, (r + 1) * sh))))
    return out


def smolvlm(bgr, t=512):
    img = Image.fromarray(bgr[:, :, ::-1].copy(), "RGB")
    w, h = img.size
    h1, w1 = ref.rescale_to_max_len(h, w, max_len=2048)
    h1, w1 = ref.scale_below_upper_bound(h1, w1, max_len=ref.MAX_IMAGE_SIZE)
    s1 = img.resize((w1, h1), Image.LANCZOS)
    h2, w2 = ref.resize_for_vision_encoder(h1, w1, t)
    s2 = s1.resize((w2, h2), Image.LANCZOS)
    out = []
    for r in range(math.ceil(h2 / t)):
        for c in range(math.ceil(w2 / t)):
            out.append(norm(s2.crop((c * t, r * t, c * t + t, r * t + t))))
    out.append(norm(s2.resize((t, t), Image.LANCZOS)))
    return np.stack(out)


def main():
    w, h = map(int, sys.argv[1].split("x"))
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    yy, xx = np.mgrid[0:h, 0:w]
    bgr = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx ^ yy) & 31) * 8], axis=-1).astype(np.uint8)
    for name, fn in (("minicpmv", minicpmv), ("smolvlm", smolvlm)):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn(bgr)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"{name} {w}x{h}: median {statistics.median(times):.1f} ms over {runs} runs")


if __name__ == "__main__":
    main()
