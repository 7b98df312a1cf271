#!/usr/bin/env python3
"""The start-up rule, checked on the shipped binary (`make startup-test`).

ARCHITECTURE.md, *The start-up rule*: nothing on the start path may need a protocol
conformance the Swift runtime has to look up, because the first lookup of each one searches
every conformance record of the program (some 50 µs in the static binary). Such lookups
come from code that reads well: a `Set` or `Dictionary` keyed by a new type, a `Result` kept
in a value, a generic type named by its mangled name. Only the optimised build makes them
(it refers to generic types by mangled name), so this runs the release binary.

Each start-path command runs once under gdb with a breakpoint on the runtime's lookup
(`swift_conformsToProtocolMaybeInstantiateSuperclasses`); every stop prints the type and
the protocol. A pair not in ALLOWED fails the check with the command, the two names and
the first frames of our code that asked for it.

Usage: conformance_lookups.py --binary .build/release/mage-vault
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

# The runtime function every conformance lookup goes through, as the static binary names it.
LOOKUP = "_ZL52swift_conformsToProtocolMaybeInstantiateSuperclassesPKN5swift14TargetMetadataINS_9InProcessEEEPKNS_24TargetProtocolDescriptorIS1_EEb"

# (type, protocol) lookups the start path may make, and why each is worth its 50 µs.
ALLOWED = {
    # The parser's options, a [String: [String]]: every command but `--version` builds one.
    ("Swift.String", "Swift.Hashable"),
}

# The start path (ARCHITECTURE.md): what a pipeline step runs, read and write.
COMMANDS = [
    ["--version"],
    ["get", "secret1"],
    ["get", "secret1", "--project", "sales"],
    ["get", "not_there"],
    ["list"],
    ["set", "secret2"],
    ["delete", "secret2"],
    # A member of a team after a removal: the access file is read on the way.
    ["get", "secret1", "--data-dir", "TEAM"],
]

GDB_SCRIPT = f"""set pagination off
set confirm off
break {LOOKUP}
commands
silent
printf "=lookup\\n"
info symbol $rsi
info symbol $rdx
bt 30
printf "=end\\n"
continue
end
run
"""


def demangle(symbols):
    """Swift's names for mangled symbols (`$sSSN` → Swift.String)."""
    if not symbols:
        return {}
    out = subprocess.run(["swift", "demangle", "--compact"], input="\n".join(symbols) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    names = {}
    for symbol, name in zip(symbols, out):
        # Type metadata (`…N`) and protocol descriptors (`…Mp`) demangle with a prefix.
        names[symbol] = re.sub(r"^(type metadata for |protocol descriptor for )", "", name)
    return names


def lookups(binary, arguments, environment, stdin):
    """The (type symbol, protocol symbol, our frames) of each lookup one run makes."""
    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as script:
        script.write(GDB_SCRIPT)
    try:
        result = subprocess.run(["gdb", "-q", "-batch", "-x", script.name, "--args", binary] + arguments,
                                input=stdin, capture_output=True, text=True, env=environment, timeout=120)
    finally:
        os.unlink(script.name)
    output = result.stdout + result.stderr
    if not re.search(r"^Breakpoint 1 at 0x", output, re.M):
        sys.exit(f"startup-test: gdb could not break on the runtime's conformance lookup in {binary} "
                 f"(a stripped binary, or a runtime that renamed it):\n{output[-2000:]}")
    if "exited normally" not in output and "exited with code" not in output:
        sys.exit(f"startup-test: `mage-vault {' '.join(arguments)}` did not run to its end under gdb:\n{output[-2000:]}")
    found = []
    for block in re.findall(r"^=lookup\n(.*?)^=end$", output, re.M | re.S):
        lines = block.splitlines()
        def symbol(line):
            match = re.match(r"^(\S+) in section", line)
            return match.group(1) if match else None
        frames = [line for line in lines[2:] if "/Sources/" in line]
        found.append((symbol(lines[0]), symbol(lines[1]), frames[:3]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    binary = os.path.abspath(parser.parse_args().binary)
    if not shutil.which("gdb"):
        sys.exit("startup-test: gdb is needed (make startup-test installs it)")
    home = tempfile.mkdtemp(prefix="startup-test-")
    try:
        data = os.path.join(home, "data dir")  # a space, as users have them
        environment = {"HOME": home, "PATH": "/usr/bin:/bin", "MAGE_DATA_DIR": data}
        # In a project checkout, as users keep it: every key file read checks git's index.
        subprocess.run(["git", "init", "-q", home], check=True, capture_output=True)
        with open(os.path.join(home, "pipeline.py"), "w") as source:
            source.write("# made up\n")
        subprocess.run(["git", "-C", home, "add", "pipeline.py"], check=True, capture_output=True)
        for name in ("secret1", "other"):
            subprocess.run([binary, "set", name], input=b"made-up-startup", env=environment, check=True,
                           capture_output=True)
        os.makedirs(os.path.join(data, "sales"), exist_ok=True)
        # A team's vault: alice (this HOME's identity), a teammate, and bob, removed.
        team = os.path.join(home, "team data")
        subprocess.run([binary, "set", "secret1", "--data-dir", team], input=b"made-up-team", env=environment, check=True,
                       capture_output=True)
        for name in ("alice", "carol", "bob"):
            person = dict(environment, HOME=os.path.join(home, name))
            line = subprocess.run([binary, "identity"], env=person if name != "alice" else environment, check=True,
                                  capture_output=True, text=True).stdout
            recipient = next(l.split()[1] for l in line.splitlines() if l.startswith("recipient"))
            subprocess.run([binary, "access", "add", recipient, "--name", name, "--data-dir", team], env=environment,
                           check=True, capture_output=True)
        subprocess.run([binary, "access", "remove", "bob", "--data-dir", team], env=environment, check=True,
                       capture_output=True)
        seen, failures = 0, []
        for arguments in COMMANDS:
            arguments = [team if word == "TEAM" else word for word in arguments]
            found = lookups(binary, arguments, environment, "made-up-startup-2" if arguments[0] == "set" else "")
            seen += len(found)
            names = demangle(sorted({s for t, p, _ in found for s in (t, p) if s}))
            for type_symbol, protocol_symbol, frames in found:
                pair = (names.get(type_symbol, "a generic type instantiated at run time"), names.get(protocol_symbol, "?"))
                if pair not in ALLOWED:
                    failures.append(f"  mage-vault {' '.join(arguments)}: {pair[0]}: {pair[1]}\n" +
                                    "".join(f"      {frame.strip()}\n" for frame in frames))
            print(f"startup-test: mage-vault {' '.join(arguments)}: {len(found)} conformance lookup(s)"
                  + "".join(f", {names.get(t, '?')}: {names.get(p, '?')}" for t, p, _ in found), flush=True)
        # The probe's own check: the parser's lookup above happens in every command with
        # options, so a run that saw none at all did not watch the program.
        if seen == 0:
            sys.exit("startup-test: no conformance lookup was seen at all: the breakpoint is not watching")
        if failures:
            sys.exit("startup-test: the start path looks up conformances it did not before "
                     "(ARCHITECTURE.md, the start-up rule; each costs some 50 µs per start):\n" + "".join(failures))
        print("startup-test: the start path makes no conformance lookup beyond the allowed one")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
