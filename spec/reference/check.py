#!/usr/bin/env python3
"""Run the reference decoder over every vector of spec/vectors in both modes.

For each NAME.json in spec/vectors/valid and spec/vectors/invalid, decodes
NAME.bin in the vector's dialect, in strict and in lenient mode, and compares
with the JSON's "strict" and "lenient" outcome: plan equality, or error class
and offset equality.  Prints one line per mismatch, then `N passed, M failed`
(one count per vector and mode).  Exit status 1 on any mismatch or when no
vector is found, 0 otherwise.  Works from any current directory.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ beside the sources
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from nsbootstrap_ref import DecodeError, decode  # noqa: E402

VECTORS = os.path.join(os.path.dirname(HERE), "vectors")


def outcome(data, dialect, mode):
    try:
        return {"plan": decode(data, dialect, mode, byteorder="little")}
    except DecodeError as e:
        return {"error": {"class": e.cls, "offset": e.offset}}


def describe(result):
    if "error" in result:
        return "error %s @%d" % (result["error"]["class"], result["error"]["offset"])
    return "plan %s" % json.dumps(result["plan"], sort_keys=True)


def main():
    passed = failed = 0
    for kind in ("valid", "invalid"):
        folder = os.path.join(VECTORS, kind)
        if not os.path.isdir(folder):
            continue
        for fname in sorted(os.listdir(folder)):
            if not fname.endswith(".json"):
                continue
            name = "%s/%s" % (kind, fname[:-len(".json")])
            with open(os.path.join(folder, fname), encoding="utf-8") as f:
                vector = json.load(f)
            try:
                with open(os.path.join(folder, fname[:-len(".json")] + ".bin"), "rb") as f:
                    data = f.read()
            except OSError as e:
                failed += 2
                print("MISMATCH %s: cannot read its .bin: %s" % (name, e))
                continue
            for mode in ("strict", "lenient"):
                expected = vector[mode]
                if "error" in expected:
                    expected = {"error": {"class": expected["error"]["class"],
                                          "offset": expected["error"]["offset"]}}
                got = outcome(data, vector["dialect"], mode)
                if got == expected:
                    passed += 1
                else:
                    failed += 1
                    print("MISMATCH %s [%s]: expected %s, got %s"
                          % (name, mode, describe(expected), describe(got)))
    if passed + failed == 0:
        print("no vector found under %s" % VECTORS)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed + failed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
