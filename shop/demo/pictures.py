"""Product pictures for the demo, drawn with Pillow at storefront size.

A picture is a product-like drawing: a soft gradient background, a shadow, a rounded body
in its group's colour whose outline depends on the kind of goods (a kettle, a phone, a
bottle, a sack…), and a label with the brand. Each (group, brand, view) is drawn once and
reused by every product that matches, as a shop's own photos often are; the importer
stores files by content hash, so reuse costs no storage.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 600
SCALE = 2  # shapes are drawn at twice the size and scaled down: smooth edges without aggdraw
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _shade(rgb, lightness: float, saturation: float = 1.0) -> tuple[int, int, int]:
    hue, _lightness, saturation_now = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    r, g, b = colorsys.hls_to_rgb(hue, max(0.0, min(1.0, lightness)), max(0.0, min(1.0, saturation_now * saturation)))
    return round(r * 255), round(g * 255), round(b * 255)


@lru_cache(maxsize=8)
def _font(size: int):
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def _variation(key: str) -> float:
    """A stable number in [0, 1) per key, so sibling groups get slightly different tones."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest()) / 2**32


def _background(colour, view: int) -> Image.Image:
    top = Image.new("RGB", (SIZE, SIZE), _shade(colour, 0.94 if view == 0 else 0.9, 0.5))
    bottom = Image.new("RGB", (SIZE, SIZE), (252, 252, 250))
    mask = Image.linear_gradient("L").resize((SIZE, SIZE))
    return Image.composite(bottom, top, mask)


def _body(draw: ImageDraw.ImageDraw, shape: str, colour, dark, light) -> tuple[int, int, int, int]:
    """Draws the body at SCALE; returns the label box (x0, y0, x1, y1) at SCALE."""
    s = SCALE
    if shape == "kettle":
        draw.rounded_rectangle((190 * s, 170 * s, 420 * s, 470 * s), radius=90 * s, fill=colour)
        draw.arc((360 * s, 210 * s, 490 * s, 400 * s), start=-80, end=80, fill=dark, width=26 * s)
        draw.polygon([(200 * s, 250 * s), (120 * s, 215 * s), (130 * s, 240 * s), (200 * s, 300 * s)], fill=dark)
        draw.rounded_rectangle((230 * s, 140 * s, 380 * s, 185 * s), radius=20 * s, fill=dark)
        draw.ellipse((240 * s, 200 * s, 300 * s, 400 * s), fill=light)
        return 225 * s, 330 * s, 385 * s, 400 * s
    if shape == "phone":
        draw.rounded_rectangle((205 * s, 110 * s, 395 * s, 490 * s), radius=36 * s, fill=dark)
        draw.rounded_rectangle((218 * s, 125 * s, 382 * s, 475 * s), radius=26 * s, fill=colour)
        draw.ellipse((288 * s, 135 * s, 312 * s, 159 * s), fill=dark)
        return 230 * s, 280 * s, 370 * s, 340 * s
    if shape == "screen":
        draw.rounded_rectangle((95 * s, 150 * s, 505 * s, 400 * s), radius=14 * s, fill=dark)
        draw.rounded_rectangle((110 * s, 163 * s, 490 * s, 387 * s), radius=8 * s, fill=colour)
        draw.polygon([(270 * s, 400 * s), (330 * s, 400 * s), (360 * s, 460 * s), (240 * s, 460 * s)], fill=dark)
        draw.polygon([(110 * s, 163 * s), (260 * s, 163 * s), (110 * s, 300 * s)], fill=light)
        return 220 * s, 245 * s, 380 * s, 305 * s
    if shape == "shirt":
        draw.polygon([(200 * s, 130 * s), (255 * s, 115 * s), (300 * s, 150 * s), (345 * s, 115 * s),
                      (400 * s, 130 * s), (490 * s, 215 * s), (440 * s, 270 * s), (405 * s, 240 * s),
                      (405 * s, 480 * s), (195 * s, 480 * s), (195 * s, 240 * s), (160 * s, 270 * s),
                      (110 * s, 215 * s)], fill=colour)
        draw.arc((255 * s, 95 * s, 345 * s, 175 * s), start=20, end=160, fill=dark, width=10 * s)
        return 225 * s, 300 * s, 375 * s, 360 * s
    if shape == "shoe":
        draw.rounded_rectangle((110 * s, 360 * s, 500 * s, 420 * s), radius=28 * s, fill=dark)
        draw.polygon([(130 * s, 370 * s), (140 * s, 230 * s), (250 * s, 220 * s), (330 * s, 300 * s),
                      (470 * s, 320 * s), (495 * s, 370 * s)], fill=colour)
        draw.line([(200 * s, 260 * s), (290 * s, 300 * s)], fill=light, width=12 * s)
        return 170 * s, 310 * s, 320 * s, 360 * s
    if shape == "bottle":
        draw.rounded_rectangle((265 * s, 95 * s, 335 * s, 165 * s), radius=10 * s, fill=dark)
        draw.rounded_rectangle((210 * s, 150 * s, 390 * s, 480 * s), radius=60 * s, fill=colour)
        draw.rounded_rectangle((232 * s, 180 * s, 262 * s, 440 * s), radius=15 * s, fill=light)
        return 222 * s, 290 * s, 378 * s, 360 * s
    if shape == "jar":
        draw.rounded_rectangle((180 * s, 200 * s, 420 * s, 480 * s), radius=40 * s, fill=colour)
        draw.rounded_rectangle((170 * s, 160 * s, 430 * s, 215 * s), radius=16 * s, fill=dark)
        draw.rounded_rectangle((200 * s, 230 * s, 228 * s, 450 * s), radius=14 * s, fill=light)
        return 210 * s, 300 * s, 390 * s, 380 * s
    if shape == "sack":
        draw.polygon([(210 * s, 170 * s), (390 * s, 170 * s), (440 * s, 300 * s), (430 * s, 470 * s),
                      (170 * s, 470 * s), (160 * s, 300 * s)], fill=colour)
        draw.rounded_rectangle((250 * s, 140 * s, 350 * s, 185 * s), radius=18 * s, fill=dark)
        return 205 * s, 310 * s, 395 * s, 390 * s
    if shape == "bar":
        draw.rounded_rectangle((130 * s, 200 * s, 470 * s, 420 * s), radius=18 * s, fill=colour)
        draw.rectangle((130 * s, 200 * s, 200 * s, 420 * s), fill=dark)
        draw.rectangle((400 * s, 200 * s, 470 * s, 420 * s), fill=dark)
        return 215 * s, 275 * s, 385 * s, 345 * s
    if shape == "round":
        draw.ellipse((150 * s, 130 * s, 450 * s, 430 * s), fill=colour)
        draw.ellipse((185 * s, 160 * s, 300 * s, 260 * s), fill=light)
        return 215 * s, 250 * s, 385 * s, 315 * s
    # "box": an appliance or a boxed set
    draw.rounded_rectangle((150 * s, 160 * s, 450 * s, 470 * s), radius=36 * s, fill=colour)
    draw.rounded_rectangle((170 * s, 180 * s, 430 * s, 230 * s), radius=16 * s, fill=dark)
    draw.ellipse((390 * s, 190 * s, 420 * s, 220 * s), fill=light)
    return 200 * s, 310 * s, 400 * s, 380 * s


