#!/usr/bin/env python3
"""Prints the differential run's findings table (fuzz/differential/run.sh).

    table.py FINDINGS.tsv spec/PROTOCOL.md

FINDINGS.tsv: key, kind, seconds since the target's start, target, reproducer, what (one line per hit
seen by the script: each libFuzzer stop, and each finding's first sighting in a fuzzing process).
"""
import re
import sys


def titles(protocol):
    out = {}
    try:
        text = open(protocol, encoding="utf-8").read()
    except OSError:
        return out
    for m in re.finditer(r"^- \*\*(R\d+)\. (.+?)\*\*", text, re.M):
        out[m.group(1)] = m.group(2).rstrip(".")
    return out


def main():
    rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8", errors="replace") if l.strip()]
    names = titles(sys.argv[2]) if len(sys.argv) > 2 else {}
    first = {}
    # One row per finding and kind: a departure seen both as a fault (crash, hang) and as a silent
    # disagreement gets two rows, each with its own time to first hit.
    for key, kind, at, target, repro, what in (r + [""] * (6 - len(r)) for r in rows):
        t = float(at or 0)
        e = first.setdefault((key, kind), {"kinds": [kind], "t": t, "hits": 0, "repro": repro, "what": what, "target": target})
        e["hits"] += 1
        if t < e["t"]:
            e.update(t=t, repro=repro, what=what, target=target)
    order = sorted(first.items(), key=lambda kv: (kv[0][0].startswith("§"), kv[1]["t"]))
    print("| finding | kind | known/new | id | first hit | rounds | target | reproducer |")
    print("|---|---|---|---|---|---|---|---|")
    new = 0
    for (key, _kind), e in order:
        if key.startswith("NEW:"):
            status, ident, label = "**NEW**", "-", e["what"][:90]
            new += 1
        elif key.startswith("§"):
            status, ident, label = "spec allows", key.split(":")[0], key.split(":", 1)[1]
        else:
            status, ident, label = "known", key, names.get(key, e["what"][:90])
        print(f"| {label} | {', '.join(e['kinds'])} | {status} | {ident} | {e['t']:.2f} s | {e['hits']} | {e['target']} | {e['repro']} |")
    departures = sorted({k for k, _ in first if re.fullmatch(r"R\d+", k)}, key=lambda k: int(k[1:]))
    print()
    print(f"known departures seen: {', '.join(departures) or 'none'}; new: {new}")


if __name__ == "__main__":
    main()
