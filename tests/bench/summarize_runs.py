#!/usr/bin/env python3
"""Min / median / max of every number tests/bench/access_runs.sh printed, per section and mode.

    python3 tests/bench/summarize_runs.py RUNS.log
"""
import re
import statistics
import sys
from collections import defaultdict

MODE = re.compile(r"^(bare|health|check|check-structure|batch|list)\s+(\d+) calls/s(?: \((\d+) verified decisions/s\))?"
                  r"\s+p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+p99.9 ([\d.]+) ms\s+loader ([\d.]+) cores \(([\d.]+) us a call\)"
                  r"(?:\s+server ([\d.]+) cores \(([\d.]+) us a (?:call|decision)\))?")
RATIO = re.compile(r"^(\S+) / (\S+): QPS ([\d.]+)(?:, capacity \(server CPU a call\) ([\d.]+))?")
STARTUP = re.compile(r"^start-up: ([\d.]+) s .* resident (\d+) MiB")
INDEX = re.compile(r"access index of (\d+) accounts loaded in ([\d.]+)(m?s), (\d+) MiB \((\d+) bytes")
WRITES = re.compile(r"^writes: (\d+) committed \((\d+)/s\), p50 ([\d.]+) ms, p99 ([\d.]+) ms, (\d+) failed")
AFTER = re.compile(r"^resident after the run: (\d+) MiB")


def main(path):
    values = defaultdict(list)
    section = "start"
    for line in open(path):
        line = line.rstrip()
        if line.startswith("--- "):
            section = line[4:]
            continue
        if m := MODE.match(line):
            names = ["calls/s", "decisions/s", "p50 ms", "p99 ms", "p99.9 ms", "loader cores", "loader us/call",
                     "server cores", "server us/call"]
            for name, value in zip(names, m.groups()[1:]):
                if value is not None:
                    values[(section, m.group(1), name)].append(float(value))
        elif m := RATIO.match(line):
            values[(section, f"{m.group(1)}/{m.group(2)}", "QPS ratio")].append(float(m.group(3)))
            if m.group(4):
                values[(section, f"{m.group(1)}/{m.group(2)}", "capacity ratio")].append(float(m.group(4)))
        elif m := STARTUP.match(line):
            values[("start", "habilisd", "start-up s")].append(float(m.group(1)))
            values[("start", "habilisd", "resident MiB")].append(float(m.group(2)))
        elif m := INDEX.search(line):
            values[("start", "index", "MiB")].append(float(m.group(4)))
            values[("start", "index", "bytes/account")].append(float(m.group(5)))
        elif m := WRITES.match(line):
            values[(section, "writes", "per s")].append(float(m.group(2)))
            values[(section, "writes", "p99 ms")].append(float(m.group(4)))
            values[(section, "writes", "failed")].append(float(m.group(5)))
        elif m := AFTER.match(line):
            values[("end", "habilisd", "resident MiB")].append(float(m.group(1)))
    for (section, mode, name), numbers in values.items():
        print(f"{section:40} {mode:28} {name:16} min {min(numbers):10.3f}  median {statistics.median(numbers):10.3f}"
              f"  max {max(numbers):10.3f}  (n={len(numbers)})")


if __name__ == "__main__":
    main(sys.argv[1])
