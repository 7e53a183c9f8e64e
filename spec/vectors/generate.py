#!/usr/bin/env python3
"""Generates the nsbootstrap test vectors (spec/vectors/{valid,invalid}/NAME.{bin,json}).

Every message is built here byte by byte with struct, from the declarative list at the bottom, without
any decoder: the vectors check decoders, so they must not come from one. Little-endian (the host order of
x86_64 and aarch64). Running the script again reproduces the files exactly; `--check` compares instead
of writing and exits 1 on any difference.
"""
import json
import os
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

INIT_MSG = 62000
CLONE_FLAGS, NS_PATHS, UID_MAP, GID_MAP, SETGROUPS, OOM, ROOTLESS, NEWUIDMAP, NEWGIDMAP, A27290 = range(27281, 27291)
CONSOLE = 27400

NS = {  # name -> clone flag
    "time": 0x00000080, "mnt": 0x00020000, "cgroup": 0x02000000, "uts": 0x04000000,
    "ipc": 0x08000000, "user": 0x10000000, "pid": 0x20000000, "net": 0x40000000,
}
ORDER = ["time", "mnt", "cgroup", "uts", "ipc", "user", "pid", "net"]


def flags(*names, extra=0):
    v = extra
    for n in names:
        v |= NS[n]
    return v


def flag_names(v):
    out = [n for n in ORDER if v & NS[n]]
    rest = v & ~sum(NS.values())
    if rest:
        out.append("0x%08x" % rest)
    return out


def u32(v):
    return struct.pack("<I", v)


def text(s):
    """A string payload: the text and its NUL."""
    if isinstance(s, str):
        s = s.encode()
    return s + b"\0"


def attr(kind, payload, pad=None, nla_len=None):
    """One attribute: nla_len (unpadded unless given), type, payload, then padding (zeros unless given)."""
    n = 4 + len(payload) if nla_len is None else nla_len
    b = struct.pack("<HH", n, kind) + payload
    if pad is None:
        pad = b"\0" * ((4 - len(b) % 4) % 4)
    return b + pad


def message(*attrs, nlmsg_len=None, kind=INIT_MSG, flags_=1, seq=1, pid=0, tail=b""):
    body = b"".join(attrs)
    n = 16 + len(body) if nlmsg_len is None else nlmsg_len
    return struct.pack("<IHHII", n, kind, flags_, seq, pid) + body + tail


def netlink(flags_=1, seq=1, pid=0):
    return {"flags": flags_, "seq": seq, "pid": pid}


def idmap_text(ranges):
    return "".join("%d %d %d\n" % r for r in ranges)


def ranges_json(ranges):
    return [{"container_id": a, "host_id": b, "size": c} for a, b, c in ranges]


VALID = []
INVALID = []


def valid(name, dialect, data, plan, description, canonical=True):
    VALID.append((name, dialect, data, plan, description, canonical))


def invalid(name, dialect, data, cls, offset, description, lenient=None):
    """lenient: None = same error as strict; a dict = the plan lenient decoding gives;
    a (class, offset) tuple = another error."""
    INVALID.append((name, dialect, data, (cls, offset), description, lenient))


def plan(cf=0, **kw):
    p = {"netlink": kw.pop("netlink", netlink()), "clone_flags": flag_names(cf)}
    p.update(kw)
    return p


DIALECTS = ["runc-rc93", "runc-1.0", "runc-1.1", "runc-1.2", "nsbootstrap-1"]
TIME_DIALECTS = ["runc-1.2", "nsbootstrap-1"]
CF = lambda v: attr(CLONE_FLAGS, u32(v))  # noqa: E731
TRUE = u32(1)
FALSE = u32(0)

# ---------------------------------------------------------------- valid
for d in DIALECTS:
    valid("%s-minimal" % d, d, message(CF(0)), plan(0),
          "The smallest valid message of %s: clone flags 0 alone (no namespace created or joined)." % d)

all_ns = flags("mnt", "cgroup", "uts", "ipc", "user", "pid", "net")
valid("clone-flags-every-namespace", "runc-1.1", message(CF(all_ns)), plan(all_ns),
      "Every namespace bit runc-1.1 knows, in one u32.")
