#!/usr/bin/python3
"""Reference slicing geometry, transcribed from the reference processors, used once to make golden files.

MiniCPM-V: OpenBMB MiniCPMVImageProcessor (image_processing_minicpmv.py): ensure_divide, find_best_resize,
get_refine_size, get_sliced_grid, slice_image. Idefics3/SmolVLM: transformers Idefics3ImageProcessor:
_resize_output_size_rescale_to_max_len, _resize_output_size_scale_below_upper_bound, resize_for_vision_encoder,
split_image. Python floats are IEEE float64 and round() is round-half-to-even, exactly as in the references.

Usage: /usr/bin/python3 tools/golden/slicing_reference.py > tests/TestData/golden/slicing.jsonl
The tests compare the C# planner against this file; never regenerate it to make a test pass.
"""
import json
import math
import random


def ensure_divide(length, patch_size):
    return max(round(length / patch_size) * patch_size, patch_size)


def find_best_resize(original_size, scale_resolution, patch_size, allow_upscale=False):
    width, height = original_size
    if (width * height > scale_resolution * scale_resolution) or allow_upscale:
        r = width / height
        height = int(scale_resolution / math.sqrt(r))
        width = int(height * r)
    best_width = ensure_divide(width, patch_size)
    best_height = ensure_divide(height, patch_size)
    return (best_width, best_height)


def get_refine_size(original_size, grid, scale_resolution, patch_size, allow_upscale=False):
    width, height = original_size
    grid_x, grid_y = grid
    refine_width = ensure_divide(width, grid_x)
    refine_height = ensure_divide(height, grid_y)
    grid_width = refine_width / grid_x
    grid_height = refine_height / grid_y
    best_grid_size = find_best_resize((grid_width, grid_height), scale_resolution, patch_size, allow_upscale=allow_upscale)
    return (best_grid_size[0] * grid_x, best_grid_size[1] * grid_y)


def get_sliced_grid(image_size, max_slice_nums, scale_resolution):
    original_width, original_height = image_size
    log_ratio = math.log(original_width / original_height)
    ratio = original_width * original_height / (scale_resolution * scale_resolution)
    multiple = min(math.ceil(ratio), max_slice_nums)
    if multiple <= 1:
        return None
    candidate_split_grids_nums = []
    for i in [multiple - 1, multiple, multiple + 1]:
        if i == 1 or i > max_slice_nums:
            continue
        candidate_split_grids_nums.append(i)
    candidate_grids = []
    for split_grids_nums in candidate_split_grids_nums:
        m = 1
        while m <= split_grids_nums:
            if split_grids_nums % m == 0:
                candidate_grids.append([m, split_grids_nums // m])
            m += 1
    best_grid = [1, 1]
    min_error = float("inf")
    for grid in candidate_grids:
        error = abs(log_ratio - math.log(grid[0] / grid[1]))
        if error < min_error:
            best_grid = grid
            min_error = error
    return best_grid


def minicpmv(w, h, max_slices, scale=448, patch=14):
    grid = get_sliced_grid((w, h), max_slices, scale)
    if grid is None:
        return {"grid": None, "overview": list(find_best_resize((w, h), scale, patch, allow_upscale=True)),
                "refined": None, "slice": None}
    overview = find_best_resize((w, h), scale, patch)
    refined = get_refine_size((w, h), grid, scale, patch, allow_upscale=True)
    return {"grid": grid, "overview": list(overview), "refined": list(refined),
            "slice": [refined[0] // grid[0], refined[1] // grid[1]]}


MAX_IMAGE_SIZE = 4096


def rescale_to_max_len(height, width, min_len=1, max_len=None):
    max_len = max(height, width) if max_len is None else max_len
    aspect_ratio = width / height
    if width >= height:
        width = max_len
        height = int(width / aspect_ratio)
        if height % 2 != 0:
            height += 1
    elif height > width:
        height = max_len
        width = int(height * aspect_ratio)
        if width % 2 != 0:
            width += 1
    height = max(height, min_len)
    width = max(width, min_len)
    return height, width


def scale_below_upper_bound(height, width, max_len=None):
    max_len = max(height, width) if max_len is None else max_len
    aspect_ratio = width / height
    if width >= height and width > max_len:
        width = max_len
        height = int(width / aspect_ratio)
    elif height > width and height > max_len:
        height = max_len
        width = int(height * aspect_ratio)
    height = max(height, 1)
    width = max(width, 1)
    return height, width


def resize_for_vision_encoder(height, width, vision_encoder_max_size):
    aspect_ratio = width / height
    if width >= height:
        width = math.ceil(width / vision_encoder_max_size) * vision_encoder_max_size
        height = int(width / aspect_ratio)
        height = math.ceil(height / vision_encoder_max_size) * vision_encoder_max_size
    elif height > width:
        height = math.ceil(height / vision_encoder_max_size) * vision_encoder_max_size
        width = int(height * aspect_ratio)
        width = math.ceil(width / vision_encoder_max_size) * vision_encoder_max_size
    return height, width


def idefics3(w, h, longest_edge, tile):
    height, width = rescale_to_max_len(h, w, max_len=longest_edge)
    height, width = scale_below_upper_bound(height, width, max_len=MAX_IMAGE_SIZE)
    height, width = resize_for_vision_encoder(height, width, tile)
    if height > tile or width > tile:
        rows, cols = math.ceil(height / tile), math.ceil(width / tile)
    else:
        rows, cols = 0, 0
    return {"resized": [width, height], "rows": rows, "cols": cols, "global": [tile, tile]}


def sizes():
    rng = random.Random(20261126)
    fixed = [(1, 1), (14, 14), (447, 447), (448, 448), (449, 449), (1, 20), (1000, 100), (1, 8192), (8192, 1),
             (640, 480), (1344, 336), (1920, 1080), (1080, 1920), (3840, 2160), (4096, 4096), (8000, 200),
             (200, 8000), (2560, 640), (4096, 1024), (1030, 1574), (4032, 3024), (4000, 2001), (4096, 1025),
             (1056, 2112), (2048, 1536), (1280, 720), (7, 3), (3, 7)]
    out = list(fixed)
    for _ in range(1500):
        out.append((int(math.exp(rng.uniform(0, math.log(9000)))), int(math.exp(rng.uniform(0, math.log(9000))))))
    for _ in range(700):
        out.append((rng.randint(300, 2200), rng.randint(300, 2200)))
    for _ in range(300):
        k = rng.randint(1, 12)
        out.append((7 * rng.randint(1, 400) * k % 6000 + 1, 14 * rng.randint(1, 300) + rng.choice([0, 7])))
    return out


def main():
    for w, h in sizes():
        for m in (4, 9, 16):
            print(json.dumps({"scheme": "minicpmv", "w": w, "h": h, "max_slices": m, **minicpmv(w, h, m)}, separators=(",", ":")))
        for le, t in ((2048, 512), (1456, 364)):
            print(json.dumps({"scheme": "idefics3", "w": w, "h": h, "longest_edge": le, "tile": t, **idefics3(w, h, le, t)}, separators=(",", ":")))


if __name__ == "__main__":
    main()
