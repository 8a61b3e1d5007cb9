#!/usr/bin/python3
"""Finds where a file's data landed on a raw disk, without knowing the layers above it.

  rawdiff.py snap DEVICE OUT [FROM]   hashes DEVICE in 4 KiB blocks (from byte FROM) into OUT
  rawdiff.py pick BEFORE AFTER        prints the byte offset of the middle block of the longest
                                      run of blocks that changed between the two snapshots

Writing a large file of random data changes one long run of blocks (its data, encrypted, and below
dm-integrity interleaved only every 16 MiB with a run of tags); everything else a write changes
(inode, bitmaps, journals) is short. The middle of the longest run is inside the file's data.
"""
import hashlib
import sys

BLOCK = 4096


def snap(device, out, start):
    with open(device, "rb", buffering=0) as disk, open(out, "w") as result:
        result.write(f"{start}\n")
        disk.seek(start)
        while True:
            block = disk.read(BLOCK)
            if len(block) < BLOCK:
                break
            result.write(hashlib.blake2b(block, digest_size=8).hexdigest() + "\n")


def pick(before, after):
    with open(before) as a, open(after) as b:
        start = int(a.readline())
        if int(b.readline()) != start:
            sys.exit("snapshots start at different offsets")
        best = (0, 0)
        run_start, run = 0, 0
        index = 0
        for old, new in zip(a, b):
            if old != new:
                if run == 0:
                    run_start = index
                run += 1
                if run > best[1]:
                    best = (run_start, run)
            else:
                run = 0
            index += 1
    if best[1] < 16:
        sys.exit(f"no long run of changed blocks (longest: {best[1]})")
    print(start + (best[0] + best[1] // 2) * BLOCK)


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    elif sys.argv[1] == "pick":
        pick(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
