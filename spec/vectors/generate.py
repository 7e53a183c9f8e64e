#!/usr/bin/env python3
"""Generates the nsbootstrap test vectors: spec/vectors/{valid,invalid}/NAME.{bin,json}.

Every message is built here by hand with struct, from the declarative list below, without any
decoder: the vectors test decoders, so they must not come from one. The files are little-endian
(the host byte order of x86_64 and aarch64); a big-endian host needs its own copy.

    python3 spec/vectors/generate.py           # rewrite valid/, invalid/ and the table in README.md
    python3 spec/vectors/generate.py --check   # regenerate into a temporary folder and compare; exit 1 on a difference

Running it twice gives identical files (JSON with sorted keys, indent 2, a final newline).
"""
import json
import os
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------------------------------------
# Protocol constants (spec/PROTOCOL.md)

NLMSG_HDRLEN = 16
INIT_MSG = 62000                # nlmsg_type of the bootstrap message
MAX_MESSAGE_LEN = 1 << 20       # 1 MiB
MAX_PATH = 4095

CLONE_FLAGS = 27281             # u32
NS_PATHS = 27282                # string: type:path,type:path
UID_MAP = 27283                 # string: id map
GID_MAP = 27284                 # string: id map
SETGROUPS = 27285               # bool
OOM_SCORE_ADJ = 27286           # string: decimal
ROOTLESS_EUID = 27287           # bool
NEWUIDMAP_PATH = 27288          # string: path
NEWGIDMAP_PATH = 27289          # string: path
MOUNT_SOURCES = 27290           # runc-1.1: NUL-list
TIME_OFFSETS = 27290            # runc-1.2, nsbootstrap-1: string: offsets
CONSOLE_PATH = 27400            # nsbootstrap-1: string: path

# Clone flag names in the order the JSON plan lists them (ascending bit value).
CLONE = [
    ("time", 0x00000080), ("mnt", 0x00020000), ("cgroup", 0x02000000), ("uts", 0x04000000),
    ("ipc", 0x08000000), ("user", 0x10000000), ("pid", 0x20000000), ("net", 0x40000000),
]
BIT = dict(CLONE)

RC93, R10, R11, R12, NSB = "runc-rc93", "runc-1.0", "runc-1.1", "runc-1.2", "nsbootstrap-1"
DIALECTS = [RC93, R10, R11, R12, NSB]
TIME_DIALECTS = (R12, NSB)

# ------------------------------------------------------------------------------------------------
# Byte builders


def align4(n):
    return (n + 3) & ~3


def header(length, type=INIT_MSG, flags=1, seq=1, pid=0):
    """struct nlmsghdr: u32 nlmsg_len, u16 nlmsg_type, u16 nlmsg_flags, u32 nlmsg_seq, u32 nlmsg_pid."""
    return struct.pack("<IHHII", length, type, flags, seq, pid)


def attr(type, payload, pad=True, pad_bytes=b"\0", nla_len=None):
    """One attribute: u16 nla_len (4 + payload unless overridden), u16 nla_type, payload, padding.

    pad=False leaves the padding out. pad_bytes is either one byte, repeated as often as needed, or
    exactly the padding (as many bytes as align4 asks for)."""
    n = 4 + len(payload) if nla_len is None else nla_len
    out = struct.pack("<HH", n, type) + payload
    if pad:
        need = align4(len(out)) - len(out)
        fill = pad_bytes * need if len(pad_bytes) == 1 else pad_bytes
        assert len(fill) == need, "pad_bytes must be %d bytes" % need
        out += fill
    return out


def u32(v):
    return struct.pack("<I", v)


def boolean(v):
    """A bool as runc's Go encoder writes it: a 4-byte u32 0 or 1."""
    return u32(1 if v else 0)


def string(text):
    """A string payload: the text, then its NUL."""
    if isinstance(text, str):
        text = text.encode()
    return text + b"\0"


def nul_list(entries):
    """runc-1.1 mount sources: each entry then NUL (None = empty entry), then the string's own NUL."""
    return b"".join((e or "").encode() + b"\0" for e in entries) + b"\0"


def idmap_text(ranges):
    return "".join("%d %d %d\n" % r for r in ranges)


def offsets_text(offsets):
    return "".join("%s %d %d\n" % o for o in offsets)


def cf(value):
    """The clone flags attribute."""
    return attr(CLONE_FLAGS, u32(value))


def flags(*names):
    v = 0
    for n in names:
        v |= BIT[n]
    return v


def all_namespaces(dialect):
    names = [n for n, _ in CLONE if n != "time" or dialect in TIME_DIALECTS]
    return flags(*names)


class Message:
    """A message built from parts (attributes or raw bytes): nlmsg_len is 16 + the parts unless
    given; `trailing` is appended after the message, `cut` keeps only the first bytes of it all.
    at(i) is the offset where part i starts."""

    def __init__(self, parts, nlmsg_len=None, type=INIT_MSG, flags=1, seq=1, pid=0, trailing=b"",
                 cut=None):
        self.offsets = []
        o = NLMSG_HDRLEN
        for p in parts:
            self.offsets.append(o)
            o += len(p)
        self.nlmsg_len = o if nlmsg_len is None else nlmsg_len
        data = header(self.nlmsg_len, type, flags, seq, pid) + b"".join(parts) + trailing
        self.data = data if cut is None else data[:cut]

    def at(self, i):
        return self.offsets[i]


def message(*parts, **overrides):
    return Message(list(parts), **overrides)


# ------------------------------------------------------------------------------------------------
# JSON builders


def clone_names(value):
    out = [n for n, b in CLONE if value & b]
    rest = value & ~sum(BIT.values())
    if rest:
        out.append("0x%08x" % rest)
    return out


def plan(clone_flags, netlink=(1, 1, 0), **fields):
    """A plan in the JSON shape of the spec: "netlink" always, "clone_flags" always, the rest as given."""
    p = {"netlink": {"flags": netlink[0], "seq": netlink[1], "pid": netlink[2]},
         "clone_flags": clone_names(clone_flags)}
    p.update(fields)
    return p


def ns(*entries):
    return [{"type": t, "path": p} for t, p in entries]


def ns_text(*entries):
    return ",".join("%s:%s" % e for e in entries)


def ids(*ranges):
    return [{"container_id": a, "host_id": b, "size": c} for a, b, c in ranges]


def offs(*offsets):
    return [{"clock": c, "secs": s, "nanosecs": n} for c, s, n in offsets]


def err(cls, offset):
    return {"error": {"class": cls, "offset": offset}}


SAME = object()   # lenient outcome = the strict one
VALID, INVALID = [], []


def valid(name, dialect, msg, p, description, canonical=True):
    VALID.append({"name": name, "dialect": dialect, "data": msg.data, "description": description,
                  "json": {"description": description, "dialect": dialect, "canonical": canonical,
                           "strict": {"plan": p}, "lenient": {"plan": p}}})


def invalid(name, dialect, msg, strict, lenient, description):
    """strict: err(...); lenient: SAME, err(...) or a plan."""
    assert "error" in strict
    if lenient is SAME:
        lenient = strict
    elif "error" not in lenient:
        lenient = {"plan": lenient}
    INVALID.append({"name": name, "dialect": dialect, "data": msg.data, "description": description,
                    "json": {"description": description, "dialect": dialect,
                             "strict": strict, "lenient": lenient}})


# ================================================================================================
# Valid vectors: strict-valid messages (lenient decoding gives the same plan).
# ================================================================================================

# --- the smallest message of each dialect
for d in DIALECTS:
    valid("%s-minimal" % d, d, message(cf(0)), plan(0),
          "The smallest valid %s message: the clone flags attribute alone, value 0 (nothing created, "
          "nothing joined). 24 bytes." % d)

# --- every namespace bit each dialect knows
for d in DIALECTS:
    v = all_namespaces(d)
    valid("%s-clone-flags-every-namespace" % d, d, message(cf(v)), plan(v),
          "Clone flags 0x%08x: every namespace bit %s knows%s." %
          (v, d, ", CLONE_NEWTIME (0x80) included" if d in TIME_DIALECTS else
           " (CLONE_NEWTIME is not one of them)"))

# --- every attribute alone beside the clone flags, in every dialect where it exists
NET_PATH = "/var/run/netns/ctr1"
ALONE = [
    ("namespace-paths", flags("mnt", "uts", "ipc", "user", "pid"),
     attr(NS_PATHS, string(ns_text(("net", NET_PATH)))),
     {"namespace_paths": ns(("net", NET_PATH))},
     ("namespace_paths (27282)", "one 'type:path' entry; the network namespace is joined, the others created")),
    ("newuidmap-path", flags("user"), attr(NEWUIDMAP_PATH, string("/usr/bin/newuidmap")),
     {"newuidmap_path": "/usr/bin/newuidmap"},
     ("newuidmap_path (27288)", "the helper program that writes the uid map when the runtime may not")),
    ("uid-map", flags("user"), attr(UID_MAP, string(idmap_text([(0, 1000, 1)]))),
     {"uid_map": ids((0, 1000, 1))},
     ("uid_map (27283)", "one 'container_id host_id size' line ending in LF")),
    ("gid-map", flags("user"), attr(GID_MAP, string(idmap_text([(0, 1000, 1), (1, 100000, 65536)]))),
     {"gid_map": ids((0, 1000, 1), (1, 100000, 65536))},
     ("gid_map (27284)", "two lines")),
    ("newgidmap-path", flags("user"), attr(NEWGIDMAP_PATH, string("/usr/bin/newgidmap")),
     {"newgidmap_path": "/usr/bin/newgidmap"},
     ("newgidmap_path (27289)", "the helper program for the gid map")),
    ("setgroups", flags("user"), attr(SETGROUPS, boolean(True)), {"setgroups": True},
     ("setgroups (27285)", "true, a 4-byte u32 1 as runc's Go encoder writes bools")),
    ("oom-score-adj", flags("pid"), attr(OOM_SCORE_ADJ, string("100")), {"oom_score_adj": 100},
     ("oom_score_adj (27286)", "decimal text '100'")),
    ("rootless-euid", flags("user"), attr(ROOTLESS_EUID, boolean(True)), {"rootless_euid": True},
     ("rootless_euid (27287)", "true, a 4-byte u32 1")),
]
for d in DIALECTS:
    for short, cfv, a, fields, what in ALONE:
        valid("%s-%s" % (d, short), d, message(cf(cfv), a), plan(cfv, **fields),
              "%s alone beside the clone flags, in %s: %s. The attribute exists in every dialect." %
              (what[0], d, what[1]))