valid("clone-flags-with-time", "runc-1.2", message(CF(all_ns | NS["time"])), plan(all_ns | NS["time"]),
      "CLONE_NEWTIME (0x80) is a namespace bit in runc-1.2 and later.")

nsp = "user:/proc/42/ns/user,net:/proc/42/ns/net,mnt:/proc/42/ns/mnt"
valid("namespace-paths", "runc-1.1", message(CF(flags("pid")), attr(NS_PATHS, text(nsp))),
      plan(flags("pid"), namespace_paths=[{"type": "user", "path": "/proc/42/ns/user"},
                                          {"type": "net", "path": "/proc/42/ns/net"},
                                          {"type": "mnt", "path": "/proc/42/ns/mnt"}]),
      "Three namespaces to join, user first as runtimes send them; the payload is type:path joined by commas.")
paths8 = ["%s:/run/ns/%s" % (k, k) for k in ["user", "ipc", "uts", "net", "pid", "mnt", "cgroup", "time"]]
valid("namespace-paths-all-eight", "runc-1.2", message(CF(0), attr(NS_PATHS, text(",".join(paths8)))),
      plan(0, namespace_paths=[{"type": p.split(":")[0], "path": p.split(":", 1)[1]} for p in paths8]),
      "All eight namespace types joined by path, time included (runc-1.2).")
valid("namespace-path-with-colon", "nsbootstrap-1", message(CF(0), attr(NS_PATHS, text("net:/run/netns/a:b"))),
      plan(0, namespace_paths=[{"type": "net", "path": "/run/netns/a:b"}]),
      "The first colon splits type from path; later colons belong to the path.")

# string lengths: padding 3, 2, 1, 0 after the payload
for pad_n, path in [(3, "/a"), (2, "/ab"), (1, "/abc"), (0, "/abcd")]:
    body = attr(CONSOLE, text(path))
    valid("console-path-padding-%d" % pad_n, "nsbootstrap-1", message(CF(0), body),
          plan(0, console_path=path),
          "A string attribute of nla_len %d: %d padding byte(s) follow it." % (4 + len(path) + 1, pad_n))

for n in (1, 3):
    rs = [(i * 1000, 100000 + i * 1000, 1000) for i in range(n)]
    valid("uid-map-%d-ranges" % n, "runc-1.1", message(CF(flags("user")), attr(UID_MAP, text(idmap_text(rs)))),
          plan(flags("user"), uid_map=ranges_json(rs)),
          "A uid map of %d range(s), lines of 'container_id host_id size' each ending in a newline." % n)
rs340 = [(i, 100000 + i, 1) for i in range(340)]
valid("uid-map-340-ranges", "runc-1.2", message(CF(flags("user")), attr(UID_MAP, text(idmap_text(rs340)))),
      plan(flags("user"), uid_map=ranges_json(rs340)),
      "340 ranges, the kernel's limit since Linux 4.15, and the spec's.")
valid("gid-map", "runc-1.0", message(CF(flags("user")), attr(GID_MAP, text("0 1000 1\n1 100000 65536\n"))),
      plan(flags("user"), gid_map=ranges_json([(0, 1000, 1), (1, 100000, 65536)])),
      "A gid map of two ranges.")
valid("uid-map-full-range", "runc-1.1", message(CF(flags("user")), attr(UID_MAP, text("0 0 4294967295\n"))),
      plan(flags("user"), uid_map=ranges_json([(0, 0, 4294967295)])),
      "The largest range: container_id + size reaches 2^32 - 1 exactly.")

for v in (True, False):
    valid("setgroups-%s" % str(v).lower(), "runc-1.1", message(CF(0), attr(SETGROUPS, u32(int(v)))),
          plan(0, setgroups=v), "setgroups as a 4-byte u32 %d." % int(v))
    valid("rootless-euid-%s" % str(v).lower(), "runc-1.0", message(CF(0), attr(ROOTLESS, u32(int(v)))),
          plan(0, rootless_euid=v), "rootless_euid as a 4-byte u32 %d." % int(v))

