"""Counts the pixels of a PNG near a colour: pngcolor.py FILE RRGGBB [TOLERANCE].

Prints the width, the height and the count. Reads the 8-bit RGB/RGBA PNGs
that headless Chromium writes with zlib and the five PNG row filters, so the
status page test can check that its chart was really drawn (no PIL needed).
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError("only 8-bit RGB or RGBA")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, channels, zlib.decompress(idat)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def rows(width, height, channels, raw):
    stride, prev, pos = width * channels, bytearray(width * channels), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            line[i] = (line[i] + (0, left, up, (left + up) // 2, paeth(left, up, corner))[kind]) & 255
        yield line
        prev = line


def main():
    path, hexcolour = sys.argv[1], sys.argv[2]
    tolerance = int(sys.argv[3]) if len(sys.argv) > 3 else 24
    want = tuple(int(hexcolour[i:i + 2], 16) for i in (0, 2, 4))
    width, height, channels, raw = read_png(path)
    count = 0
    for line in rows(width, height, channels, raw):
        for x in range(0, width * channels, channels):
            if all(abs(line[x + k] - want[k]) <= tolerance for k in range(3)):
                count += 1
    print(width, height, count)


if __name__ == "__main__":
    main()
