"""Posters: A4 at 300 dpi, one per band, and the QR codes drawn really encode the web chat and tel:111."""

from __future__ import annotations

import re

import pytest
import segno
from PIL import Image

from bot import posters

URL = "https://school.example/webhooks/webchat/"


def drawn_matrix(image, left: int, top: int, module: int, n: int) -> list[list[bool]]:
    """Read the QR back from the pixels: the colour at each module's centre."""
    px = image.convert("L").load()
    return [
        [px[left + c * module + module // 2, top + r * module + module // 2] < 128 for c in range(n)]
        for r in range(n)
    ]


@pytest.mark.parametrize("band", ["6-10", "11-14", "15-17"])
def test_each_band_has_an_a4_poster_whose_qr_codes_encode_the_chat_and_111(band):
    poster = posters.make(band, URL)
    assert poster.image.size == (2480, 3508)
    for key, data in (("web", URL), ("111", "tel:111")):
        expected = [[bool(v) for v in row] for row in segno.make(data, error="m", micro=False).matrix]
        left, top, module = poster.codes[key]
        assert module >= 10  # about 1 mm or more per module: scannable from a wall
        assert drawn_matrix(poster.image, left, top, module, len(expected)) == expected


def test_write_all_and_bad_urls(tmp_path):
    paths = posters.write_all(URL, tmp_path)
    assert [p.name for p in paths] == [
        "poster-6-10.png",
        "poster-11-14.png",
        "poster-15-17.png",
        "posters.pdf",
    ]
    assert Image.open(paths[0]).info["dpi"][0] == pytest.approx(300, abs=1)
    pdf = paths[-1].read_bytes()
    assert (
        pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 3
    )  # one A4 page per band
    with pytest.raises(ValueError):
        posters.make("11-14", "javascript:alert(1)")
    with pytest.raises(ValueError):
        posters.make("18-99", URL)
