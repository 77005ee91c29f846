"""The drawn maps as files: real PNG and PDF from headless Chromium, HTML as is,
and errors that say what to do."""

from __future__ import annotations

import os
import re
import struct
import time
import zlib
from pathlib import Path

import pytest

from percorso.errors import UserError
from percorso.journey.render import (
    ChromiumFailed,
    ChromiumMissing,
    UnknownFormat,
    page_size,
    render_integrations_html,
    render_map_html,
    write_output,
)
from percorso.journey.views import IntegrationView, MapView
from tests.journey.samples import sample_integrations, sample_map

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def journey() -> MapView:
    """A small shop's map: five phases, two or three touchpoints each, pain points."""
    return sample_map()


@pytest.fixture
def integrations() -> IntegrationView:
    return sample_integrations()


# ---------------------------------------------------------------- output files


def png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct RGB colours of a non-interlaced 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    kind, header = chunks[0]
    assert kind == b"IHDR"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) in ((8, 2, 0), (8, 6, 0))
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind_, row = line[0], bytearray(line[1:])
        for x in range(stride):
            a = row[x - channels] if x >= channels else 0
            up = previous[x]
            c = previous[x - channels] if x >= channels else 0
            if kind_ == 1:
                row[x] = (row[x] + a) & 0xFF
            elif kind_ == 2:
                row[x] = (row[x] + up) & 0xFF
            elif kind_ == 3:
                row[x] = (row[x] + (a + up) // 2) & 0xFF
            elif kind_ == 4:
                p = a + up - c
                pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 0xFF
        if y % 7 == 0:  # a sample of rows is plenty to tell a drawing from a blank page
            colours.update(bytes(row[i : i + 3]) for i in range(0, stride, channels * 3))
        previous = row
    return width, height, colours


@pytest.mark.browser
def test_the_map_as_png_is_a_real_drawing_of_the_computed_size(
    journey: MapView, tmp_path: Path
) -> None:
    out = tmp_path / "map.png"
    size = page_size(journey)
    write_output(render_map_html(journey, "it"), out, size, chromium=CHROMIUM)
    width, height, colours = png_pixels(out.read_bytes())
    assert (width, height) == size
    # A blank or single-colour page has a handful; phase bands, cards and text have hundreds.
    assert len(colours) > 200
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # no partial file left


@pytest.mark.browser
def test_the_integration_map_as_png(integrations: IntegrationView, tmp_path: Path) -> None:
    out = tmp_path / "integrations.png"
    size = page_size(integrations)
    write_output(render_integrations_html(integrations, "en"), out, size, chromium=CHROMIUM)
    width, height, colours = png_pixels(out.read_bytes())
    assert (width, height) == size
    assert len(colours) > 100


@pytest.mark.browser
def test_the_map_as_pdf_is_one_page_of_the_computed_size(journey: MapView, tmp_path: Path) -> None:
    out = tmp_path / "map.pdf"
    size = page_size(journey)
    write_output(render_map_html(journey, "en"), out, size, chromium=CHROMIUM)
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 1
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert box is not None
    # PDF points are 3/4 of a CSS pixel.
    assert abs(float(box.group(1)) - size[0] * 0.75) < 1
    assert abs(float(box.group(2)) - size[1] * 0.75) < 1


def test_html_output_is_the_page(journey: MapView, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    html = render_map_html(journey, "it")
    write_output(html, out, page_size(journey), chromium="/nonexistent")
    assert out.read_text(encoding="utf-8") == html
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file the user writes
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


@pytest.mark.parametrize("name", ["map.svg", "map", "map.jpeg"])
def test_an_unknown_suffix_says_which_work(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnknownFormat, match=r"use \.html, \.png or \.pdf"):
        write_output("<p>x</p>", tmp_path / name, (100, 100))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_no_chromium_says_how_to_get_it(tmp_path: Path, suffix: str) -> None:
    with pytest.raises(ChromiumMissing, match=r"apt install chromium.*\.html works without it"):
        write_output("<p>x</p>", tmp_path / f"map{suffix}", (100, 100), chromium="/nonexistent")
    assert list(tmp_path.iterdir()) == []
    assert issubclass(ChromiumMissing, UserError)


def test_a_failing_chromium_leaves_no_file_and_shows_its_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display: nowhere' >&2\nexit 3\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ChromiumFailed, match="exit code 3: cannot open display: nowhere"):
        write_output("<p>x</p>", out / "map.png", (100, 100), chromium=str(fake))
    assert list(out.iterdir()) == []


def test_a_hanging_chromium_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    fake = tmp_path / "slow-chromium"
    fake.write_text("#!/bin/sh\nsleep 60\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    started = time.monotonic()
    with pytest.raises(ChromiumFailed, match=r"did not finish in 0\.5 s"):
        write_output("<p>x</p>", out / "map.pdf", (100, 100), chromium=str(fake), timeout=0.5)
    assert time.monotonic() - started < 10
    assert list(out.iterdir()) == []


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        write_output("<p>x</p>", tmp_path / "nope" / "map.html", (100, 100))
