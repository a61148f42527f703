"""Idefics3 views, bit-exact with transformers' Idefics3ImageProcessor (Pillow LANCZOS) and the runtime's
`idefics3` scheme. A view is uint8 [512,512,3] (RGB); to_pixels turns views into the encoder's float input."""
import math

import numpy as np
from PIL import Image

TILE = 512
PROFILE_EDGE = {"fast": 512, "balanced": 1024, "detail": 2048}


def native_edge(roi_w, roi_h):
    return min(max(int(math.ceil(max(roi_w, roi_h) / TILE)) * TILE, TILE), 2048)


def clip_roi(roi, width, height):
    """The eval verb's clipping of a region that reaches past the frame."""
    x, y, w, h = roi
    if x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width and y + h <= height:
        return x, y, w, h
    x0 = min(max(x, 0), width - 1)
    y0 = min(max(y, 0), height - 1)
    x1 = min(max(x + w, x0 + 1), width)
    y1 = min(max(y + h, y0 + 1), height)
    return x0, y0, x1 - x0, y1 - y0


def rescale_to_max_len(height, width, max_len):
    # transformers _resize_output_size_rescale_to_max_len
    aspect = width / height
    if width >= height:
        width = max_len
        height = int(width / aspect)
        if height % 2 != 0:
            height += 1
    else:
        height = max_len
        width = int(height * aspect)
        if width % 2 != 0:
            width += 1
    return max(height, 1), max(width, 1)


def scale_below_upper_bound(height, width, max_len=4096):
    aspect = width / height
    if width >= height and width > max_len:
        width = max_len
        height = int(width / aspect)
    elif height > width and height > max_len:
        height = max_len
        width = int(height * aspect)
    return max(height, 1), max(width, 1)


def vision_encoder_size(height, width, tile=TILE):
    # transformers Idefics3ImageProcessor.resize_for_vision_encoder
    aspect = width / height
    if width >= height:
        width = math.ceil(width / tile) * tile
        height = int(width / aspect)
        height = math.ceil(height / tile) * tile
    else:
        height = math.ceil(height / tile) * tile
        width = int(height * aspect)
        width = math.ceil(width / tile) * tile
    return height, width


def views_of(region: Image.Image, longest_edge: int):
    """region: PIL RGB image. Returns (views uint8 [V,512,512,3], rows, cols); tiles row-major then the global view."""
    w0, h0 = region.size
    h, w = rescale_to_max_len(h0, w0, longest_edge)
    h, w = scale_below_upper_bound(h, w)
    img = region.resize((w, h), resample=Image.LANCZOS)
    h2, w2 = vision_encoder_size(h, w)
    img = img.resize((w2, h2), resample=Image.LANCZOS)
    arr = np.asarray(img)
    views = []
    rows = cols = 0
    if h2 > TILE or w2 > TILE:
        rows = math.ceil(h2 / TILE)
        cols = math.ceil(w2 / TILE)
        oh = math.ceil(h2 / rows)
        ow = math.ceil(w2 / cols)
        for r in range(rows):
            for c in range(cols):
                views.append(arr[r * oh:min(r * oh + oh, h2), c * ow:min(c * ow + ow, w2)])
        img = img.resize((TILE, TILE), resample=Image.LANCZOS)
        views.append(np.asarray(img))
    else:
        if (w2, h2) != (TILE, TILE):
            img = img.resize((TILE, TILE), resample=Image.LANCZOS)
        views.append(np.asarray(img))
    return np.stack(views), rows, cols


def region_of(image: Image.Image, roi):
    if roi is None:
        return image
    x, y, w, h = clip_roi(roi, image.size[0], image.size[1])
    return image.crop((x, y, x + w, y + h))


def profile_edge(profile, roi):
    """roi: the (clipped) region, or None for the whole frame."""
    if profile == "native":
        return native_edge(roi[2], roi[3]) if roi is not None else 2048
    return PROFILE_EDGE[profile]


def to_pixels(views_u8):
    """uint8 [...,512,512,3] (numpy or torch) -> float32 CHW in [-1,1], as (v/255 - 0.5)/0.5."""
    import torch
    t = torch.from_numpy(np.array(views_u8)) if isinstance(views_u8, np.ndarray) else torch.as_tensor(views_u8)
    x = t.permute(*range(t.dim() - 3), t.dim() - 1, t.dim() - 3, t.dim() - 2).float()
    return (x * (1.0 / 255.0) - 0.5) / 0.5


def geometry(width, height, longest_edge):
    """(rows, cols, views) of views_of for a region of this size, without resizing anything."""
    h, w = rescale_to_max_len(height, width, longest_edge)
    h, w = scale_below_upper_bound(h, w)
    h2, w2 = vision_encoder_size(h, w)
    if h2 > TILE or w2 > TILE:
        rows, cols = math.ceil(h2 / TILE), math.ceil(w2 / TILE)
        return rows, cols, rows * cols + 1
    return 0, 0, 1
