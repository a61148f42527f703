"""Pixel parity: our Pillow views vs the runtime's `preprocess --scheme idefics3` (max abs diff must be 0)."""
import glob, json, os, subprocess, sys
import numpy as np
from PIL import Image
sys.path.insert(0, os.path.dirname(__file__))
from pixels import views_of, region_of

CLI = ["dotnet", "/tmp/llava-cli/llava-edge.dll"]
work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/vlm/pixcheck"
os.makedirs(work, exist_ok=True)
sizes = ["1280x720", "1920x1080", "3840x2160", "1080x1920", "1440x1440", "2560x1080", "1600x1200", "777x333"]
cases = []
for i, s in enumerate(sizes):
    png = f"{work}/img-{s}.png"
    if not os.path.exists(png):
        subprocess.run(CLI + ["sample", "--size", s, "--out", png, "--seed", str(100 + i)], check=True, stdout=subprocess.DEVNULL)
    for L in (512, 1024, 2048):
        cases.append((png, L, None))
W = {}
for s in ["1280x720", "1920x1080", "3840x2160", "1080x1920"]:
    png = f"{work}/img-{s}.png"
    w, h = map(int, s.split("x"))
    for roi in [(w // 3, h // 3, 231, 276), (10, h // 2, 600, 300), (w - 310, h - 210, 300, 200), (5, 7, 1013, 517)]:
        for L in (512, 1024):
            cases.append((png, L, roi))
worst = 0.0
n_views = 0
for png, L, roi in cases:
    out = f"{work}/out"
    subprocess.run(["rm", "-rf", out])
    args = CLI + ["preprocess", png, "--scheme", "idefics3", "--longest-edge", str(L), "--out", out]
    if roi:
        args += ["--roi", ",".join(map(str, roi))]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    ref = [np.load(f) for f in sorted(glob.glob(f"{out}/*.npy")) if not f.endswith("_mask.npy")]
    img = Image.open(png).convert("RGB")
    views, rows, cols = views_of(region_of(img, roi), L)
    ours = (views.astype(np.float32).transpose(0, 3, 1, 2) * np.float32(1 / 255) - np.float32(0.5)) / np.float32(0.5)
    assert len(ref) == len(ours), (png, L, roi, len(ref), len(ours))
    d = max(float(np.abs(r - o).max()) for r, o in zip(ref, ours))
    worst = max(worst, d)
    n_views += len(ref)
    print(f"{os.path.basename(png)} L={L} roi={roi} views={len(ref)} rows={rows} cols={cols} maxdiff={d}")
print(f"CASES {len(cases)} VIEWS {n_views} WORST MAX ABS DIFF {worst}")
