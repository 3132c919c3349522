"""Images to the model's input tensor, as siamese's own loader does it (model.json's preprocessing).

siamese decodes with sharp (libvips); this file follows the same steps with Pillow (install it with
``pip install pillow``): the EXIF orientation applied; 16-bit grayscale scaled to 8 bits (not
clipped); transparency composited over white (libvips' flatten arithmetic); resized to the model's
size in RGB ("fill" stretches; "letterbox" keeps the aspect ratio, centres the image with offsets
rounded down and pads with the pad colour); for a one-channel model, then grayscale as sharp's
``b-w``: the Rec. 709/D65 luminance of linear-light sRGB, re-encoded to sRGB and rounded to 8 bits
(libvips' tables and float32 arithmetic); finally scaled to [0, 1] and normalized per channel:
(v - mean) / std.

Images already at the model's size (MNIST digits at 28x28) give siamese's tensors exactly (a JPEG
within a grey level, where Pillow's and sharp's JPEG decoders round differently). Resizing is
Pillow's (Lanczos-3 when shrinking, bicubic when enlarging, as libvips chooses), not libvips' own
arithmetic: resized images differ from siamese's by up to a few grey levels at edges and well
under one on average.
"""

import torch
from PIL import Image, ImageOps

# @preprocessing

# Rec. 709 / D65 luminance of linear-light sRGB, as libvips' sRGB -> B_W (scRGB2BW).
LUMINANCE = (0.2126, 0.7152, 0.0722)
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _tables():
    """libvips' 8-bit sRGB tables, in float32 as it computes them: 8-bit value to linear light,
    and linear light at 256 steps to the rounded 8-bit value (interpolated between steps)."""
    f = torch.arange(256, dtype=torch.float32) / 255
    v2y = torch.where(f <= 0.04045, f / 12.92, ((f + 0.055) / 1.055) ** 2.4)
    v = torch.where(f <= 0.0031308, 12.92 * f, 1.055 * f ** (1 / 2.4) - 0.055)
    y2v = torch.round(255 * v)
    return v2y, torch.cat([y2v, y2v[-1:]])


_V2Y, _Y2V = _tables()


def _to_8bit(image):
    """16-bit (and 32-bit integer) grayscale to "L" as libvips turns grey16 into 8 bits: to linear
    light, then back to 8-bit sRGB (scaled, never clipped at 255)."""
    if image.mode not in _SIXTEEN_BIT:
        return image
    wide = image if image.mode == "I" else image.convert("I")
    # I;16 arrives as "I" in some Pillow versions: values 0..65535 either way.
    values = torch.frombuffer(bytearray(wide.tobytes()), dtype=torch.int32).clamp(0, 65535)
    f = values.float() / 65535
    linear = torch.where(f <= 0.04045, f / 12.92, ((f + 0.055) / 1.055) ** 2.4)
    return Image.frombytes("L", wide.size, bytes(_encode(linear).tolist()))


def _flatten(image):
    """RGB, with any transparency composited over white (sharp's flatten)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    data = torch.frombuffer(bytearray(rgba.tobytes()), dtype=torch.uint8).reshape(-1, 4).double()
    alpha = data[:, 3:]
    # libvips' flatten: c * a / 255 + background * (255 - a) / 255, truncated to 8 bits.
    rgb = torch.floor(data[:, :3] * alpha / 255 + 255 * (255 - alpha) / 255).clamp(0, 255)
    return Image.frombytes("RGB", rgba.size, bytes(rgb.to(torch.uint8).flatten().tolist()))


def _axis_filter(source, target):
    return Image.LANCZOS if target < source else Image.BICUBIC


def _scale(image, size):
    """Vertical then horizontal, each with libvips' kernel choice for its direction."""
    width, height = size
    if image.height != height:
        image = image.resize((image.width, height), _axis_filter(image.height, height))
    if image.width != width:
        image = image.resize((width, height), _axis_filter(image.width, width))
    return image


def _resize(image):
    size = (PREPROCESSING["width"], PREPROCESSING["height"])
    if image.size == size:
        return image
    if PREPROCESSING["resize"] == "fill":
        return _scale(image, size)
    scale = min(size[0] / image.width, size[1] / image.height)
    inner = (
        min(size[0], max(1, round(image.width * scale))),
        min(size[1], max(1, round(image.height * scale))),
    )
    given = PREPROCESSING["padColor"]
    pad = [given[i] if i < len(given) else given[0] for i in range(3)]
    canvas = Image.new("RGB", size, tuple(round(min(1, max(0, v)) * 255) for v in pad))
    canvas.paste(_scale(image, inner), ((size[0] - inner[0]) // 2, (size[1] - inner[1]) // 2))
    return canvas


def _rgb_tensor(image):
    data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return data.reshape(image.height, image.width, 3)


def _encode(y):
    """Linear light -> 8-bit sRGB as libvips does: its 256-step table, interpolated, rounded."""
    yf = (y * 255).clamp(0, 255)
    yi = yf.long()
    v = _Y2V[yi] + (_Y2V[yi + 1] - _Y2V[yi]) * (yf - yi.float())
    return torch.round(v).to(torch.uint8)


def to_gray(rgb):
    """uint8 [H, W, 3] sRGB -> uint8 [H, W] as sharp's b-w: the Rec. 709 luminance of linear
    light, re-encoded to sRGB and rounded (libvips' float32 arithmetic and tables: its values)."""
    r, g, b = _V2Y[rgb.long()].unbind(-1)
    return _encode(LUMINANCE[0] * r + LUMINANCE[1] * g + LUMINANCE[2] * b)


def load_pixels(path):
    """8-bit pixels [C, H, W] (torch.uint8) at the model's size and channel count."""
    with Image.open(path) as opened:
        opened.load()
        image = ImageOps.exif_transpose(opened)
        image = _resize(_flatten(_to_8bit(image)))
        rgb = _rgb_tensor(image)
    if PREPROCESSING["channels"] == 1:
        return to_gray(rgb).unsqueeze(0).contiguous()
    return rgb.permute(2, 0, 1).contiguous()


def normalize(pixels):
    """uint8 [..., C, H, W] -> float32 (v / 255 - mean) / std."""
    mean = torch.tensor(PREPROCESSING["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(PREPROCESSING["std"], dtype=torch.float32).view(-1, 1, 1)
    return (pixels.float() / 255 - mean) / std


def load_image(path):
    """One image as the model's normalized float32 input [C, H, W]."""
    return normalize(load_pixels(path))
