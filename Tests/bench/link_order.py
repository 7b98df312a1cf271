#!/usr/bin/env python3
"""Writes Sources/mage-vault/link-order.txt: the functions mage-vault's everyday commands run,
in the order the linker should lay them out (`make link-order`).

A command runs once per process, so what it costs is mostly first touches: every 64 KiB
window of the program's code that it runs in is a page fault (the kernel maps the window's
pages around the one touched). Laid out as the compiler emits them, the code `--version`
runs sat in 51 of the 90 windows. Listed here, lld puts these functions side by side
(`--symbol-ordering-file`, with every function in a section of its own: `-function-sections`):
`--version` then takes 122 page faults instead of 151, `get` 167 instead of 203, `list` of
1,000 names 285 instead of 314 (`perf stat -e page-faults`). Most of the code faults left are
in the one section the standard library's local functions share, which no list can split.
The list changes nothing but addresses: a function missing from it (renamed since) is laid
out as before, and only its first call costs a fault again.

How the list is made: each command below runs once under valgrind's callgrind, on a scratch
vault of made-up secrets; every function it enters is taken, the commands' groups in the
order below (start first, then `get`, `list`, ...). Functions inside a section that holds far
more than one function (the Swift standard library's local functions share one 1.6 MB
section) are left out: naming one would move that whole section into the middle of the
others. The link map (`--Map`) of the binary tells which those are.

Usage: link_order.py --binary .build/release/mage-vault --map .build/mage-vault.map --output FILE
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# A section at least this large holds many functions, not one.
SHARED_SECTION_BYTES = 32 << 10


def commands(data, template):
    """(group, arguments, standard input) of each command profiled, most important first."""
    return [
        ("start", ["--version"], None),
        ("get", ["get", "made_up_1", "--data-dir", data], None),
        ("list", ["list", "--data-dir", data], None),
        ("set", ["set", "made_up_new", "--data-dir", data], b"made-up value"),
        ("render", ["render", template, "--data-dir", data], None),
        ("exec", ["exec", "--data-dir", data, "--", "/bin/true"], None),
        ("help", ["help"], None),
        ("history", ["history", "made_up_1", "--data-dir", data], None),
        ("delete", ["delete", "made_up_new", "--data-dir", data], None),
        ("env", ["env", "--data-dir", data], None),
        ("verify", ["verify", "--data-dir", data], None),
    ]


def run(arguments, stdin=None):
    result = subprocess.run(arguments, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"link_order: {' '.join(arguments[:3])}... exited with {result.returncode}: {result.stderr.decode(errors='replace')[-400:]}")
    return result


def functions_entered(callgrind_output):
    """Every function a callgrind profile names, mangled, in the order it first appears."""
    names = []
    seen = set()
    with open(callgrind_output, encoding="utf-8", errors="replace") as profile:
        for line in profile:
            match = re.match(r"^c?fn=\(\d+\) (.+)$", line.rstrip("\n"))
            if not match:
                continue
            name = re.sub(r"'\d+$", "", match.group(1))  # callgrind's recursion marks
            if name not in seen:
                seen.add(name)
                names.append(name)
    return names


def section_sizes(link_map):
    """Each symbol of .text with the size of the input section it is in. lld's map indents
    its columns: output sections, then input sections 8 columns further in, then symbols 8
    more (a symbol may start with a dot, as libsodium's assembly labels do)."""
    sizes = {}
    in_text = False
    section = None
    with open(link_map, encoding="utf-8", errors="replace") as lines:
        next(lines, None)  # the column titles
        for line in lines:
            match = re.match(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ ( *)(\S.*)$", line.rstrip("\n"))
            if not match:
                continue
            size, depth, name = int(match.group(1), 16), len(match.group(2)), match.group(3)
            if depth == 0:  # an output section
                if in_text:
                    break
                in_text = name == ".text"
            elif in_text and depth == 8:
                section = size
            elif in_text and section is not None:
                sizes[name] = section
    return sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--map", required=True)
    parser.add_argument("--output", required=True)
    options = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("link_order: valgrind is not installed (make link-order installs it)")
    sizes = section_sizes(options.map)
    if not sizes:
        sys.exit(f"link_order: no .text symbols in {options.map}")
    with tempfile.TemporaryDirectory() as scratch:
        # valgrind reads the symbol table, not the debug information (whose DWARF 5 from
        # the C targets it cannot read): profile a copy without it.
        binary = os.path.join(scratch, "mage-vault")
        run(["strip", "-g", "-o", binary, options.binary])
        data = os.path.join(scratch, "data")
        run([binary, "init", "--data-dir", data])
        for number in range(1, 201):
            run([binary, "set", f"made_up_{number}", "--data-dir", data], f"made-up value {number}".encode())
        template = os.path.join(scratch, "io_config.yaml")
        with open(template, "w") as file:
            file.write("password: \"{{ mage_secret_var('made_up_1') }}\"\n")
        order = []
        placed = set()
        symbols = set(sizes)
        for group, arguments, stdin in commands(data, template):
            profile = os.path.join(scratch, f"callgrind.{group}")
            run(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={profile}", binary, *arguments], stdin)
            for name in functions_entered(profile):
                # glibc picks its string functions by the CPU at start; valgrind's CPU is not
                # this one, so take every variant of each (they are small).
                variants = [name]
                variant = re.match(r"^(__(?:mem|str|stp|wmem|wcs|raw)[a-z0-9]*)_(?:avx|evex|sse|erms)", name)
                if variant:
                    variants = sorted(s for s in symbols if s.startswith(variant.group(1) + "_"))
                for symbol in variants:
                    if symbol in sizes and sizes[symbol] < SHARED_SECTION_BYTES and symbol not in placed:
                        placed.add(symbol)
                        order.append(symbol)
    with open(options.output, "w") as output:
        output.write("# The functions mage-vault's everyday commands run, in the order lld lays them out\n")
        output.write("# (--symbol-ordering-file): written by `make link-order` (Tests/bench/link_order.py).\n")
        output.write("\n".join(order) + "\n")
    print(f"link_order: {len(order)} functions in {options.output}")


if __name__ == "__main__":
    main()
