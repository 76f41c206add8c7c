"""Open a page in Debian's headless chromium the way a person would see it: DOM text, a PNG, console errors."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions',
         '--disable-default-apps', '--hide-scrollbars', '--enable-logging=stderr', '--v=0',
         # no name resolves: a page that wanted an external asset could not fetch it (and would log the failure)
         '--host-resolver-rules=MAP * ~NOTFOUND')
# What chromium logs for a page's own problems: script errors, failed loads (external assets), CSP
CONSOLE_PROBLEM = re.compile(r'CONSOLE|Uncaught|Failed to load resource|net::ERR_|Refused to', re.I)


def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError('no chromium on PATH (scripts/test installs Debian\'s chromium)')


def _run(args, profile, timeout=120):
    cmd = [chromium(), *FLAGS, '--user-data-dir=' + profile, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def render(page, png, width=1500, height=1400):
    """{'text': visible text of the rendered DOM, 'errors': console problem lines, 'png': path,
    'distinct_colours': number of colours in a sample of the screenshot}."""
    url = 'file://' + os.path.abspath(page)
    png = os.path.abspath(png)
    os.makedirs(os.path.dirname(png), exist_ok=True)
    profile = tempfile.mkdtemp(prefix='berth-chromium-')
    try:
        dom = _run(['--dump-dom', url], profile)
        if dom.returncode != 0:
            raise RuntimeError('chromium --dump-dom failed (%d): %s' % (dom.returncode, dom.stderr[-2000:]))
        shot = _run(['--screenshot=' + png, '--window-size=%d,%d' % (width, height), url], profile)
        if shot.returncode != 0 or not os.path.exists(png):
            raise RuntimeError('chromium --screenshot failed (%d): %s' % (shot.returncode, shot.stderr[-2000:]))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    text = re.sub(r'<style>.*?</style>', ' ', dom.stdout, flags=re.S)
    text = re.sub(r'<[^>]+>', ' ', text)
    errors = [line for line in (dom.stderr + shot.stderr).splitlines() if CONSOLE_PROBLEM.search(line)]
    return {'text': re.sub(r'\s+', ' ', text), 'errors': errors, 'png': png, 'distinct_colours': colours(png)}


def _png_rows(path):
    """(width, height, bytes per pixel, rows of raw pixel bytes) of an 8-bit RGB/RGBA PNG."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('%s is not a PNG' % path)
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
        pos += 12 + length
    width, height, depth, colour_type = header[:4]
    if depth != 8 or colour_type not in (2, 6):
        raise ValueError('unsupported PNG (depth %d, colour type %d)' % (depth, colour_type))
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xff
            elif kind == 2:
                line[i] = (line[i] + b) & 0xff
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xff
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def colours(path, step=7):
    """How many distinct colours a grid sample of the PNG holds (1 = a blank page)."""
    width, height, bpp, rows = _png_rows(path)
    seen = set()
    for y in range(0, height, step):
        row = rows[y]
        for x in range(0, width, step):
            seen.add(row[x * bpp:x * bpp + 3])
    return len(seen)
