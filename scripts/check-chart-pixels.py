#!/usr/bin/env python3
"""Fails when a chart rendered to a PNG screenshot is empty: the browser tests (Tests/InferMeshCLITests,
ReportBrowserTests) run it on Chromium's screenshots of `infermesh report`'s charts.

    check-chart-pixels.py IMAGE --color '#1f77b4' [--color ...] [--box X,Y,W,H ...] [--min-pixels N]

For each box (the whole image without one) and each color, it counts the pixels drawn in that color: the
color itself or a tint of it over white down to MIN_ALPHA, so anti-aliased edges count but a translucent band
or a shaded window does not, and neither does gray (grid lines, frames, text). It prints one line per box and
color, and exits 1 if any count is below --min-pixels (2 on bad arguments).
"""
import argparse
import sys

import numpy as np
from PIL import Image

# A pixel counts for a color when it lies on the line from white to that color, at least this far along it:
# series lines are drawn opaque (or at 0.7), bands and shaded windows at 0.2-0.25.
MIN_ALPHA = 0.4
MAX_ALPHA = 1.1
# How far (0-255, per channel) a pixel may stray from that line.
TOLERANCE = 24


def color(text):
    text = text.lstrip("#")
    if len(text) != 6:
        raise argparse.ArgumentTypeError(f"expected #rrggbb, got {text!r}")
    return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))


def box(text):
    try:
        x, y, w, h = (round(float(v)) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y,W,H, got {text!r}")
    return (x, y, x + w, y + h)


def tint_pixels(pixels, target):
    """How many of `pixels` (an H x W x 3 array) are `target` laid over white with an opacity in
    [MIN_ALPHA, MAX_ALPHA], give or take TOLERANCE per channel."""
    d = 255.0 - pixels.astype(float)
    e = 255.0 - np.array(target, dtype=float)
    norm = float(e @ e)
    if norm == 0:
        return 0
    alpha = (d @ e) / norm
    residual = np.abs(d - alpha[..., None] * e).max(axis=-1)
    return int(np.count_nonzero((alpha >= MIN_ALPHA) & (alpha <= MAX_ALPHA) & (residual <= TOLERANCE)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image")
    parser.add_argument("--color", type=color, action="append", required=True)
    parser.add_argument("--box", type=box, action="append", default=[])
    parser.add_argument("--min-pixels", type=int, default=100)
    args = parser.parse_args()

    try:
        image = Image.open(args.image).convert("RGB")
    except OSError as error:
        print(f"check-chart-pixels: cannot read {args.image}: {error}", file=sys.stderr)
        return 2
    boxes = args.box or [(0, 0, image.width, image.height)]
    empty = False
    for region in boxes:
        pixels = np.asarray(image.crop(region))
        counts = {target: tint_pixels(pixels, target) for target in args.color}
        for target in args.color:
            name = "#%02x%02x%02x" % target
            where = ",".join(str(v) for v in (region[0], region[1], region[2] - region[0], region[3] - region[1]))
            verdict = "ok" if counts[target] >= args.min_pixels else "EMPTY"
            print(f"box {where} color {name}: {counts[target]} pixels {verdict}")
            empty = empty or counts[target] < args.min_pixels
    return 1 if empty else 0


if __name__ == "__main__":
    sys.exit(main())
