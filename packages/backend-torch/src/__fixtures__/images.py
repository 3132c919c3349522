"""Test harness: a tiny image folder, CLASSES folders of IMAGES random 16x16 grayscale PNGs each."""

import os
import random
import sys

from PIL import Image

root, classes, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(3)
for c in range(classes):
    os.makedirs(os.path.join(root, f"class{c}"), exist_ok=True)
    for i in range(images):
        pixels = bytes(min(255, max(0, 40 * c + rng.randrange(80))) for _ in range(16 * 16))
        Image.frombytes("L", (16, 16), pixels).save(os.path.join(root, f"class{c}", f"{i:03d}.png"))
