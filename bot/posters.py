"""Printable A4 posters per age band (`make posters URL=https://…`): schools put the bot on their walls.

Each poster has a few lines in the band's words, a QR code to the web chat (`URL`) and one that dials
111 (`tel:111`), and 111 written large: a child without a phone or data still sees the number.
Pillow draws it (300 dpi A4), segno makes the QR codes (pure Python, pinned in requirements.lock),
the DejaVu font that matplotlib ships has every Vietnamese diacritic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

DPI = 300
A4 = (2480, 3508)  # 210 x 297 mm at 300 dpi
MARGIN = 180
INK, ACCENT, PAPER = (17, 24, 39), (47, 111, 143), (255, 255, 255)

TEXTS: dict[str, tuple[str, list[str]]] = {
    "6-10": (
        "Trên mạng có chuyện làm bạn sợ hay buồn?",
        [
            "Không nói tên, nhà, trường cho người lạ.",
            "Không gửi ảnh cho người lạ.",
            "Ai bắt bạn giữ bí mật: kể ngay với bố mẹ, thầy cô.",
        ],
    ),
    "11-14": (
        "Bị bắt nạt, bị dọa tung ảnh, bị lừa mất acc?",
        [
            "Không phải lỗi của bạn. Kể ra là dũng cảm.",
            "Chụp màn hình, chặn, báo cáo; đừng gửi thêm gì.",
            "Nhắn cho trợ lý an toàn, hoặc gọi 111.",
        ],
    ),
    "15-17": (
        "Bị đe dọa, tống tiền bằng ảnh, hay thấy quá sức?",
        [
            "Không trả tiền, không gửi thêm ảnh; giữ lại bằng chứng.",
            "Ảnh bị phát tán: 111 giúp bạn gỡ.",
            "Nghĩ đến chuyện làm hại bản thân: gọi 111 ngay.",
        ],
    ),
}


@dataclass
class Poster:
    band: str
    image: Image.Image
    #: Where each QR code was drawn: {"web": (left, top, module size), "111": ...}, for tests.
    codes: dict[str, tuple[int, int, int]]


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + [line] if line else lines


def _qr(image: Image.Image, data: str, left: int, top: int, size: int) -> tuple[int, int, int]:
    code = segno.make(data, error="m", micro=False)
    matrix = list(code.matrix)
    module = size // (len(matrix) + 8)  # 4 modules of quiet zone on each side
    x0, y0 = left + 4 * module, top + 4 * module
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                draw.rectangle(
                    [x0 + c * module, y0 + r * module, x0 + (c + 1) * module - 1, y0 + (r + 1) * module - 1],
                    fill=(0, 0, 0),
                )
    return x0, y0, module


def make(band: str, url: str) -> Poster:
    if band not in TEXTS:
        raise ValueError(f"unknown age band {band!r}")
    if not url.startswith(("https://", "http://")):
        raise ValueError("URL must start with https:// (the web chat's address)")
    title, lines = TEXTS[band]
    image = Image.new("RGB", A4, PAPER)
    draw = ImageDraw.Draw(image)
    width = A4[0] - 2 * MARGIN
    draw.rectangle([0, 0, A4[0], 90], fill=ACCENT)
    y = 260
    for part in _wrap(draw, title, _font(130, bold=True), width):
        draw.text((MARGIN, y), part, font=_font(130, bold=True), fill=INK)
        y += 165
    y += 60
    for line in lines:
        for n, part in enumerate(_wrap(draw, line, _font(78), width - 90)):
            if n == 0:
                draw.ellipse([MARGIN, y + 28, MARGIN + 34, y + 62], fill=ACCENT)
            draw.text((MARGIN + 90, y), part, font=_font(78), fill=INK)
            y += 105
        y += 25
    # 111, large
    y += 60
    draw.rounded_rectangle([MARGIN, y, A4[0] - MARGIN, y + 430], radius=40, fill=ACCENT)
    draw.text((A4[0] // 2, y + 170), "Gọi 111", font=_font(220, bold=True), fill=PAPER, anchor="mm")
    draw.text(
        (A4[0] // 2, y + 340),
        "Tổng đài bảo vệ trẻ em · miễn phí · 24/7",
        font=_font(70),
        fill=PAPER,
        anchor="mm",
    )
    y += 520
    # two QR codes with their captions
    size = 900
    codes = {
        "web": _qr(image, url, MARGIN, y, size),
        "111": _qr(image, "tel:111", A4[0] - MARGIN - size, y, size),
    }
    cap = _font(64, bold=True)
    draw.text((MARGIN + size // 2, y + size + 30), "Quét để nhắn trợ lý", font=cap, fill=INK, anchor="mt")
    draw.text((A4[0] - MARGIN - size // 2, y + size + 30), "Quét để gọi 111", font=cap, fill=INK, anchor="mt")
    small = _font(46)
    draw.text((MARGIN, A4[1] - 200), url, font=small, fill=INK)
    draw.text(
        (MARGIN, A4[1] - 130),
        f"Dành cho học sinh {band} tuổi. Trò chuyện kín đáo; không cần nói tên.",
        font=small,
        fill=INK,
    )
    return Poster(band, image, codes)


def write_all(url: str, out_dir: Path) -> list[Path]:
    """posters/poster-<band>.png (A4, 300 dpi) for each band, plus posters/posters.pdf with all of them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    posters = [make(band, url) for band in TEXTS]
    paths = []
    for p in posters:
        path = out_dir / f"poster-{p.band}.png"
        p.image.save(path, dpi=(DPI, DPI))
        paths.append(path)
    pdf = out_dir / "posters.pdf"
    posters[0].image.save(pdf, save_all=True, append_images=[p.image for p in posters[1:]], resolution=DPI)
    return paths + [pdf]