valid("runc-1.1-mount-sources", R11,
      message(cf(flags("mnt", "user")), attr(MOUNT_SOURCES, nul_list(["/var/lib/a", None, "/var/lib/b"]))),
      plan(flags("mnt", "user"), mount_sources=["/var/lib/a", None, "/var/lib/b"]),
      "runc-1.1: mount_sources (27290), one NUL-terminated entry per mount, empty for a mount that is not a "
      "bind mount (JSON null), then the string's own NUL.")
valid("runc-1.1-mount-sources-empty-list", R11, message(cf(flags("mnt", "user")), attr(MOUNT_SOURCES, b"\0")),
      plan(flags("mnt", "user"), mount_sources=[]),
      "runc-1.1: mount_sources with no mounts at all: the payload is the string's NUL alone (nla_len 5), "
      "which is an empty list, not an absent attribute.")
valid("runc-1.1-mount-sources-one-null", R11, message(cf(flags("mnt", "user")), attr(MOUNT_SOURCES, b"\0\0")),
      plan(flags("mnt", "user"), mount_sources=[None]),
      "runc-1.1: one mount without a source: an empty entry and its NUL, then the string's NUL.")
valid("runc-1.2-time-offsets", R12,
      message(cf(flags("time")), attr(TIME_OFFSETS, string(offsets_text([("monotonic", 86400, 0),
                                                                          ("boottime", -3600, 500)])))),
      plan(flags("time"), time_offsets=offs(("monotonic", 86400, 0), ("boottime", -3600, 500))),
      "runc-1.2: time_offsets (27290), 'clock secs nanosecs' lines; the boottime offset is negative.")
valid("nsbootstrap-1-time-offsets", NSB,
      message(cf(flags("time")), attr(TIME_OFFSETS, string("boottime -1 999999999\n"))),
      plan(flags("time"), time_offsets=offs(("boottime", -1, 999999999))),
      "nsbootstrap-1: one time offset, negative seconds and the largest nanoseconds value (secs and nanosecs "
      "are separate fields: -1 s + 999999999 ns).")
valid("nsbootstrap-1-console-path", NSB, message(cf(0), attr(CONSOLE_PATH, string("/dev/pts/3"))),
      plan(0, console_path="/dev/pts/3"),
      "nsbootstrap-1: console_path (27400), this project's extension attribute, alone beside the clone flags.")

# --- every attribute of each dialect, in canonical order
EVERY_CF = flags("mnt", "cgroup", "uts", "user", "pid")
EVERY_NS = [("ipc", "/proc/1/ns/ipc"), ("net", "/var/run/netns/ctr1")]
MAP = [(0, 1000, 1), (1, 100000, 65536)]


def every(d):
    cfv = EVERY_CF | (BIT["time"] if d in TIME_DIALECTS else 0)
    parts = [cf(cfv), attr(NS_PATHS, string(ns_text(*EVERY_NS))),
             attr(NEWUIDMAP_PATH, string("/usr/bin/newuidmap")), attr(UID_MAP, string(idmap_text(MAP))),
             attr(GID_MAP, string(idmap_text(MAP))), attr(NEWGIDMAP_PATH, string("/usr/bin/newgidmap")),
             attr(SETGROUPS, boolean(True)), attr(OOM_SCORE_ADJ, string("-17")),
             attr(ROOTLESS_EUID, boolean(False))]
    fields = dict(namespace_paths=ns(*EVERY_NS), newuidmap_path="/usr/bin/newuidmap", uid_map=ids(*MAP),
                  gid_map=ids(*MAP), newgidmap_path="/usr/bin/newgidmap", setgroups=True, oom_score_adj=-17,
                  rootless_euid=False)
    if d == R11:
        srcs = [None, None, None, "/srv/data", None, "/etc/hosts.ctr1"]
        parts.append(attr(MOUNT_SOURCES, nul_list(srcs)))
        fields["mount_sources"] = srcs
    if d in TIME_DIALECTS:
        o = [("monotonic", -5, 250000000), ("boottime", 12, 0)]
        parts.append(attr(TIME_OFFSETS, string(offsets_text(o))))
        fields["time_offsets"] = offs(*o)
    if d == NSB:
        parts.append(attr(CONSOLE_PATH, string("/dev/pts/7")))
        fields["console_path"] = "/dev/pts/7"
    return message(*parts), plan(cfv, **fields)


for d in DIALECTS:
    m, p = every(d)
    extra = {RC93: "", R10: "", R11: ", mount_sources with null entries (27290)",
             R12: ", time_offsets (27290)", NSB: ", time_offsets (27290) and console_path (27400)"}[d]
    valid("%s-every-attribute" % d, d, m, p,
          "Every attribute %s knows, once each, in canonical order: clone flags, namespace paths, newuidmap path, "
          "uid map, gid map, newgidmap path, setgroups, oom_score_adj, rootless_euid%s." % (d, extra))

# --- what runc's Go encoder (bootstrapData in libcontainer/container_linux.go) writes
ROOTLESS_CF = flags("mnt", "cgroup", "uts", "ipc", "user", "pid")
ROOTLESS_NET = "/run/user/1000/netns/cni-5d1c2a3e"
ROOTLESS_PARTS = [
    cf(ROOTLESS_CF),
    attr(NS_PATHS, string("net:" + ROOTLESS_NET)),
    attr(NEWUIDMAP_PATH, string("/usr/bin/newuidmap")),
    attr(UID_MAP, string("0 1000 1\n1 100000 65536\n")),
    attr(GID_MAP, string("0 1000 1\n1 100000 65536\n")),
    attr(NEWGIDMAP_PATH, string("/usr/bin/newgidmap")),
    attr(SETGROUPS, boolean(True)),
    attr(OOM_SCORE_ADJ, string("100")),
    attr(ROOTLESS_EUID, boolean(True)),
]
valid("runc-1.1-go-rootless-container", R11, Message(ROOTLESS_PARTS),
      plan(ROOTLESS_CF, namespace_paths=ns(("net", ROOTLESS_NET)), newuidmap_path="/usr/bin/newuidmap",
           uid_map=ids(*MAP), gid_map=ids(*MAP), newgidmap_path="/usr/bin/newgidmap", setgroups=True,
           oom_score_adj=100, rootless_euid=True),
      "The exact bytes runc 1.1's Go encoder writes for a typical rootless container that joins a prepared "
      "network namespace: clone flags, ns paths, newuidmap path, uid map, gid map, newgidmap path, setgroups "
      "true, oom_score_adj, rootless_euid true (no mount sources: runc sends none when rootless). "
      "Header flags NLM_F_REQUEST, seq 1, pid 0.")
USERNS_CF = flags("mnt", "cgroup", "uts", "ipc", "user", "pid", "net")
USERNS_MOUNTS = [None, None, None, None, None, None, None,
                 "/var/lib/ctr/c1/resolv.conf", "/var/lib/ctr/c1/hostname", "/var/lib/ctr/c1/hosts"]
valid("runc-1.1-go-userns-container", R11,
      message(cf(USERNS_CF),
              attr(UID_MAP, string("0 100000 65536\n")),
              attr(GID_MAP, string("0 100000 65536\n")),
              attr(SETGROUPS, boolean(True)),
              attr(ROOTLESS_EUID, boolean(False)),
              attr(MOUNT_SOURCES, nul_list(USERNS_MOUNTS))),
      plan(USERNS_CF, uid_map=ids((0, 100000, 65536)), gid_map=ids((0, 100000, 65536)), setgroups=True,
           rootless_euid=False, mount_sources=USERNS_MOUNTS),
      "The bytes runc 1.1's Go encoder writes for a container run by root in a new user namespace: seven "
      "mounts without source (proc, tmpfs, devpts, ...) then three bind mounts, as mount_sources; no "
      "oom_score_adj in the config, so none is sent.")

# --- order, padding, sizes
valid("runc-1.1-non-canonical-order", R11,
      message(attr(ROOTLESS_EUID, boolean(False)), attr(OOM_SCORE_ADJ, string("3")), cf(flags("net"))),
      plan(flags("net"), oom_score_adj=3, rootless_euid=False),
      "Attributes in reverse order, clone flags last: decoders accept any order, but the canonical encoding "
      "puts clone flags first, so re-encoding gives other bytes.", canonical=False)
valid("nsbootstrap-1-non-canonical-order", NSB,
      message(cf(flags("time", "user")), attr(CONSOLE_PATH, string("/dev/pts/0")),
              attr(TIME_OFFSETS, string("monotonic 1 0\n")), attr(UID_MAP, string("0 0 1\n"))),
      plan(flags("time", "user"), uid_map=ids((0, 0, 1)), time_offsets=offs(("monotonic", 1, 0)),
           console_path="/dev/pts/0"),
      "console_path before time_offsets before uid_map: strict-valid, not canonical.", canonical=False)
for path in ["/a", "/ab", "/abc", "/abcd"]:
    n = 4 + len(path) + 1
    valid("nsbootstrap-1-console-path-nla-len-%d" % n, NSB, message(cf(0), attr(CONSOLE_PATH, string(path))),
          plan(0, console_path=path),
          "A string attribute of nla_len %d, followed by %d padding byte(s): nla_len counts the NUL but not "
          "the padding, while the next attribute starts at align4(nla_len)." % (n, align4(n) - n))