@lru_cache(maxsize=128)
def _drawing(shape: str, hex_colour: str, tone: float, view: int) -> tuple[Image.Image, tuple]:
    """The background, shadow and body of one kind of goods (no label); cached."""
    base = _rgb(hex_colour)
    colour = _shade(base, 0.42 + 0.16 * tone)
    dark = _shade(base, 0.25)
    light = _shade(base, 0.72, 0.8)
    picture = _background(base, view)

    shadow = Image.new("L", (SIZE // 4, SIZE // 4), 0)
    ImageDraw.Draw(shadow).ellipse((34, 111, 116, 124), fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(4)).resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    picture.paste((60, 60, 60), (0, 0), shadow)

    layer = Image.new("RGBA", (SIZE * SCALE, SIZE * SCALE), (0, 0, 0, 0))
    label_box = _body(ImageDraw.Draw(layer), shape, colour, dark, light)
    layer = layer.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    if view:
        # The second picture: the same goods seen from the other side.
        layer = layer.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x0, y0, x1, y1 = label_box
        label_box = (SIZE * SCALE - x1, y0, SIZE * SCALE - x0, y1)
    picture.paste(layer, (0, 0), layer)
    return picture, tuple(v // SCALE for v in label_box)


def render(*, shape: str, colour: str, group: str, brand: str, view: int = 0, quality: int = 85) -> bytes:
    """A JPEG (SIZE x SIZE) of goods of `shape` in `colour`, labelled with `brand`."""
    picture, (x0, y0, x1, y1) = _drawing(shape, colour, round(_variation(group), 2), view)
    picture = picture.copy()
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((x0, y0, x1, y1), radius=10, fill=(255, 255, 255), outline=(40, 40, 40), width=2)
    size = 30
    font = _font(size)
    while size > 10 and draw.textlength(brand, font=font) > (x1 - x0) - 16:
        size -= 2
        font = _font(size)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), brand, fill=(30, 30, 30), font=font, anchor="mm")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, optimize=False, progressive=False)
    return out.getvalue()
