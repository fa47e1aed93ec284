#!/usr/bin/env python3
"""Draws the page's app icons (web app manifest, home screen) as PNGs into static/icons/, with the
standard library only (zlib): the accent blue of style/main.css with a white check mark — "approve".
Run by hand after a change (`python3 build/icons.py`); the PNGs are committed so a build needs no
Python. `maskable`: full-bleed background, the mark inside the 80 % safe zone a launcher may crop to."""
import math
import struct
import zlib
from pathlib import Path

ACCENT = (0x0B, 0x57, 0xD0)  # --ciba-accent (light)
WHITE = (0xFF, 0xFF, 0xFF)
# The check mark as two strokes, in units of the icon's size.
CHECK = [((0.30, 0.52), (0.44, 0.66)), ((0.44, 0.66), (0.71, 0.37))]


def distance_to_segment(px, py, a, b):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def draw(size, maskable):
    # A rounded square for the plain icon (transparent corners); full bleed for the maskable one,
    # whose mark shrinks to sit in the safe zone.
    radius = 0.0 if maskable else 0.22
    scale = 0.7 if maskable else 1.0
    stroke = 0.085
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            u, v = (x + 0.5) / size, (y + 0.5) / size
            # Coverage of the background by a rounded rectangle (1 px of anti-aliasing).
            dx, dy = abs(u - 0.5) - (0.5 - radius), abs(v - 0.5) - (0.5 - radius)
            outside = math.hypot(max(dx, 0.0), max(dy, 0.0)) + min(max(dx, dy), 0.0) - radius
            background = min(1.0, max(0.0, 0.5 - outside * size))
            mu, mv = 0.5 + (u - 0.5) / scale, 0.5 + (v - 0.5) / scale
            d = min(distance_to_segment(mu, mv, a, b) for a, b in CHECK) * scale
            mark = min(1.0, max(0.0, 0.5 - (d - stroke / 2 * scale) * size))
            colour = [round(ACCENT[i] * (1 - mark) + WHITE[i] * mark) for i in range(3)]
            row += bytes(colour + [round(255 * background)])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "static" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in [("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                 ("maskable-512.png", 512, True)]:
        (out / name).write_bytes(draw(size, maskable))
        print(out / name)
