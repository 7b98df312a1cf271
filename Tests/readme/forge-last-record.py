#!/usr/bin/env python3
"""The README test's stand-in for someone who edits a vault log without its key: changes one
character of the sealed body of the log's last record line and writes a matching CRC-32C,
so the line still parses but no longer opens (authentication fails).

    forge-last-record.py LOG
"""
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


path = sys.argv[1]
with open(path, "rb") as file:
    lines = file.read().split(b"\n")
last = len(lines) - 2  # the file ends with a newline
body = bytearray(lines[last][:-9])  # without " <crc32c>"
position = len(body) - 12  # inside the base64 of the sealed body
body[position] = ord("A") if body[position] != ord("A") else ord("B")
lines[last] = bytes(body) + b" " + b"%08x" % crc32c(bytes(body))
with open(path, "wb") as file:
    file.write(b"\n".join(lines))