for text in ["5", "10", "100", "-100"]:
    n = 4 + len(text) + 1
    valid("runc-rc93-oom-score-adj-nla-len-%d" % n, RC93, message(cf(0), attr(OOM_SCORE_ADJ, string(text))),
          plan(0, oom_score_adj=int(text)),
          "oom_score_adj '%s': nla_len %d, %d padding byte(s)." % (text, n, align4(n) - n))
for v in (-1000, 0, 1000):
    valid("runc-1.1-oom-score-adj-%s" % str(v).replace("-", "minus-"), R11,
          message(cf(0), attr(OOM_SCORE_ADJ, string(str(v)))), plan(0, oom_score_adj=v),
          "oom_score_adj %d, the %s of the range [-1000, 1000]." %
          (v, {-1000: "minimum", 0: "middle", 1000: "maximum"}[v]))
valid("runc-1.0-setgroups-false", R10, message(cf(flags("user")), attr(SETGROUPS, boolean(False))),
      plan(flags("user"), setgroups=False),
      "setgroups false (u32 0): present and false, which is not the same as absent (runc's Go encoder only "
      "ever sends true).")
valid("runc-1.2-rootless-euid-false", R12, message(cf(0), attr(ROOTLESS_EUID, boolean(False))),
      plan(0, rootless_euid=False),
      "rootless_euid false (u32 0), as runc's Go encoder sends it for every container run by root.")

R3 = [(1000, 101000, 500), (0, 100000, 1000), (1500, 101500, 1)]
valid("runc-1.1-uid-map-3-ranges", R11, message(cf(flags("user")), attr(UID_MAP, string(idmap_text(R3)))),
      plan(flags("user"), uid_map=ids(*R3)),
      "Three ranges, not sorted, each adjacent to another on both sides without overlapping: order is kept, "
      "touching ranges are allowed.")
valid("runc-1.0-uid-map-1-range", R10, message(cf(flags("user")), attr(UID_MAP, string("0 0 1\n"))),
      plan(flags("user"), uid_map=ids((0, 0, 1))), "The smallest id map: one range of size 1.")
R340 = [(i, 100000 + i, 1) for i in range(340)]
valid("runc-1.2-uid-map-340-ranges", R12, message(cf(flags("user")), attr(UID_MAP, string(idmap_text(R340)))),
      plan(flags("user"), uid_map=ids(*R340)),
      "340 ranges, the most the kernel (since Linux 4.15) and the spec allow.")
G340 = [(4294966955 + i, 4294966955 + i, 1) for i in range(340)]
valid("nsbootstrap-1-gid-map-340-long-ranges", NSB,
      message(cf(flags("user")), attr(GID_MAP, string(idmap_text(G340)))),
      plan(flags("user"), gid_map=ids(*G340)),
      "340 ranges of ten-digit ids ending at 4294967294 + 1 = 2^32 - 1: the longest canonical id map "
      "text (8160 bytes).")
valid("runc-1.1-uid-map-full-range", R11, message(cf(flags("user")), attr(UID_MAP, string("0 0 4294967295\n"))),
      plan(flags("user"), uid_map=ids((0, 0, 4294967295))),
      "The largest single range: size 4294967295, container_id + size = 2^32 - 1.")

valid("nsbootstrap-1-namespace-path-with-colon", NSB,
      message(cf(0), attr(NS_PATHS, string("net:/run/netns/a:b"))),
      plan(0, namespace_paths=ns(("net", "/run/netns/a:b"))),
      "The first ':' splits the type from the path; a later ':' belongs to the path.")
ALL8 = [(t, "/run/ctr1/ns/" + t) for t in ["user", "ipc", "uts", "net", "pid", "mnt", "cgroup", "time"]]
valid("runc-1.2-namespace-paths-all-eight", R12, message(cf(0), attr(NS_PATHS, string(ns_text(*ALL8)))),
      plan(0, namespace_paths=ns(*ALL8)),
      "All eight namespace types joined, time included, in the order runc's Go encoder writes them (user first).")
ALL7 = ALL8[:7]
valid("runc-1.0-namespace-paths-all-seven", R10, message(cf(0), attr(NS_PATHS, string(ns_text(*ALL7)))),
      plan(0, namespace_paths=ns(*ALL7)), "All seven namespace types runc-1.0 knows, joined.")
valid("runc-1.2-namespace-paths-user-last", R12,
      message(cf(0), attr(NS_PATHS, string("net:/proc/9/ns/net,user:/proc/9/ns/user"))),
      plan(0, namespace_paths=ns(("net", "/proc/9/ns/net"), ("user", "/proc/9/ns/user"))),
      "User namespace listed after net: any order is valid and decoders keep it (the join order is the "
      "executor's business).")

valid("runc-1.2-time-offsets-i64-limits", R12,
      message(cf(flags("time")),
              attr(TIME_OFFSETS, string("monotonic -9223372036854775808 0\nboottime 9223372036854775807 999999999\n"))),
      plan(flags("time"), time_offsets=offs(("monotonic", -9223372036854775808, 0),
                                            ("boottime", 9223372036854775807, 999999999))),
      "Seconds at the ends of the i64 range: the grammar takes any i64 (the kernel narrows it later).")

valid("runc-1.2-header-fields-kept", R12, message(cf(0), flags=0x0305, seq=0xdeadbeef, pid=4242),
      plan(0, netlink=(0x0305, 0xdeadbeef, 4242)),
      "nlmsg_flags 0x0305, nlmsg_seq 0xdeadbeef, nlmsg_pid 4242: they carry no meaning, decoders must not "
      "reject any value and must keep them so that decode then encode is byte-exact.")
valid("nsbootstrap-1-header-fields-extreme", NSB, message(cf(0), flags=0xffff, seq=0, pid=0xffffffff),
      plan(0, netlink=(0xffff, 0, 0xffffffff)),
      "nlmsg_flags 0xffff, nlmsg_seq 0, nlmsg_pid 0xffffffff: the extreme values are kept too.")

LONG = "/" + "p" * (MAX_PATH - 1)
valid("nsbootstrap-1-console-path-4095-bytes", NSB, message(cf(0), attr(CONSOLE_PATH, string(LONG))),
      plan(0, console_path=LONG), "A path of 4095 bytes (nla_len 4100), the longest the spec allows.")
LONG8 = [(t, "/" + t[0] * (MAX_PATH - 1)) for t, _ in ALL8]
valid("runc-1.2-namespace-paths-4095-byte-paths", R12, message(cf(0), attr(NS_PATHS, string(ns_text(*LONG8)))),
      plan(0, namespace_paths=ns(*LONG8)),
      "Eight namespaces each with a 4095-byte path: a 32809-byte attribute in a 32836-byte message, the "
      "largest namespace_paths strict decoding takes.")
valid("runc-1.1-newuidmap-path-4095-bytes", R11,
      message(cf(flags("user")), attr(NEWUIDMAP_PATH, string("/" + "u" * (MAX_PATH - 1)))),
      plan(flags("user"), newuidmap_path="/" + "u" * (MAX_PATH - 1)),
      "A newuidmap path of 4095 bytes.")

valid("nsbootstrap-1-plan-map-without-userns", NSB, message(cf(0), attr(UID_MAP, string("0 1000 1\n"))),
      plan(0, uid_map=ids((0, 1000, 1))),
      "A uid map without CLONE_NEWUSER decodes: plan consistency (plan-map-without-userns) is Plan::check's "
      "job before any side effect, not the decoder's.")
valid("nsbootstrap-1-plan-offsets-without-timens", NSB,
      message(cf(0), attr(TIME_OFFSETS, string("monotonic 1 0\n"))),
      plan(0, time_offsets=offs(("monotonic", 1, 0))),
      "Time offsets without CLONE_NEWTIME decode; Plan::check refuses them (plan-offsets-without-timens).")
valid("nsbootstrap-1-plan-join-and-create", NSB,
      message(cf(flags("net")), attr(NS_PATHS, string("net:/proc/1/ns/net"))),
      plan(flags("net"), namespace_paths=ns(("net", "/proc/1/ns/net"))),
      "The net namespace both joined and created decodes; Plan::check refuses it (plan-join-and-create).")

# ================================================================================================
# Invalid vectors: strict decoding fails (one fault each); lenient decoding fails or gives a plan.
# ================================================================================================

OK = message(cf(0))   # 24 bytes

# --- header
invalid("truncated-header-empty", NSB, Message([], cut=0), err("truncated-header", 0), SAME,
        "An empty input: no header at all.")
invalid("truncated-header-1-byte", NSB, message(cf(0), cut=1), err("truncated-header", 0), SAME,
        "One byte: the first of nlmsg_len.")
invalid("truncated-header-15-bytes", NSB, message(cf(0), cut=15), err("truncated-header", 0), SAME,
        "15 bytes, one short of a header: the header checks need all 16.")
invalid("length-too-short-0", NSB, message(cf(0), nlmsg_len=0), err("length-too-short", 0), SAME,
        "nlmsg_len 0 is below the header's own 16 bytes (runc's C computes a negative payload size from it).")
invalid("length-too-short-15", R11, message(nlmsg_len=15), err("length-too-short", 0), SAME,
        "nlmsg_len 15 in a 16-byte buffer: less than the header itself.")
invalid("length-too-large-max-u32", NSB, message(cf(0), nlmsg_len=0xFFFFFFFF), err("length-too-large", 0), SAME,
        "nlmsg_len 0xFFFFFFFF with 24 bytes of data: refused from the header alone, before anything is "
        "allocated or read (a stream reader must not wait for 4 GiB).")
invalid("length-too-large-near-4gib", R12, message(cf(0), nlmsg_len=0xFFFFFFF0), err("length-too-large", 0), SAME,
        "nlmsg_len 0xFFFFFFF0 (near 4 GiB, and a multiple of 4) with 24 bytes of data: too large, not truncated, "
        "since the length check comes first.")