for v in (-1000, 0, 1000):
    valid("oom-score-adj-%d" % v, "runc-1.1", message(CF(0), attr(OOM, text(str(v)))),
          plan(0, oom_score_adj=v), "oom_score_adj %d as decimal text (the range's %s)." %
          (v, {-1000: "minimum", 0: "middle", 1000: "maximum"}[v]))

valid("newuidmap-newgidmap-paths", "runc-1.1",
      message(CF(flags("user")), attr(NEWUIDMAP, text("/usr/bin/newuidmap")),
              attr(UID_MAP, text("0 1000 1\n")), attr(GID_MAP, text("0 1000 1\n")),
              attr(NEWGIDMAP, text("/usr/bin/newgidmap"))),
      plan(flags("user"), newuidmap_path="/usr/bin/newuidmap", uid_map=ranges_json([(0, 1000, 1)]),
           gid_map=ranges_json([(0, 1000, 1)]), newgidmap_path="/usr/bin/newgidmap"),
      "The helper paths around the maps, in runc's Go encoder order: newuidmap, uid map, gid map, newgidmap.")

valid("mount-sources", "runc-1.1", message(CF(flags("mnt")), attr(A27290, b"/src/a\0\0/src/b\0" + b"\0")),
      plan(flags("mnt"), mount_sources=["/src/a", None, "/src/b"]),
      "runc-1.1 mount sources: one NUL-terminated entry per mount (empty for a mount without source), then the string's NUL.")
valid("mount-sources-empty", "runc-1.1", message(CF(0), attr(A27290, b"\0")), plan(0, mount_sources=[]),
      "No mounts at all: the payload is the string's NUL alone.")
valid("mount-sources-one-without-source", "runc-1.1", message(CF(0), attr(A27290, b"\0\0")),
      plan(0, mount_sources=[None]), "One mount without a source: an empty entry, then the string's NUL.")

valid("time-offsets", "runc-1.2",
      message(CF(flags("time")), attr(A27290, text("monotonic 10 500\nboottime -7 0\n"))),
      plan(flags("time"), time_offsets=[{"clock": "monotonic", "secs": 10, "nanosecs": 500},
                                        {"clock": "boottime", "secs": -7, "nanosecs": 0}]),
      "runc-1.2 time offsets, negative seconds allowed.")
valid("time-offsets-nsbootstrap", "nsbootstrap-1",
      message(CF(flags("time")), attr(A27290, text("boottime 1 999999999\n"))),
      plan(flags("time"), time_offsets=[{"clock": "boottime", "secs": 1, "nanosecs": 999999999}]),
      "One clock, the largest nanoseconds value.")

valid("header-fields-kept", "runc-1.2", message(CF(0), flags_=0x0305, seq=0xdeadbeef, pid=4242),
      plan(0, netlink=netlink(0x0305, 0xdeadbeef, 4242)),
      "nlmsg_flags, nlmsg_seq and nlmsg_pid carry no meaning; a decoder keeps them so decode and encode round-trip.")

rootless = message(
    CF(flags("mnt", "uts", "ipc", "user", "pid", "net")),
    attr(NEWUIDMAP, text("/usr/bin/newuidmap")),
    attr(UID_MAP, text("0 1000 1\n1 100000 65536\n")),
    attr(GID_MAP, text("0 1000 1\n1 100000 65536\n")),
    attr(NEWGIDMAP, text("/usr/bin/newgidmap")),
    attr(SETGROUPS, TRUE),
    attr(OOM, text("100")),
    attr(ROOTLESS, TRUE),
)
rootless_plan = plan(flags("mnt", "uts", "ipc", "user", "pid", "net"),
                     newuidmap_path="/usr/bin/newuidmap",
                     uid_map=ranges_json([(0, 1000, 1), (1, 100000, 65536)]),
                     gid_map=ranges_json([(0, 1000, 1), (1, 100000, 65536)]),
                     newgidmap_path="/usr/bin/newgidmap", setgroups=True, oom_score_adj=100, rootless_euid=True)
valid("runc-go-rootless-container", "runc-1.1", rootless, rootless_plan,
      "The bytes runc's Go encoder writes for a typical rootless container (runc 1.1).")

