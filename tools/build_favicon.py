#!/usr/bin/env python3
"""Build tickets/static/console/favicon.ico (16, 32 and 48 px) from favicon.svg, for browsers
and tools that ask for /favicon.ico or cannot use an SVG icon. Renders the SVG in headless
Chromium (Playwright, a test dependency; Debian's /usr/bin/chromium) and packs the PNGs into
one ICO file (PNG entries, valid since Windows Vista). Run after editing the SVG; commit both.

    .venv/bin/python tools/build_favicon.py
"""

import base64
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "tickets" / "static" / "console"
SIZES = (16, 32, 48)


def render(svg: str, sizes=SIZES) -> list[bytes]:
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    pngs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        for size in sizes:
            page.set_viewport_size({"width": size, "height": size})
            page.set_content(f'<body style="margin:0;background:transparent"><img src="{uri}" width="{size}" height="{size}"></body>')
            page.wait_for_load_state()
            pngs.append(page.screenshot(omit_background=True))
        browser.close()
    return pngs


def ico(pngs: list[bytes], sizes=SIZES) -> bytes:
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in zip(sizes, pngs, strict=True):
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


if __name__ == "__main__":
    out = STATIC / "favicon.ico"
    out.write_bytes(ico(render((STATIC / "favicon.svg").read_text())))
    print(f"{out}: {out.stat().st_size} bytes")