invalid("length-too-large-1mib-plus-4", R11, message(cf(0), nlmsg_len=MAX_MESSAGE_LEN + 4),
        err("length-too-large", 0), SAME,
        "nlmsg_len 1048580, one aligned step over MAX_MESSAGE_LEN (1 MiB).")
invalid("length-1mib-truncated", NSB, message(cf(0), nlmsg_len=MAX_MESSAGE_LEN), err("truncated", 24), SAME,
        "nlmsg_len exactly 1048576 is allowed (the limit is inclusive), so these 24 bytes are a truncated "
        "message, not a too-large one.")
NLMSG_ERROR_BODY = struct.pack("<i", -1) + header(24, INIT_MSG, 1, 1, 0)
invalid("wrong-type-nlmsg-error", R12, Message([NLMSG_ERROR_BODY], type=2, flags=0),
        err("wrong-type", 4), SAME,
        "nlmsg_type 2 (NLMSG_ERROR: error -1 and the header of the message it answers): only 62000 is a "
        "bootstrap message.")
invalid("wrong-type-byte-swapped", R11,
        message(cf(0), type=struct.unpack("<H", struct.pack(">H", INIT_MSG))[0]), err("wrong-type", 4), SAME,
        "nlmsg_type 62000 written big-endian (reads as 62128 here): a message from a host of the other byte "
        "order.")
invalid("wrong-type-62001", RC93, message(cf(0), type=INIT_MSG + 1), err("wrong-type", 4), SAME,
        "nlmsg_type 62001, one off.")
invalid("truncated", NSB, message(cf(0), nlmsg_len=40), err("truncated", 24), SAME,
        "nlmsg_len 40 but only 24 bytes: the header is longer than the data; the offset is the number of bytes "
        "available.")
m = Message(ROOTLESS_PARTS, cut=101)
assert m.at(3) < 101 < m.at(4)
invalid("truncated-mid-attribute", R11, m, err("truncated", 101), SAME,
        "runc 1.1's rootless message cut after 101 of its %d bytes, inside the uid map: whole-buffer "
        "decoding reports truncated at the end of the data." % m.nlmsg_len)
invalid("trailing-bytes", NSB, message(cf(0), trailing=b"\0\0\0\0"), err("trailing-bytes", 24), SAME,
        "Four zero bytes after a complete message in a buffer meant to hold exactly one (a stream reader "
        "would instead leave them in the stream).")
invalid("trailing-cgroup-byte", R10, message(cf(flags("cgroup")), trailing=b"\x80"), err("trailing-bytes", 24),
        SAME, "The byte 0x80 that runc <= 1.0 runtimes write on the init pipe after the message (to let stage 2 "
        "unshare the cgroup namespace), read in the same buffer: not part of the message.")
invalid("trailing-second-message", R12, message(cf(0), trailing=OK.data), err("trailing-bytes", 24), SAME,
        "Two complete messages back to back: whole-buffer decoding of one message refuses the second.")

# --- framing of attributes
invalid("unaligned-length", NSB, message(cf(0), attr(CONSOLE_PATH, string("/a"), pad=False)),
        err("unaligned-length", 0), plan(0, console_path="/a"),
        "The last attribute's padding byte is missing, so nlmsg_len is 31, not a multiple of 4: strict refuses "
        "it; lenient (like runc's C) takes the padding as cut off by the end of the message.")
invalid("unaligned-length-oom", R10, message(cf(0), attr(OOM_SCORE_ADJ, string("5"), pad=False)),
        err("unaligned-length", 0), plan(0, oom_score_adj=5),
        "oom_score_adj '5' (nla_len 6) last without its 2 padding bytes: nlmsg_len 30.")
for k in (1, 2, 3):
    invalid("attr-header-truncated-%d" % k, R12, message(cf(0), b"\x08\x00\x96"[:k]),
            err("unaligned-length", 0), err("attr-header-truncated", 24),
            "%d byte(s) after the last attribute, fewer than an attribute header's 4. Strict decoders stop at the "
            "unaligned nlmsg_len (%d) first, so attr-header-truncated only shows in lenient mode (runc's C would "
            "read past the end)." % (k, 24 + k))
for n in (0, 1, 3):
    m = message(cf(0), attr(OOM_SCORE_ADJ, string("5"), nla_len=n))
    invalid("attr-too-short-%d" % n, R12, m, err("attr-too-short", m.at(1)), SAME,
            "nla_len %d, below the 4 bytes of the attribute header itself.%s" %
            (n, " runc's C decoder never advances on it and loops forever." if n == 0 else
             " runc's C decoder computes a negative payload length."))
m = message(cf(0), attr(OOM_SCORE_ADJ, string("5"), nla_len=200))
invalid("attr-past-end", R12, m, err("attr-past-end", m.at(1)), SAME,
        "nla_len 200 in a 32-byte message: the attribute runs past nlmsg_len (runc reads out of bounds).")
m = message(attr(CLONE_FLAGS, u32(0), nla_len=9))
invalid("attr-past-end-by-one", NSB, m, err("attr-past-end", m.at(0)), SAME,
        "The only attribute claims 9 bytes where 8 remain: one byte past the end.")
m = message(cf(0), attr(NS_PATHS, string("net:/x"), nla_len=0xFFFF))
invalid("attr-past-end-max-nla-len", R11, m, err("attr-past-end", m.at(1)), SAME,
        "nla_len 65535, the largest u16, in a short message.")

# --- attribute types and dialects
for name, d, t, payload, why in [
    ("unknown-attr-27291", NSB, 27291, string("x"), "27291: the next number runc might use; no dialect knows it yet."),
    ("unknown-attr-10898", R12, 27282 & ~0x4000, string("net:/proc/1/ns/net"),
     "10898 is 27282 (namespace paths) with bit 0x4000 cleared: all 16 bits of nla_type count, nothing is masked."),
    ("unknown-attr-nested-bit", R11, 27282 | 0x8000, string("net:/proc/1/ns/net"),
     "60050 is 27282 with NLA_F_NESTED (0x8000) set: not namespace paths, an unknown type."),
    ("unknown-attr-0", R11, 0, u32(0), "Type 0."),
    ("unknown-attr-27280", RC93, 27280, u32(0), "27280, just below the runc range."),
    ("unknown-attr-27399", NSB, 27399, string("/x"), "27399, the top of the range left to runc's future growth."),
    ("unknown-attr-27401", NSB, 27401, string("/x"), "27401, next to the console path in the extension range."),
]:
    m = message(cf(0), attr(t, payload))
    invalid(name, d, m, err("unknown-attr", m.at(1)), SAME,
            why + " Unknown types are refused in both modes, as runc's C decoder bails on them.")
for name, d, t, payload, why in [
    ("runc-rc93-27290-mount-sources", RC93, 27290, nul_list(["/src", None]),
     "A runc-1.1 mount-sources payload sent to the seed's runc: 27290 does not exist before runc 1.1."),
    ("runc-1.0-27290-mount-sources", R10, 27290, nul_list(["/src", None]),
     "A runc-1.1 mount-sources payload sent to runc-1.0: 27290 is not in this dialect."),
    ("runc-1.0-27290-time-offsets", R10, 27290, string("monotonic 1 0\n"),
     "A runc-1.2 time-offsets payload sent to runc-1.0."),
    ("runc-rc93-console-path", RC93, CONSOLE_PATH, string("/dev/pts/0"),
     "The console path (27400) is nsbootstrap-1's alone."),
    ("runc-1.0-console-path", R10, CONSOLE_PATH, string("/dev/pts/0"), "The console path in runc-1.0."),
    ("runc-1.1-console-path", R11, CONSOLE_PATH, string("/dev/pts/0"),
     "The console path in runc-1.1 (Debian's runc 1.1.5 refuses it as unknown)."),
    ("runc-1.2-console-path", R12, CONSOLE_PATH, string("/dev/pts/0"), "The console path in runc-1.2."),
]:
    m = message(cf(0), attr(t, payload))
    invalid(name, d, m, err("attr-not-in-dialect", m.at(1)), SAME,
            why + " A known number outside this dialect is refused in both modes.")
m = message(cf(flags("mnt", "user")), attr(MOUNT_SOURCES, string("monotonic 1 0\n")))
invalid("runc-1.1-27290-time-offsets", R11, m, err("bad-mount-sources", m.at(1)), SAME,
        "runc-1.2's time offsets read as runc-1.1 mount sources: the text before the final NUL does not end in "
        "an entry's NUL. The same number means another thing in another dialect.")
m = message(cf(flags("time")), attr(TIME_OFFSETS, nul_list(["/src", None])))
invalid("runc-1.2-27290-mount-sources", R12, m, err("embedded-nul", m.at(1)), SAME,
        "runc-1.1's mount sources read as runc-1.2 time offsets: a string with NULs inside.")

# --- repeated and missing attributes
m = message(cf(0), attr(OOM_SCORE_ADJ, string("5")), attr(OOM_SCORE_ADJ, string("7")))
invalid("repeated-attr", R11, m, err("repeated-attr", m.at(2)), plan(0, oom_score_adj=7),
        "oom_score_adj twice: strict refuses the second at its offset; lenient keeps the last (7) as runc's C "
        "decoder does.")
m = message(cf(flags("net")), cf(flags("pid")))
invalid("repeated-clone-flags", R12, m, err("repeated-attr", m.at(1)), plan(flags("pid")),
        "Clone flags twice (net, then pid): lenient keeps the last.")
m = message(cf(0), attr(CONSOLE_PATH, string("/dev/pts/1")), attr(NS_PATHS, string("net:/a")),
            attr(CONSOLE_PATH, string("/dev/pts/2")))
invalid("repeated-console-path", NSB, m, err("repeated-attr", m.at(3)),
        plan(0, namespace_paths=ns(("net", "/a")), console_path="/dev/pts/2"),
        "The console path twice with another attribute between: the repeat is found wherever it is.")
