"""Images to the model's input tensor, as siamese's own loader does it (model.json's preprocessing).

Decode with Pillow, composite alpha over black, convert to grayscale ("L") or RGB, resize to the
model's size ("fill" stretches; "letterbox" keeps the aspect ratio and pads with the pad colour),
scale to [0, 1] and normalize per channel: (v - mean) / std. Images already at the model's size
(MNIST digits at 28x28) give exactly siamese's tensors; resized ones can differ from siamese's
(sharp/libvips) resampling by a grey level or so.
"""

import torch
from PIL import Image

# @preprocessing


def _resize(image):
    size = (PREPROCESSING["width"], PREPROCESSING["height"])
    if image.size == size:
        return image
    if PREPROCESSING["resize"] == "fill":
        return image.resize(size, Image.BILINEAR)
    scale = min(size[0] / image.width, size[1] / image.height)
    inner = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    pad = tuple(round(v * 255) for v in PREPROCESSING["padColor"])
    canvas = Image.new(image.mode, size, pad[0] if image.mode == "L" else pad)
    canvas.paste(
        image.resize(inner, Image.BILINEAR), ((size[0] - inner[0]) // 2, (size[1] - inner[1]) // 2)
    )
    return canvas


def load_pixels(path):
    """8-bit pixels [C, H, W] (torch.uint8) at the model's size and channel count."""
    with Image.open(path) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, (0, 0, 0))
            image.paste(rgba, mask=rgba.split()[3])
        image = image.convert("L" if PREPROCESSING["channels"] == 1 else "RGB")
        image = _resize(image)
        data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return data.reshape(image.height, image.width, -1).permute(2, 0, 1).contiguous()


def normalize(pixels):
    """uint8 [..., C, H, W] -> float32 (v / 255 - mean) / std."""
    mean = torch.tensor(PREPROCESSING["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(PREPROCESSING["std"], dtype=torch.float32).view(-1, 1, 1)
    return (pixels.float() / 255 - mean) / std


def load_image(path):
    """One image as the model's normalized float32 input [C, H, W]."""
    return normalize(load_pixels(path))