full_nsb = message(
    CF(flags("time", "mnt", "uts", "ipc", "user", "pid", "net")),
    attr(NS_PATHS, text("cgroup:/proc/7/ns/cgroup")),
    attr(UID_MAP, text("0 100000 65536\n")),
    attr(GID_MAP, text("0 100000 65536\n")),
    attr(SETGROUPS, FALSE),
    attr(OOM, text("-5")),
    attr(ROOTLESS, FALSE),
    attr(A27290, text("monotonic 3 0\n")),
    attr(CONSOLE, text("/dev/pts/3")),
)
valid("nsbootstrap-every-attribute", "nsbootstrap-1", full_nsb,
      plan(flags("time", "mnt", "uts", "ipc", "user", "pid", "net"),
           namespace_paths=[{"type": "cgroup", "path": "/proc/7/ns/cgroup"}],
           uid_map=ranges_json([(0, 100000, 65536)]), gid_map=ranges_json([(0, 100000, 65536)]),
           setgroups=False, oom_score_adj=-5, rootless_euid=False,
           time_offsets=[{"clock": "monotonic", "secs": 3, "nanosecs": 0}], console_path="/dev/pts/3"),
      "Every attribute of nsbootstrap-1 in canonical order, the console path (27400) last.")
valid("runc-rc93-every-attribute", "runc-rc93",
      message(CF(flags("user", "net")), attr(NS_PATHS, text("ipc:/proc/1/ns/ipc")),
              attr(UID_MAP, text("0 0 1\n")), attr(GID_MAP, text("0 0 1\n")), attr(SETGROUPS, TRUE),
              attr(OOM, text("7")), attr(ROOTLESS, FALSE)),
      plan(flags("user", "net"), namespace_paths=[{"type": "ipc", "path": "/proc/1/ns/ipc"}],
           uid_map=ranges_json([(0, 0, 1)]), gid_map=ranges_json([(0, 0, 1)]), setgroups=True,
           oom_score_adj=7, rootless_euid=False),
      "Every attribute the seed's runc (up to v1.0.0-rc93) knows.")

valid("non-canonical-order", "runc-1.1",
      message(attr(ROOTLESS, FALSE), attr(OOM, text("3")), CF(flags("net"))),
      plan(flags("net"), oom_score_adj=3, rootless_euid=False),
      "Decoders take attributes in any order; this order is not the canonical one, so encoding gives other bytes.",
      canonical=False)

long_path = "/" + "p" * 4094
valid("path-of-4095-bytes", "nsbootstrap-1", message(CF(0), attr(CONSOLE, text(long_path))),
      plan(0, console_path=long_path), "A path of 4095 bytes, the longest the spec allows (PATH_MAX - 1).")

# ---------------------------------------------------------------- invalid
ok = message(CF(0))
invalid("truncated-header-0-bytes", "runc-1.2", b"", "truncated-header", 0, "An empty input: no header at all.")
invalid("truncated-header-15-bytes", "runc-1.2", ok[:15], "truncated-header", 0, "15 bytes: one short of a header.")
invalid("length-too-short-0", "runc-1.2", message(CF(0), nlmsg_len=0)[:16], "length-too-short", 0,
        "nlmsg_len 0 is below the header's own 16 bytes (runc's C computes a negative payload size).")
invalid("length-too-short-15", "runc-1.2", message(nlmsg_len=15), "length-too-short", 0, "nlmsg_len 15.")
invalid("length-near-4gib", "runc-1.2", message(CF(0), nlmsg_len=0xFFFFFFF0), "length-too-large", 0,
        "nlmsg_len 0xFFFFFFF0 (near 4 GiB) with 24 bytes of data: refused before anything is allocated.")
invalid("length-max-u32", "runc-1.2", message(CF(0), nlmsg_len=0xFFFFFFFF), "length-too-large", 0,
        "nlmsg_len 0xFFFFFFFF.")
invalid("length-one-over-the-maximum", "runc-1.2", message(CF(0), nlmsg_len=(1 << 20) + 4), "length-too-large", 0,
        "nlmsg_len 1 MiB + 4, just over MAX_MESSAGE_LEN.")
invalid("wrong-type-nlmsg-error", "runc-1.2", message(CF(0), kind=2), "wrong-type", 4,
        "nlmsg_type 2 (NLMSG_ERROR) instead of 62000.")