m = message()
invalid("missing-attr-header-only", R12, m, err("missing-attr", 16), plan(0),
        "A header alone (nlmsg_len 16): strict requires clone flags, reported at nlmsg_len after the walk; "
        "lenient reads absent clone flags as none (runc creates nothing).")
m = message(attr(ROOTLESS_EUID, boolean(False)))
invalid("missing-attr-clone-flags", R11, m, err("missing-attr", 24), plan(0, rootless_euid=False),
        "rootless_euid without clone flags (runc's Go encoder always sends them): missing-attr at nlmsg_len 24.")

# --- padding
m = message(cf(0), attr(CONSOLE_PATH, string("/a"), pad_bytes=b"\x01"))
invalid("nonzero-padding", NSB, m, err("nonzero-padding", m.at(1)), plan(0, console_path="/a"),
        "The padding byte after console_path '/a' is 0x01: strict requires zero padding, lenient ignores it.")
m = message(cf(0), attr(OOM_SCORE_ADJ, string("5"), pad_bytes=b"\x00\xff"), attr(ROOTLESS_EUID, boolean(True)))
invalid("nonzero-padding-not-last", R11, m, err("nonzero-padding", m.at(1)),
        plan(0, oom_score_adj=5, rootless_euid=True),
        "The second of two padding bytes is 0xff, in an attribute followed by another.")

# --- payload lengths
for name, d, a, lenient, why in [
    ("clone-flags-3-bytes", NSB, attr(CLONE_FLAGS, b"\0\0\0"), SAME,
     "A 3-byte clone flags payload (runc's C reads a fourth byte beyond it)."),
    ("clone-flags-5-bytes", R12, attr(CLONE_FLAGS, b"\0\0\0\0\0"), SAME, "A 5-byte clone flags payload."),
    ("clone-flags-8-bytes", R11, attr(CLONE_FLAGS, struct.pack("<Q", 0)), SAME,
     "Clone flags as a u64 (8 bytes): a u32 is exactly 4 bytes."),
]:
    m = message(a)
    invalid(name, d, m, err("payload-length", m.at(0)), lenient, why)
for name, d, a, lenient, why in [
    ("bool-2-bytes", R12, attr(SETGROUPS, b"\x01\x00"), SAME,
     "A 2-byte bool: neither the Go encoder's 4 bytes nor an old 1-byte bool, in either mode."),
    ("bool-0-bytes", R11, attr(ROOTLESS_EUID, b""), SAME, "A bool with no payload (nla_len 4)."),
    ("bool-1-byte", R11, attr(ROOTLESS_EUID, b"\x01"), plan(0, rootless_euid=True),
     "A 1-byte bool, as encoders sent before 2018 and runc's C still reads: strict wants 4 bytes, "
     "lenient reads byte 1 as true."),
    ("bool-1-byte-zero", R10, attr(SETGROUPS, b"\x00"), plan(0, setgroups=False),
     "A 1-byte bool 0: lenient reads false (present, not absent)."),
    ("string-empty-payload", R12, attr(NS_PATHS, b""), SAME,
     "namespace_paths with nla_len 4: no payload at all, not even the NUL, so not a string."),
    ("console-path-empty-payload", NSB, attr(CONSOLE_PATH, b""), SAME, "console_path with nla_len 4."),
    ("mount-sources-empty-payload", R11, attr(MOUNT_SOURCES, b""), SAME,
     "mount_sources with nla_len 4: a NUL-list needs at least its final NUL (an empty list is '\\0')."),
]:
    m = message(cf(0), a)
    invalid(name, d, m, err("payload-length", m.at(1)), lenient, why)

# --- bools
m = message(cf(flags("user")), attr(SETGROUPS, u32(2)))
invalid("bad-bool-2", R12, m, err("bad-bool", m.at(1)), plan(flags("user"), setgroups=True),
        "A bool of value 2: strict takes only 0 and 1; lenient reads any non-zero u32 as true.")
m = message(cf(0), attr(ROOTLESS_EUID, struct.pack(">I", 1)))
invalid("bad-bool-big-endian-1", R11, m, err("bad-bool", m.at(1)), plan(0, rootless_euid=True),
        "A bool 1 written big-endian (bytes 00 00 00 01): decoders read the u32 (16777216, true in lenient "
        "mode); runc's C reads only the first byte and would see false.")

# --- clone flags
for name, d, v, why in [
    ("unknown-clone-flags", R12, flags("net") | 0x100, "Bit 0x100 (CLONE_VM) names no namespace."),
    ("unknown-clone-flags-several", NSB, flags("user", "pid") | 0x80000000 | 0x00010000 | 0x100,
     "Three bits that are not namespaces (0x80000000, CLONE_THREAD 0x10000, CLONE_VM 0x100): lenient "
     "lists them as one hex string after the names."),
    ("runc-1.1-clone-newtime", R11, flags("time", "mnt"),
     "CLONE_NEWTIME (0x80) before runc 1.2 is not a namespace bit of the dialect; lenient keeps it, under "
     "its name."),
    ("runc-rc93-clone-newtime", RC93, flags("time"), "CLONE_NEWTIME in the seed's dialect."),
]:
    m = message(cf(v))
    invalid(name, d, m, err("unknown-clone-flags", m.at(0)), plan(v),
            why + " Strict refuses clone flags outside the dialect's namespace bits; lenient keeps every bit.")

# --- strings: NUL
m = message(cf(0), attr(NS_PATHS, b"net:/x"))
invalid("missing-nul", R12, m, err("missing-nul", m.at(1)), SAME,
        "namespace_paths without its NUL (runc's C would read past the payload).")
m = message(cf(0), attr(OOM_SCORE_ADJ, b"5"))
invalid("missing-nul-oom-score-adj", R11, m, err("missing-nul", m.at(1)), SAME,
        "oom_score_adj '5' without its NUL (nla_len 5); the zero padding after it does not count.")
m = message(cf(flags("mnt", "user")), attr(MOUNT_SOURCES, b"/a\0/b"))
invalid("mount-sources-missing-nul", R11, m, err("missing-nul", m.at(1)), SAME,
        "A NUL-list whose last byte is not NUL.")
m = message(cf(0), attr(NS_PATHS, b"net:/x\0ipc:/y\0"))
invalid("embedded-nul", R12, m, err("embedded-nul", m.at(1)), SAME,
        "A NUL inside namespace_paths: runc's C would silently drop 'ipc:/y' after it.")
m = message(cf(0), attr(CONSOLE_PATH, b"/dev/pts/1\0\0"))
invalid("embedded-nul-double", NSB, m, err("embedded-nul", m.at(1)), SAME,
        "A console path followed by two NULs: the first is inside the payload, so it is embedded, not padding.")

# --- empty payloads
for name, d, cfv, a, why in [
    ("empty-namespace-paths", R12, 0, attr(NS_PATHS, string("")), "An empty namespace list (runc bails on it)."),
    ("empty-uid-map", R11, flags("user"), attr(UID_MAP, string("")), "An empty uid map (no lines)."),
    ("empty-gid-map", RC93, flags("user"), attr(GID_MAP, string("")), "An empty gid map."),
    ("empty-newuidmap-path", R10, flags("user"), attr(NEWUIDMAP_PATH, string("")), "An empty newuidmap path."),
    ("empty-console-path", NSB, 0, attr(CONSOLE_PATH, string("")), "An empty console path."),
]:
    m = message(cf(cfv), a)
    invalid(name, d, m, err("empty-payload", m.at(1)), SAME,
            why + " The payload is the NUL alone (nla_len 5); refused in both modes.")
m = message(cf(flags("time")), attr(TIME_OFFSETS, string("")))
invalid("runc-1.2-time-offsets-empty", R12, m, err("empty-payload", m.at(1)), plan(flags("time"), time_offsets=[]),
        "Empty time offsets (the NUL alone): runc 1.2's Go encoder sends this for an empty, non-nil offsets map "
        "and runc's C skips it. Strict wants 1 or 2 lines; lenient reads no offsets (an empty list, not an "
        "absent attribute).")
m = message(cf(0), attr(OOM_SCORE_ADJ, string("")))
invalid("oom-score-adj-empty", R11, m, err("bad-oom-score-adj", m.at(1)), SAME,
        "An empty oom_score_adj is not a number: its grammar has no empty-payload case.")

# --- namespace paths
for name, d, text, cls, lenient, why in [
    ("ns-entry-without-colon", R12, "net", "bad-ns-entry", SAME, "An entry without ':'."),
    ("ns-entry-empty", R12, "net:/a,,ipc:/b", "bad-ns-entry", ns(("net", "/a"), ("ipc", "/b")),
     "An empty entry between two commas: strict refuses it; lenient skips it as runc's strtok does."),
    ("ns-entry-leading-comma", R11, ",net:/a", "bad-ns-entry", ns(("net", "/a")),
     "A leading comma: an empty first entry, skipped by lenient decoders."),
    ("ns-entry-trailing-comma", NSB, "net:/a,", "bad-ns-entry", ns(("net", "/a")),
     "A trailing comma: an empty last entry, skipped by lenient decoders."),
    ("ns-entry-empty-path", R12, "net:", "bad-ns-entry", SAME, "A type with an empty path, in both modes."),
    ("unknown-ns-type", R12, "foo:/x", "unknown-ns-type", SAME,
     "An unknown type name: runc <= 1.2 passes 0 to setns for it, runc >= 1.3 refuses it; both modes refuse."),
    ("unknown-ns-type-uppercase", NSB, "NET:/proc/1/ns/net", "unknown-ns-type", SAME,
     "Type names are lower case: 'NET' is unknown."),
    ("runc-1.1-time-ns-path", R11, "time:/proc/1/ns/time", "ns-type-not-in-dialect",
     ns(("time", "/proc/1/ns/time")),
     "Joining a time namespace before runc 1.2: strict refuses; lenient accepts time in any dialect."),
    ("runc-rc93-time-ns-path", RC93, "user:/proc/1/ns/user,time:/proc/1/ns/time", "ns-type-not-in-dialect",
     ns(("user", "/proc/1/ns/user"), ("time", "/proc/1/ns/time")), "A time namespace path in the seed's dialect."),
    ("relative-ns-path", R12, "net:proc/1/ns/net", "relative-path", ns(("net", "proc/1/ns/net")),
     "A relative path (runc would open it relative to its working directory); lenient allows it."),
    ("ns-path-too-long", R12, "net:/" + "n" * MAX_PATH, "path-too-long", SAME,
     "A 4096-byte path, one over MAX_PATH, in both modes."),
    ("repeated-ns-type", R12, "net:/a,net:/b", "repeated-ns-type", ns(("net", "/a"), ("net", "/b")),
     "The same type twice: strict refuses; lenient keeps both entries in order."),
]:
    m = message(cf(0), attr(NS_PATHS, string(text)))
    invalid(name, d, m, err(cls, m.at(1)), lenient if lenient is SAME else plan(0, namespace_paths=lenient), why)

