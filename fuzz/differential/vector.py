#!/usr/bin/env python3
"""Writes a spec-style vector JSON for a minimised differential finding (fuzz/differential/run.sh).

    vector.py FILE.bin KEY KIND WHAT EVIDENCE DIALECT IMPLEMENTATION CHECK

CHECK is the classify output of diff_bytes on FILE.bin (NSB-DIFF-OURS / NSB-DIFF-CLASSIFY lines, joined).
"""
import json
import re
import sys


def outcome(check, mode):
    m = re.search(rf"NSB-DIFF-OURS {mode} (ok|error (\S+) (\S+))", check)
    if not m:
        return None
    if m.group(1) == "ok":
        return {"plan": "accepted (see explain)"}
    off = m.group(3)
    return {"error": {"class": m.group(2), "offset": None if off == "-" else int(off)}}


def main():
    path, key, kind, what, evidence, dialect, impl, check = sys.argv[1:9]
    data = open(path, "rb").read()
    known = not key.startswith("NEW:")
    m = re.search(r"NSB-DIFF-CLASSIFY \S+ (.*?)(?= NSB-DIFF-|$)", check)
    if m:
        what = m.group(1).strip()
    doc = {
        "description": f"Found by the differential fuzzer (fuzz/differential/run.sh), minimised: {what}",
        "dialect": dialect,
        "strict": outcome(check, "strict"),
        "lenient": outcome(check, "lenient"),
        "implementation": {
            "name": impl,
            "outcome": kind,
            "evidence": evidence or None,
            "finding": key,
            "departure": key if re.fullmatch(r"R\d+", key) else None,
            "known": known,
        },
        "hex": data.hex(),
    }
    print(json.dumps(doc, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