invalid("wrong-type-byte-swapped", "runc-1.2", message(CF(0), kind=struct.unpack("<H", struct.pack(">H", INIT_MSG))[0]),
        "wrong-type", 4, "62000 written in the other byte order: a message from a host of the other endianness.")
invalid("truncated-body", "runc-1.2", message(CF(0), nlmsg_len=40), "truncated", 24,
        "nlmsg_len 40 but only 24 bytes: the header is longer than the data.")
invalid("trailing-bytes", "runc-1.2", message(CF(0), tail=b"\0\0\0\0"), "trailing-bytes", 24,
        "Four bytes after the message in a buffer meant to hold exactly one.")
unaligned = message(CF(0), attr(CONSOLE, text("/a"), pad=b""))
invalid("unaligned-length", "nsbootstrap-1", unaligned, "unaligned-length", 0,
        "The last attribute's padding is missing, so nlmsg_len (31) is not a multiple of 4; runc accepts this.",
        lenient=plan(0, console_path="/a"))
# 1 to 3 bytes after the last attribute make nlmsg_len unaligned, which strict decoders check first (H7);
# lenient ones reach the short attribute header (A1).
for k in (1, 2, 3):
    data = message(CF(0), nlmsg_len=24 + k, tail=b"\x08\0\x91"[:k])
    invalid("attr-header-truncated-%d" % k, "runc-1.2", data, "unaligned-length", 0,
            "%d byte(s) after the last attribute, too few for an attribute header; strict decoders stop at the "
            "unaligned length first, lenient ones at the short header (runc reads past the end)." % k,
            lenient=("attr-header-truncated", 24))
for n in (0, 1, 3):
    data = message(CF(0), attr(OOM, text("5"), nla_len=n))
    invalid("attr-too-short-%d" % n, "runc-1.2", data, "attr-too-short", 24,
            "nla_len %d is below 4.%s" % (n, " runc's C decoder loops forever on it." if n == 0 else
                                          " runc's C decoder underflows the payload length."))
invalid("attr-past-end", "runc-1.2", message(CF(0), attr(OOM, text("5"), nla_len=200)), "attr-past-end", 24,
        "nla_len 200 runs past the end of the message (runc reads out of bounds).")
invalid("attr-past-end-first", "runc-1.2", message(attr(CLONE_FLAGS, u32(0), nla_len=9)), "attr-past-end", 16,
        "The only attribute claims one byte more than the message holds.")
invalid("unknown-attr-27291", "nsbootstrap-1", message(CF(0), attr(27291, text("x"))), "unknown-attr", 24,
        "27291: no dialect knows it; runc refuses unknown types too.")
invalid("unknown-attr-masked", "runc-1.2", message(CF(0), attr(27282 & ~0x4000, text("net:/x"))), "unknown-attr", 24,
        "10898 is 27282 with bit 0x4000 cleared: the whole 16-bit type counts, never a masked kind.")
invalid("unknown-attr-0", "runc-1.2", message(CF(0), attr(0, u32(0))), "unknown-attr", 24, "Type 0.")
invalid("27290-in-runc-1.0", "runc-1.0", message(CF(0), attr(A27290, text("x"))), "attr-not-in-dialect", 24,
        "Attribute 27290 does not exist before runc 1.1.")
invalid("27290-in-runc-rc93", "runc-rc93", message(CF(0), attr(A27290, b"\0")), "attr-not-in-dialect", 24,
        "Attribute 27290 in the seed's dialect.")
invalid("console-in-runc-1.2", "runc-1.2", message(CF(0), attr(CONSOLE, text("/dev/pts/0"))), "attr-not-in-dialect", 24,
        "The console attribute (27400) is nsbootstrap-1's; runc 1.2 would refuse it as unknown.")
invalid("repeated-attr", "runc-1.1", message(CF(0), attr(OOM, text("5")), attr(OOM, text("7"))), "repeated-attr", 32,
        "oom_score_adj twice; lenient decoders (like runc) keep the last.",
        lenient=plan(0, oom_score_adj=7))