# --- paths
for name, d, cfv, t, text, cls, key, lenient, why in [
    ("relative-console-path", NSB, 0, CONSOLE_PATH, "pts/0", "relative-path", "console_path", "pts/0",
     "A relative console path: strict refuses it; lenient takes any non-empty path."),
    ("relative-newuidmap-path", R11, flags("user"), NEWUIDMAP_PATH, "newuidmap", "relative-path",
     "newuidmap_path", "newuidmap", "A bare program name as the newuidmap path."),
    ("relative-newgidmap-path", R12, flags("user"), NEWGIDMAP_PATH, "./newgidmap", "relative-path",
     "newgidmap_path", "./newgidmap", "A relative newgidmap path."),
    ("console-path-too-long", NSB, 0, CONSOLE_PATH, "/" + "c" * MAX_PATH, "path-too-long", None, SAME,
     "A 4096-byte console path, one over MAX_PATH, in both modes."),
    ("newgidmap-path-too-long", R10, flags("user"), NEWGIDMAP_PATH, "/" + "g" * MAX_PATH, "path-too-long", None,
     SAME, "A 4096-byte newgidmap path."),
]:
    m = message(cf(cfv), attr(t, string(text)))
    invalid(name, d, m, err(cls, m.at(1)), lenient if lenient is SAME else plan(cfv, **{key: lenient}), why)

# --- id maps
for name, d, t, text, cls, lenient, why in [
    ("id-map-two-fields", R11, UID_MAP, "0 1000\n", "bad-id-map", SAME, "A line with two fields instead of three."),
    ("id-map-four-fields", R12, GID_MAP, "0 1000 1 1\n", "bad-id-map", SAME, "A line with four fields."),
    ("id-map-zero-size", R11, UID_MAP, "0 1000 0\n", "bad-id-map", SAME,
     "A range of size 0 (the kernel refuses it too)."),
    ("id-map-container-overflow", R11, UID_MAP, "4294967295 0 2\n", "bad-id-map", SAME,
     "container_id + size = 2^32 + 1, past the 32-bit id space."),
    ("id-map-host-overflow", NSB, GID_MAP, "0 4294967200 100\n", "bad-id-map", SAME,
     "host_id + size = 2^32 + 4, over 2^32."),
    ("id-map-reaches-2-32", R12, UID_MAP, "4294967295 0 1\n", "bad-id-map", SAME,
     "container_id + size = 2^32 exactly: the range holds id 4294967295, (uid_t)-1, which the kernel refuses."),
    ("id-map-value-too-large", R11, UID_MAP, "4294967296 0 1\n", "bad-id-map", SAME,
     "container_id 4294967296 does not fit a u32."),
    ("id-map-negative", R12, UID_MAP, "-1 0 1\n", "bad-id-map", SAME, "A negative id."),
    ("id-map-leading-zero", R11, UID_MAP, "00 1000 1\n", "bad-id-map", [(0, 1000, 1)],
     "'00': strict wants canonical decimals; lenient, like the kernel, reads 0."),
    ("id-map-double-space", R11, UID_MAP, "0  1000 1\n", "bad-id-map", [(0, 1000, 1)],
     "Two spaces between fields: the kernel takes runs of spaces, so lenient does."),
    ("id-map-tabs", NSB, GID_MAP, "0\t1000\t1\n", "bad-id-map", [(0, 1000, 1)],
     "Tabs between fields: lenient takes them."),
    ("id-map-no-final-newline", R12, UID_MAP, "0 1000 1\n1 100000 65536", "bad-id-map",
     [(0, 1000, 1), (1, 100000, 65536)], "The last line lacks its LF: lenient takes it."),
    ("id-map-overlap", R11, GID_MAP, "0 1000 10\n5 2000 10\n", "id-map-overlap", SAME,
     "Two ranges overlap on the container side (ids 5-9); the kernel refuses it, so both modes do."),
    ("id-map-overlap-host", R12, UID_MAP, "0 1000 10\n100 1009 1\n", "id-map-overlap", SAME,
     "Two ranges overlap on the host side (id 1009)."),
]:
    cfv = flags("user")
    m = message(cf(cfv), attr(t, string(text)))
    key = "uid_map" if t == UID_MAP else "gid_map"
    invalid(name, d, m, err(cls, m.at(1)), lenient if lenient is SAME else plan(cfv, **{key: ids(*lenient)}), why)
R341 = [(i, 100000 + i, 1) for i in range(341)]
m = message(cf(flags("user")), attr(UID_MAP, string(idmap_text(R341))))
invalid("id-map-341-ranges", R12, m, err("id-map-too-long", m.at(1)), SAME,
        "341 ranges, one more than the kernel and the spec allow, in both modes.")

# --- oom_score_adj
for name, d, text, lenient, why in [
    ("oom-score-adj-1001", R11, "1001", SAME, "1001, over the maximum 1000, in both modes."),
    ("oom-score-adj-minus-1001", R12, "-1001", SAME, "-1001, under the minimum -1000."),
    ("oom-score-adj-plus-sign", R11, "+5", 5, "'+5': the kernel takes a '+', the canonical grammar does not."),
    ("oom-score-adj-letters", R11, "abc", SAME, "'abc' is no number in either mode."),
    ("oom-score-adj-minus-zero", R11, "-0", 0, "'-0': the canonical form of zero is '0'; lenient reads 0."),
    ("oom-score-adj-leading-zeros", NSB, "007", 7,
     "'007': leading zeros are not canonical; lenient reads 7 (same value read as octal, as the kernel's "
     "base-0 parser would)."),
    ("oom-score-adj-newline", R10, "5\n", 5,
     "'5' and LF, as echo writes it: the kernel strips surrounding whitespace, so lenient does."),
]:
    m = message(cf(0), attr(OOM_SCORE_ADJ, string(text)))
    invalid(name, d, m, err("bad-oom-score-adj", m.at(1)),
            lenient if lenient is SAME else plan(0, oom_score_adj=lenient), why)

# --- mount sources
MS_CF = flags("mnt", "user")
m = message(cf(MS_CF), attr(MOUNT_SOURCES, b"/a\0"))
invalid("mount-sources-unterminated-entry", R11, m, err("bad-mount-sources", m.at(1)), SAME,
        "Entries each end in NUL, then comes the string's NUL; here '/a' is followed by one NUL only, so its "
        "entry is unterminated.")
m = message(cf(MS_CF), attr(MOUNT_SOURCES, nul_list(["/a", "b"])))
invalid("mount-sources-relative", R11, m, err("relative-path", m.at(1)), plan(MS_CF, mount_sources=["/a", "b"]),
        "A relative mount source: strict refuses it; lenient takes it.")

# --- time offsets
TIME_CF = flags("time")
for name, d, text, lenient, why in [
    ("time-offsets-unknown-clock", R12, "realtime 1 0\n", SAME, "Only monotonic and boottime can be offset."),
    ("time-offsets-nanosecs-1e9", R12, "monotonic 1 1000000000\n", SAME,
     "nanosecs 1000000000: one second too many, in both modes."),
    ("time-offsets-negative-nanosecs", NSB, "monotonic 1 -1\n", SAME, "Negative nanoseconds."),
    ("time-offsets-repeated-clock", R12, "monotonic 1 0\nmonotonic 2 0\n", SAME, "The same clock twice."),
    ("time-offsets-two-fields", NSB, "monotonic 1\n", SAME, "A line without nanoseconds."),
    ("time-offsets-secs-overflow", R12, "boottime 9223372036854775808 0\n", SAME, "Seconds over the i64 maximum."),
    ("time-offsets-numeric-clock", R12, "1 5 0\n", [("monotonic", 5, 0)],
     "Clock id 1 (CLOCK_MONOTONIC) instead of its name: the kernel takes it, lenient reads monotonic."),
    ("time-offsets-numeric-boottime", NSB, "7 -5 0\n", [("boottime", -5, 0)],
     "Clock id 7 (CLOCK_BOOTTIME): lenient reads boottime."),
    ("time-offsets-leading-zero", NSB, "monotonic 05 0\n", [("monotonic", 5, 0)],
     "Seconds '05': lenient reads 5."),
    ("time-offsets-no-final-newline", R12, "boottime 3 0", [("boottime", 3, 0)],
     "The last line lacks its LF: lenient takes it."),
]:
    m = message(cf(TIME_CF), attr(TIME_OFFSETS, string(text)))
    invalid(name, d, m, err("bad-time-offsets", m.at(1)),
            lenient if lenient is SAME else plan(TIME_CF, time_offsets=offs(*lenient)), why)


# --- rules pinned for implementers who read only the text (issue 12): one fault each, or the order
# of two checks on one input
invalid("unaligned-length-truncated", R12, message(cf(0), attr(NS_PATHS, string("net:/x"), pad=False),
                                                          nlmsg_len=31, cut=24),
        err("unaligned-length", 0), err("truncated", 24),
        "nlmsg_len 31 with 24 bytes: strict stops at the unaligned length first (H7 comes right after H4), "
        "as a stream reader does when it holds the 16 header bytes, so the class does not depend on how the "
        "bytes arrive; lenient reports the truncation.")
