"""Real image bytes for tests (Pillow): uploads of images are decoded and checked."""

import io

from PIL import Image


def image_bytes(width: int = 64, height: int = 48, fmt: str = "PNG", colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, fmt)
    return buffer.getvalue()