invalid("repeated-clone-flags", "runc-1.2", message(CF(flags("net")), CF(flags("pid"))), "repeated-attr", 24,
        "Clone flags twice.", lenient=plan(flags("pid")))
invalid("missing-clone-flags", "runc-1.1", message(attr(ROOTLESS, FALSE)), "missing-attr", 24,
        "No clone-flags attribute: strict decoders require it (runc's Go encoder always sends it); lenient ones read 0.",
        lenient={"netlink": netlink(), "clone_flags": [], "rootless_euid": False})
invalid("missing-everything", "runc-1.2", message(), "missing-attr", 16,
        "A header alone. runc accepts it and creates nothing.", lenient={"netlink": netlink(), "clone_flags": []})
invalid("nonzero-padding", "nsbootstrap-1", message(CF(0), attr(CONSOLE, text("/a"), pad=b"\x01")), "nonzero-padding", 24,
        "A padding byte of 0x01: strict decoders require zeros, lenient ones ignore them.",
        lenient=plan(0, console_path="/a"))
invalid("clone-flags-3-bytes", "runc-1.2", message(attr(CLONE_FLAGS, b"\0\0\0")), "payload-length", 16,
        "A 3-byte u32 (runc reads a fourth byte past the payload).")
invalid("clone-flags-5-bytes", "runc-1.2", message(attr(CLONE_FLAGS, b"\0\0\0\0\0")), "payload-length", 16,
        "A 5-byte u32.")
invalid("bool-2-bytes", "runc-1.2", message(CF(0), attr(SETGROUPS, b"\x01\0")), "payload-length", 24,
        "A 2-byte bool: neither the Go encoder's 4 bytes nor an old 1-byte bool.")
invalid("bool-1-byte", "runc-1.1", message(CF(0), attr(ROOTLESS, b"\x01")), "payload-length", 24,
        "A 1-byte bool, as encoders before 2018 sent: strict wants 4 bytes, lenient takes it.",
        lenient=plan(0, rootless_euid=True))
invalid("empty-string-payload", "runc-1.2", message(CF(0), attr(NS_PATHS, b"")), "payload-length", 24,
        "nla_len 4: a string attribute with no payload, not even its NUL.")
invalid("bad-bool-2", "runc-1.2", message(CF(0), attr(SETGROUPS, u32(2))), "bad-bool", 24,
        "A bool of value 2; lenient decoders read it as true.", lenient=plan(0, setgroups=True))
invalid("bad-bool-big-endian-one", "runc-1.1", message(CF(0), attr(ROOTLESS, struct.pack(">I", 1))), "bad-bool", 24,
        "A bool written as a big-endian 1 (0x01000000 here): runc's C reads only the first byte and sees 0.",
        lenient=plan(0, rootless_euid=True))
invalid("unknown-clone-flags", "runc-1.2", message(CF(flags("net") | 0x100)), "unknown-clone-flags", 16,
        "Bit 0x100 names no namespace; lenient decoders keep it.",
        lenient=plan(flags("net") | 0x100))
invalid("clone-newtime-in-runc-1.1", "runc-1.1", message(CF(NS["time"])), "unknown-clone-flags", 16,
        "CLONE_NEWTIME before runc 1.2.", lenient=plan(NS["time"]))
invalid("missing-nul", "runc-1.2", message(CF(0), attr(NS_PATHS, b"net:/x")), "missing-nul", 24,
        "A string without its NUL (runc's C reads past the end of the payload).")
invalid("embedded-nul", "runc-1.2", message(CF(0), attr(NS_PATHS, b"net:/x\0ipc:/y\0")), "embedded-nul", 24,
        "A NUL inside a string: runc would silently drop everything after it.")
invalid("empty-namespace-paths", "runc-1.2", message(CF(0), attr(NS_PATHS, text(""))), "empty-payload", 24,
        "An empty namespace list (runc bails: ns paths are empty).")
invalid("empty-oom-score-adj", "runc-1.2", message(CF(0), attr(OOM, text(""))), "bad-oom-score-adj", 24,
        "An empty oom_score_adj: not a decimal.")
invalid("empty-uid-map", "runc-1.2", message(CF(flags("user")), attr(UID_MAP, text(""))), "empty-payload", 24,
        "An empty uid map.")