invalid("unaligned-length-trailing", NSB, message(cf(0), nlmsg_len=21, cut=24),
        err("unaligned-length", 0), err("trailing-bytes", 21),
        "nlmsg_len 21 in a 24-byte buffer: strict reports the unaligned length before the trailing bytes; "
        "lenient reports the 3 bytes after the message.")
R341_BAD = "".join("%d %d 1\n" % (i, 100000 + i) for i in range(340)) + "x y z\n"
m = message(cf(flags("user")), attr(UID_MAP, string(R341_BAD)))
invalid("id-map-341st-line-off-the-grammar", R11, m, err("id-map-too-long", m.at(1)), SAME,
        "340 good ranges and a 341st line that is not a range: reaching a 341st line is id-map-too-long "
        "before that line is read (the checks run line by line).")
R341_OVERLAP = "".join("%d %d 1\n" % (i, 100000 + i) for i in range(340)) + "0 5 1\n"
m = message(cf(flags("user")), attr(UID_MAP, string(R341_OVERLAP)))
invalid("id-map-341st-line-overlaps", NSB, m, err("id-map-too-long", m.at(1)), SAME,
        "341 ranges of which the last overlaps the first: the count is a line-by-line check, the overlap a "
        "check over all ranges after them, so the class is id-map-too-long.")
for name, d, ch, why in [
    ("id-map-carriage-return", R12, "\r", "CR"),
    ("id-map-vertical-tab", R11, "\v", "VT"),
    ("id-map-form-feed", NSB, "\f", "FF"),
]:
    m = message(cf(flags("user")), attr(UID_MAP, string("0%s1000 1\n" % ch)))
    invalid(name, d, m, err("bad-id-map", m.at(1)), SAME,
            "A %s between two fields: the kernel's parser skips it (isspace), but this protocol's lenient "
            "grammar takes only spaces and tabs, so both modes refuse it." % why)
m = message(cf(0), attr(OOM_SCORE_ADJ, string("0x10")))
invalid("oom-score-adj-hex", R11, m, err("bad-oom-score-adj", m.at(1)), SAME,
        "'0x10': the kernel's base-0 parser reads 16, but lenient decoders read decimals only, so both modes "
        "refuse it.")
m = message(cf(flags("time")), attr(TIME_OFFSETS, string("monotonic +5 0\n")))
invalid("time-offsets-plus-sign", R12, m, err("bad-time-offsets", m.at(1)),
        plan(flags("time"), time_offsets=offs(("monotonic", 5, 0))),
        "Seconds '+5': not canonical; the kernel's parser takes the sign, so lenient reads 5.")
m = message(cf(flags("time")), attr(TIME_OFFSETS, string("1 5 0\nmonotonic 6 0\n")))
invalid("time-offsets-clock-1-and-monotonic", NSB, m, err("bad-time-offsets", m.at(1)), SAME,
        "Clock id 1 and the name monotonic are one clock: lenient reads monotonic twice and refuses it.")
m = message(cf(0), attr(NS_PATHS, string(":/x")))
invalid("ns-entry-empty-type", R12, m, err("unknown-ns-type", m.at(1)), SAME,
        "':/x': the entry has its colon, so it is not a bad entry; its type name is empty, which is no type "
        "the protocol knows.")
m = message(cf(flags("user")), attr(NEWUIDMAP_PATH, string("n" * (MAX_PATH + 1))))
invalid("newuidmap-path-relative-and-too-long", R12, m, err("relative-path", m.at(1)), err("path-too-long", m.at(1)),
        "A 4096-byte relative path: strict reports relative-path (checked before the length); lenient, which "
        "takes relative paths, reports path-too-long.")
m = message(cf(flags("mnt")), attr(MOUNT_SOURCES, nul_list(["/" + "m" * MAX_PATH])))
invalid("mount-sources-entry-too-long", R11, m, err("path-too-long", m.at(1)), SAME,
        "A mount source of 4096 bytes, one over MAX_PATH, in both modes.")
m = message(cf(flags("mnt")), attr(MOUNT_SOURCES, nul_list(["m" * (MAX_PATH + 1)])))
invalid("mount-sources-relative-and-too-long", R11, m, err("relative-path", m.at(1)), err("path-too-long", m.at(1)),
        "A relative mount source of 4096 bytes: strict reports relative-path first; lenient path-too-long.")


# ================================================================================================
# Writing and checking
# ================================================================================================

README_BEGIN = "<!-- vector table: generated by generate.py, do not edit by hand -->"
README_END = "<!-- end of vector table -->"


def first_sentence(text):
    i = text.find(". ")
    return text if i < 0 else text[:i + 1]


def table():
    lines = [README_BEGIN, "", "%d valid, %d invalid." % (len(VALID), len(INVALID)), "",
             "| vector | dialect | strict | lenient | purpose |", "|---|---|---|---|---|"]
    for group, vs in (("valid", VALID), ("invalid", INVALID)):
        for v in sorted(vs, key=lambda v: v["name"]):
            j = v["json"]

            def show(o):
                if "plan" in o:
                    return "plan"
                return "`%s` @%d" % (o["error"]["class"], o["error"]["offset"])
            lines.append("| `%s/%s` | %s | %s | %s | %s |" % (
                group, v["name"], v["dialect"], show(j["strict"]), show(j["lenient"]),
                first_sentence(v["description"]).replace("|", "\\|")))
    lines += ["", README_END]
    return "\n".join(lines)


def readme_with_table(text):
    a, b = text.find(README_BEGIN), text.find(README_END)
    if a < 0 or b < a:
        raise SystemExit("README.md lacks the vector table markers")
    return text[:a] + table() + text[b + len(README_END):]


# Setup records: the nsbootstrap-1 go-ahead with a final-process setup record (spec section 14.1).
# Each .bin is what the runtime writes after the PID report: 0x02, the record length (u32 LE), the record.
# The .json gives the entries a reader must find, in order, or the reason it must stop at.

def setup_entry(tag, value):
    return bytes([tag]) + struct.pack("<H", len(value)) + value


def go_setup(record, length=None):
    return b"\x02" + struct.pack("<I", len(record) if length is None else length) + record


SETUP = []


def setup_vector(name, data, description, entries=None, error=None):
    j = {"description": description}
    if error is None:
        j["entries"] = entries
    else:
        j["error"] = error
    SETUP.append({"name": name, "data": data, "json": j})


setup_vector("run-m-default", go_setup(setup_entry(1, b"\x00") + setup_entry(4, b"\x09")),
             "What `nsbootstrap run -m` sends: propagation private, parent-death signal SIGKILL (the example "
             "of section 14.1).",
             entries=[{"propagation": "private"}, {"parent_death_signal": 9}])
setup_vector("every-entry", go_setup(
    setup_entry(1, b"\x01") + setup_entry(2, b"/proc\0") + setup_entry(3, b"box")
    + setup_entry(4, b"\x0f") + setup_entry(5, struct.pack("<I", 100))
    + setup_entry(6, struct.pack("<I", 1000)) + setup_entry(7, b"/tmp\0")),
             "Every entry once, in tag order: slave, /proc, hostname box, SIGTERM, gid 100, uid 1000, /tmp.",
             entries=[{"propagation": "slave"}, {"mount_proc": "/proc"}, {"hostname": "box"},
                      {"parent_death_signal": 15}, {"gid": 100}, {"uid": 1000}, {"workdir": "/tmp"}])
setup_vector("empty", go_setup(b""), "An empty record: the same as the plain go-ahead 0x01.", entries=[])
setup_vector("unknown-tag", go_setup(setup_entry(9, b"")), "Tag 9 is not defined.",
             error="unknown entry tag")
setup_vector("out-of-order", go_setup(setup_entry(6, struct.pack("<I", 0)) + setup_entry(5, struct.pack("<I", 0))),
             "uid (6) before gid (5): entries come in increasing tag order, so ids change in one order.",
             error="entries out of order or repeated")
setup_vector("repeated", go_setup(setup_entry(3, b"a") + setup_entry(3, b"b")), "Two hostnames.",
             error="entries out of order or repeated")
setup_vector("propagation-unknown", go_setup(setup_entry(1, b"\x07")), "Propagation value 7.",
             error="unknown propagation")
setup_vector("path-without-nul", go_setup(setup_entry(7, b"/tmp")), "A workdir without its NUL.",
             error="a path is not one NUL-terminated string")
setup_vector("hostname-65-bytes", go_setup(setup_entry(3, b"h" * 65)), "A hostname above 64 bytes.",
             error="a hostname is 1 to 64 bytes without NUL")
setup_vector("id-3-bytes", go_setup(setup_entry(5, b"\x01\x00\x00")), "A gid of 3 bytes.",
             error="an id is not 4 bytes")
setup_vector("signal-zero", go_setup(setup_entry(4, b"\x00")), "Parent-death signal 0.",
             error="a signal is one byte, 1 to 64")
setup_vector("entry-past-end", go_setup(b"\x03\x05\x00ab"), "A hostname of 5 bytes with 2 in the record.",
             error="an entry runs past the record")
setup_vector("header-cut", go_setup(b"\x03\x01"), "An entry header of 2 bytes.",
             error="an entry header is cut short")


def write_vectors(root):
    names = set()
    for group, vs in (("valid", VALID), ("invalid", INVALID), ("setup", SETUP)):
        folder = os.path.join(root, group)
        if os.path.isdir(folder):
            shutil.rmtree(folder)   # stale vectors go
        os.makedirs(folder)
        for v in vs:
            assert v["name"] not in names, "duplicate vector name " + v["name"]
            names.add(v["name"])
            with open(os.path.join(folder, v["name"] + ".bin"), "wb") as f:
                f.write(v["data"])
            with open(os.path.join(folder, v["name"] + ".json"), "w", newline="\n") as f:
                f.write(json.dumps(v["json"], indent=2, sort_keys=True) + "\n")


# ------------------------------------------------------------------------------------------------
# Machine-readable companions of the text (issue 12): one constants file, one line per expectation

SYNC = [  # value, name(s) by dialect, from -> to (spec section 11)
    (0x40, {d: "USERMAP_PLS" for d in DIALECTS}, "1 -> 0"),
    (0x41, {d: "USERMAP_ACK" for d in DIALECTS}, "0 -> 1"),
    (0x42, {d: "RECVPID_PLS" for d in DIALECTS}, "1 -> 0"),
    (0x43, {d: "RECVPID_ACK" for d in DIALECTS}, "0 -> 1"),
    (0x44, {d: "GRANDCHILD" for d in DIALECTS}, "0 -> 2"),
    (0x45, dict({d: "CHILD_FINISH" for d in DIALECTS}, **{RC93: "CHILD_READY"}), "1 -> 0, 2 -> 0"),
    (0x46, {R11: "MOUNTSOURCES_PLS", R12: "TIMEOFFSETS_PLS", NSB: "TIMEOFFSETS_PLS"}, "1 -> 0"),
    (0x47, {R11: "MOUNTSOURCES_ACK", R12: "TIMEOFFSETS_ACK", NSB: "TIMEOFFSETS_ACK"}, "0 -> 1"),
]

ATTRIBUTES = [  # number, name, payload type, dialects, canonical order (spec section 4)
    (CLONE_FLAGS, "clone_flags", "u32", DIALECTS, 1),
    (NS_PATHS, "namespace_paths", "string", DIALECTS, 2),
    (NEWUIDMAP_PATH, "newuidmap_path", "string", DIALECTS, 3),
    (UID_MAP, "uid_map", "string", DIALECTS, 4),
    (GID_MAP, "gid_map", "string", DIALECTS, 5),
    (NEWGIDMAP_PATH, "newgidmap_path", "string", DIALECTS, 6),
    (SETGROUPS, "setgroups", "bool", DIALECTS, 7),
    (OOM_SCORE_ADJ, "oom_score_adj", "string", DIALECTS, 8),
    (ROOTLESS_EUID, "rootless_euid", "bool", DIALECTS, 9),
    (MOUNT_SOURCES, "mount_sources", "nul-list", [R11], 10),
    (TIME_OFFSETS, "time_offsets", "string", [R12, NSB], 10),
    (CONSOLE_PATH, "console_path", "string", [NSB], 11),
]

# Error classes (spec Appendix A): decode classes with the section of their check, then plan classes.
DECODE_CLASSES = [
    ("truncated-header", "3"), ("length-too-short", "3"), ("length-too-large", "3"), ("wrong-type", "3"),
    ("truncated", "3"), ("trailing-bytes", "3"), ("unaligned-length", "3"),
    ("attr-header-truncated", "4"), ("attr-too-short", "4"), ("attr-past-end", "4"), ("unknown-attr", "4"),
    ("attr-not-in-dialect", "4"), ("repeated-attr", "4"), ("missing-attr", "4"), ("payload-length", "4"),
    ("missing-nul", "4"), ("embedded-nul", "4, 7"), ("nonzero-padding", "4"),
    ("unknown-clone-flags", "5.1"), ("empty-payload", "5"), ("bad-ns-entry", "5.2"),
    ("unknown-ns-type", "5.2"), ("ns-type-not-in-dialect", "5.2"), ("repeated-ns-type", "5.2"),
    ("relative-path", "5"), ("path-too-long", "5"), ("bad-id-map", "5.3"), ("id-map-overlap", "5.3"),
    ("id-map-too-long", "5.3"), ("bad-bool", "5.4"), ("bad-oom-score-adj", "5.5"),
    ("bad-mount-sources", "5.7"), ("bad-time-offsets", "5.8"),
]
PLAN_CLASSES = [("plan-map-without-userns", "8"), ("plan-offsets-without-timens", "8"),
                ("plan-join-and-create", "8")]


def constants():
    """spec/vectors/constants.json: the numbers of the text in one file."""
    return {
        "header": {"length": NLMSG_HDRLEN, "nlmsg_type": INIT_MSG, "nlmsg_flags_written": 1,
                   "nlmsg_seq_written": 1, "nlmsg_pid_written": 0},
        "limits": {"max_message_len": MAX_MESSAGE_LEN, "max_attribute_payload": 65531, "max_path": MAX_PATH,
                   "namespace_entries_strict": 8, "id_map_ranges": 340, "time_offsets": 2,
                   "oom_score_adj": [-1000, 1000]},
        "dialects": [{
            "name": d,
            "ready_byte": d in (R10, R11),
            "attribute_27290": {R11: "mount_sources", R12: "time_offsets", NSB: "time_offsets"}.get(d),
            "console_path": d == NSB,
            "time_namespace": d in TIME_DIALECTS,
            "pid_report": '{"pid": N, "pid_first": M}' if d == RC93 else '{"stage1_pid":M,"stage2_pid":N}',
            "cgroup_namespace": {RC93: "stage 2 after the runtime's byte 0x80", R10: "stage 2 after the runtime's "
                                 "byte 0x80", R11: "stage 2 without waiting"}.get(d, "stage 1 with the others"),
            "log_level_honoured": d in (R11, R12, NSB),
        } for d in DIALECTS],
        "attributes": [{"number": n, "name": name, "payload": t, "dialects": list(ds), "canonical_order": o}
                       for n, name, t, ds, o in ATTRIBUTES],
        "clone_flags": [{"name": n, "bit": "0x%08x" % b,
                         "dialects": list(TIME_DIALECTS) if n == "time" else DIALECTS} for n, b in CLONE],
        "sync": [{"value": "0x%02x" % v, "names": names, "direction": how} for v, names, how in SYNC],
        "runtime_bytes": {"go_ahead": "0x01 (nsbootstrap-1's nsbootstrap init)",
                          "create_cgroup_ns": "0x80 (runc-rc93, runc-1.0)", "ready": "0x00 (runc-1.0, runc-1.1)"},
        "error_classes": {"decode": [{"class": c, "section": sec} for c, sec in DECODE_CLASSES],
                          "plan": [{"class": c, "section": sec} for c, sec in PLAN_CLASSES]},
    }


def expectations():
    """spec/vectors/expectations.txt: one line per vector and mode, for readers without a JSON parser."""
    lines = ["# vector dialect mode class offset  (class 'ok' and offset '-' when the vector decodes to a plan)",
             "# generated by generate.py from the vectors' JSON files; fields are separated by one space"]
    for group, vs in (("valid", VALID), ("invalid", INVALID)):
        for v in sorted(vs, key=lambda v: v["name"]):
            for mode in ("strict", "lenient"):
                o = v["json"][mode]
                if "plan" in o:
                    lines.append("%s/%s %s %s ok -" % (group, v["name"], v["dialect"], mode))
                else:
                    lines.append("%s/%s %s %s %s %d" % (group, v["name"], v["dialect"], mode,
                                                         o["error"]["class"], o["error"]["offset"]))
    return "\n".join(lines) + "\n"


def write_companions(root):
    with open(os.path.join(root, "constants.json"), "w", newline="\n") as f:
        f.write(json.dumps(constants(), indent=2, sort_keys=True) + "\n")
    with open(os.path.join(root, "expectations.txt"), "w", newline="\n") as f:
        f.write(expectations())


def check_text_agrees():
    """The class list here and Appendix A's tables name the same classes; every key of a valid vector's
    plan is a property of spec/plan.schema.json."""
    import re
    with open(os.path.join(HERE, "..", "PROTOCOL.md")) as f:
        text = f.read()
    appendix = text[text.index("## Appendix A."):text.index("## Appendix B.")]
    in_text = set(re.findall(r"^\| `([a-z0-9-]+)` \|", appendix, re.M))
    here = {c for c, _ in DECODE_CLASSES + PLAN_CLASSES}
    assert in_text == here, "Appendix A and generate.py differ: %s" % sorted(in_text ^ here)
    with open(os.path.join(HERE, "..", "plan.schema.json")) as f:
        schema = json.load(f)
    props = set(schema["properties"])
    for v in VALID:
        plan = v["json"]["strict"]["plan"]
        assert set(plan) <= props, "%s: keys %s not in the schema" % (v["name"], sorted(set(plan) - props))
        assert set(schema["required"]) <= set(plan), v["name"]


def snapshot(root):
    out = {}
    for group in ("valid", "invalid", "setup"):
        folder = os.path.join(root, group)
        for n in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            with open(os.path.join(folder, n), "rb") as f:
                out[group + "/" + n] = f.read()
    return out


def main(argv):
    readme = os.path.join(HERE, "README.md")
    with open(readme) as f:
        current = f.read()
    wanted = readme_with_table(current)
    check_text_agrees()
    if "--check" in argv:
        with tempfile.TemporaryDirectory() as tmp:
            write_vectors(tmp)
            write_companions(tmp)
            want, have = snapshot(tmp), snapshot(HERE)
        bad = sorted(set(want) ^ set(have)) + sorted(k for k in want if k in have and want[k] != have[k])
        if wanted != current:
            bad.append("README.md (vector table)")
        if bad:
            print("spec/vectors is out of date with generate.py (run python3 spec/vectors/generate.py): "
                  + ", ".join(bad[:20]) + (" ..." if len(bad) > 20 else ""))
            return 1
        print("spec/vectors: %d valid, %d invalid and %d setup vectors match generate.py"
              % (len(VALID), len(INVALID), len(SETUP)))
        return 0
    write_vectors(HERE)
    write_companions(HERE)
    if wanted != current:
        with open(readme, "w", newline="\n") as f:
            f.write(wanted)
    print("wrote %d valid, %d invalid and %d setup vectors" % (len(VALID), len(INVALID), len(SETUP)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