invalid("ns-entry-without-colon", "runc-1.2", message(CF(0), attr(NS_PATHS, text("net"))), "bad-ns-entry", 24,
        "An entry without ':'.")
invalid("ns-entry-empty", "runc-1.2", message(CF(0), attr(NS_PATHS, text("net:/a,,ipc:/b"))), "bad-ns-entry", 24,
        "An empty entry between commas; lenient decoders skip it as strtok does.",
        lenient=plan(0, namespace_paths=[{"type": "net", "path": "/a"}, {"type": "ipc", "path": "/b"}]))
invalid("ns-entry-empty-path", "runc-1.2", message(CF(0), attr(NS_PATHS, text("net:"))), "bad-ns-entry", 24,
        "A type with an empty path.")
invalid("unknown-ns-type", "runc-1.2", message(CF(0), attr(NS_PATHS, text("foo:/x"))), "unknown-ns-type", 24,
        "An unknown namespace type: runc before 1.3 passes 0 to setns for it; both modes refuse it.")
invalid("time-ns-in-runc-1.1", "runc-1.1", message(CF(0), attr(NS_PATHS, text("time:/proc/1/ns/time"))),
        "ns-type-not-in-dialect", 24, "Joining a time namespace before runc 1.2.",
        lenient=plan(0, namespace_paths=[{"type": "time", "path": "/proc/1/ns/time"}]))
invalid("relative-ns-path", "runc-1.2", message(CF(0), attr(NS_PATHS, text("net:proc/1/ns/net"))), "relative-path", 24,
        "A relative path (runc would open it relative to its working directory).",
        lenient=plan(0, namespace_paths=[{"type": "net", "path": "proc/1/ns/net"}]))
invalid("relative-console-path", "nsbootstrap-1", message(CF(0), attr(CONSOLE, text("pts/0"))), "relative-path", 24,
        "A relative console path.", lenient=plan(0, console_path="pts/0"))
invalid("path-too-long", "nsbootstrap-1", message(CF(0), attr(CONSOLE, text("/" + "p" * 4095))), "path-too-long", 24,
        "A path of 4096 bytes, one over the limit.")
invalid("repeated-ns-type", "runc-1.2", message(CF(0), attr(NS_PATHS, text("net:/a,net:/b"))), "repeated-ns-type", 24,
        "The same type twice.", lenient=plan(0, namespace_paths=[{"type": "net", "path": "/a"}, {"type": "net", "path": "/b"}]))
for name, t, lenient_plan, why in [
    ("id-map-syntax", "0 1000\n", None, "Two fields instead of three."),
    ("id-map-zero-size", "0 1000 0\n", None, "A range of size 0."),
    ("id-map-overflow", "4294967295 0 2\n", None, "container_id + size passes 2^32."),
    ("id-map-leading-zero", "00 1000 1\n", [(0, 1000, 1)], "A leading zero: strict wants canonical decimals; the kernel takes it."),
    ("id-map-double-space", "0  1000 1\n", [(0, 1000, 1)], "Two spaces between fields: the kernel takes it."),
    ("id-map-no-final-newline", "0 1000 1", [(0, 1000, 1)], "The last line lacks its newline."),
    ("id-map-negative", "-1 0 1\n", None, "A negative id."),
]:
    invalid(name, "runc-1.1", message(CF(flags("user")), attr(UID_MAP, text(t))), "bad-id-map", 24, why,
            lenient=plan(flags("user"), uid_map=ranges_json(lenient_plan)) if lenient_plan else None)
invalid("id-map-overlap", "runc-1.1", message(CF(flags("user")), attr(GID_MAP, text("0 1000 10\n5 2000 10\n"))),
        "id-map-overlap", 24, "Two ranges overlap on the container side (the kernel refuses it).")
invalid("id-map-overlap-host", "runc-1.1", message(CF(flags("user")), attr(UID_MAP, text("0 1000 10\n100 1005 1\n"))),
        "id-map-overlap", 24, "Two ranges overlap on the host side.")
rs341 = [(i, 100000 + i, 1) for i in range(341)]
invalid("id-map-341-ranges", "runc-1.2", message(CF(flags("user")), attr(UID_MAP, text(idmap_text(rs341)))),
        "id-map-too-long", 24, "341 ranges, one more than the kernel takes.")
for name, t, lv, why in [
    ("oom-1001", "1001", None, "Out of [-1000, 1000]."),
    ("oom-plus-sign", "+5", 5, "A '+' sign: the kernel takes it, the strict grammar does not."),
    ("oom-letters", "abc", None, "Not a number."),
    ("oom-minus-zero", "-0", 0, "'-0': the canonical form of zero is '0'."),
    ("oom-newline", "5\n", 5, "A trailing newline, as echo would write it: the kernel strips it."),
]:
    invalid(name, "runc-1.1", message(CF(0), attr(OOM, text(t))), "bad-oom-score-adj", 24, why,
            lenient=plan(0, oom_score_adj=lv) if lv is not None else None)
invalid("mount-sources-unterminated", "runc-1.1", message(CF(0), attr(A27290, b"/a\0")), "bad-mount-sources", 24,
        "Entries end in NUL, then comes the string's NUL: here the only entry lacks its own.")
invalid("mount-sources-relative", "runc-1.1", message(CF(0), attr(A27290, b"a\0\0")), "relative-path", 24,
        "A relative mount source.", lenient=plan(0, mount_sources=["a"]))
for name, t, lv, why in [
    ("time-unknown-clock", "realtime 1 0\n", None, "Only monotonic and boottime can be offset."),
    ("time-nanosecs-1e9", "monotonic 1 1000000000\n", None, "Nanoseconds must be below one second."),
    ("time-repeated-clock", "monotonic 1 0\nmonotonic 2 0\n", None, "The same clock twice."),
    ("time-numeric-clock", "1 5 0\n", [{"clock": "monotonic", "secs": 5, "nanosecs": 0}],
     "Clock id 1 instead of its name: the kernel takes it, the strict grammar does not."),
]:
    invalid(name, "runc-1.2", message(CF(flags("time")), attr(A27290, text(t))), "bad-time-offsets", 24, why,
            lenient=plan(flags("time"), time_offsets=lv) if lv else None)
invalid("empty-time-offsets", "nsbootstrap-1", message(CF(flags("time")), attr(A27290, text(""))), "empty-payload", 24,
        "An empty offsets text (runc 1.2's Go sends it for an empty map); lenient decoders read no offsets.",
        lenient=plan(flags("time"), time_offsets=[]))


def outcome(v):
    if isinstance(v, dict):
        return {"plan": v}
    return {"error": {"class": v[0], "offset": v[1]}}


def write_all(root):
    for group in ("valid", "invalid"):
        folder = os.path.join(root, group)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
    names = set()
    for name, d, data, p, desc, canonical in VALID:
        assert name not in names, name
        names.add(name)
        doc = {"description": desc, "dialect": d, "canonical": canonical,
               "strict": {"plan": p}, "lenient": {"plan": p}}
        dump(root, "valid", name, data, doc)
    for name, d, data, err, desc, lenient in INVALID:
        assert name not in names, name
        names.add(name)
        doc = {"description": desc, "dialect": d, "strict": outcome(err),
               "lenient": outcome(err if lenient is None else lenient)}
        dump(root, "invalid", name, data, doc)


def dump(root, group, name, data, doc):
    with open(os.path.join(root, group, name + ".bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(root, group, name + ".json"), "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def tree(root):
    out = {}
    for group in ("valid", "invalid"):
        folder = os.path.join(root, group)
        for n in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            with open(os.path.join(folder, n), "rb") as f:
                out[group + "/" + n] = f.read()
    return out


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            write_all(tmp)
            want, have = tree(tmp), tree(HERE)
            diff = sorted(set(want) ^ set(have)) + sorted(k for k in want if k in have and want[k] != have[k])
            if diff:
                print("spec/vectors differ from generate.py: " + ", ".join(diff[:10]))
                sys.exit(1)
            print("spec/vectors: %d files match generate.py" % len(want))
    else:
        write_all(HERE)
        print("wrote %d valid and %d invalid vectors" % (len(VALID), len(INVALID)))
