"""Reference decoder for the nsbootstrap bootstrap message (spec/PROTOCOL.md).

Written from the text of spec/PROTOCOL.md alone, with the Python 3 standard
library only.  Section numbers in comments ("§4 A3") point at the rule of the
specification each piece of code implements.

    decode(data, dialect, mode="strict", byteorder="little") -> plan (dict)

returns the plan in the JSON shape of §18 (with "netlink", without "dialect")
or raises DecodeError(cls, offset, message) with the error class of Appendix A
and the offset the specification assigns.  Whole-buffer decoding: H5 and H6
apply (§3).
"""

import re

__all__ = ["DecodeError", "decode", "DIALECTS", "MODES"]


class DecodeError(Exception):
    """A decoding failure: error class (Appendix A), offset (§1), message."""

    def __init__(self, cls, offset, message=""):
        super().__init__("%s at offset %d: %s" % (cls, offset, message))
        self.cls = cls
        self.offset = offset
        self.message = message


# §2: the dialects.
DIALECTS = ("runc-rc93", "runc-1.0", "runc-1.1", "runc-1.2", "nsbootstrap-1")
MODES = ("strict", "lenient")

# §3
HEADER_LEN = 16
INIT_MSG = 62000
MAX_MESSAGE_LEN = 1048576
# §5
MAX_PATH = 4095
# §5.3
MAX_ID_RANGES = 340
ID_LIMIT = 4294967295
# §5.8
I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1
NSEC_PER_SEC = 1000000000

# §4: attribute number -> {dialect: (name, payload type)}.  A number that is
# a key here is "in the table"; a dialect missing from its entry does not have
# it (attr-not-in-dialect).
ALL = DIALECTS
ATTRIBUTES = {}
for _num, _name, _type, _dialects in (
    (27281, "clone_flags", "u32", ALL),
    (27282, "namespace_paths", "string", ALL),
    (27288, "newuidmap_path", "string", ALL),
    (27283, "uid_map", "string", ALL),
    (27284, "gid_map", "string", ALL),
    (27289, "newgidmap_path", "string", ALL),
    (27285, "setgroups", "bool", ALL),
    (27286, "oom_score_adj", "string", ALL),
    (27287, "rootless_euid", "bool", ALL),
    (27290, "mount_sources", "nul-list", ("runc-1.1",)),
    (27290, "time_offsets", "string", ("runc-1.2", "nsbootstrap-1")),
    (27400, "console_path", "string", ("nsbootstrap-1",)),
):
    for _d in _dialects:
        ATTRIBUTES.setdefault(_num, {})[_d] = (_name, _type)

# §5.1: clone flag names, in ascending bit order.
CLONE_FLAGS = (
    ("time", 0x00000080),
    ("mnt", 0x00020000),
    ("cgroup", 0x02000000),
    ("uts", 0x04000000),
    ("ipc", 0x08000000),
    ("user", 0x10000000),
    ("pid", 0x20000000),
    ("net", 0x40000000),
)
# §5.1 and §5.2: `time` only in runc-1.2 and nsbootstrap-1 (§2 table).
DIALECTS_WITH_TIME = ("runc-1.2", "nsbootstrap-1")

# §5.2 ns-type
NS_TYPES = (b"cgroup", b"ipc", b"mnt", b"net", b"pid", b"time", b"user", b"uts")


def _text(b):
    """Bytes of a text payload as a JSON string (§18: non-UTF-8 paths have no
    JSON form; surrogateescape keeps them representable in Python)."""
    return b.decode("utf-8", "surrogateescape")


def _align4(n):
    return (n + 3) & ~3


# ---------------------------------------------------------------------------
# Payload grammars (§5).  Each takes the payload (for strings: the text, i.e.
# the payload without its final NUL), the attribute offset `o` at which every
# payload error is reported (§5), the dialect and the mode.
# ---------------------------------------------------------------------------


def parse_clone_flags(payload, o, dialect, mode, byteorder):
    """§5.1 clone flags: a u32 of CLONE_NEW* bits."""
    value = int.from_bytes(payload, byteorder)
    known = 0
    for name, bit in CLONE_FLAGS:
        if name == "time" and dialect not in DIALECTS_WITH_TIME:
            continue
        known |= bit
    # §5.1: strict refuses any other bit, and `time` in dialects without it.
    if mode == "strict" and value & ~known:
        raise DecodeError("unknown-clone-flags", o,
                          "bits 0x%08x name no namespace of %s" % (value & ~known, dialect))
    return value


def clone_flags_json(value):
    """§18: names in ascending bit order, then the remaining bits (lenient
    only) as one "0x%08x" string.  A bit of the §5.1 table keeps its name
    even in a dialect without it (only lenient mode can get that far)."""
    names = []
    rest = value
    for name, bit in CLONE_FLAGS:
        if value & bit:
            names.append(name)
            rest &= ~bit
    if rest:
        names.append("0x%08x" % rest)
    return names


def parse_namespace_paths(text, o, dialect, mode):
    """§5.2 namespace paths: ns-list = ns-entry *("," ns-entry)."""
    strict = mode == "strict"
    if text == b"":
        raise DecodeError("empty-payload", o, "empty namespace_paths")
    entries = []
    seen = set()
    for entry in text.split(b","):
        if entry == b"":
            # Lenient: empty entries are skipped (as strtok does).
            if not strict:
                continue
            raise DecodeError("bad-ns-entry", o, "empty entry")
        # Checks, in order, per entry (§5.2).
        if b":" not in entry:
            raise DecodeError("bad-ns-entry", o, "entry without ':': %r" % entry)
        # The first ':' splits type from path.
        ns_type, path = entry.split(b":", 1)
        if ns_type not in NS_TYPES:
            # Refused in both modes.
            raise DecodeError("unknown-ns-type", o, "unknown type %r" % ns_type)
        if strict and ns_type == b"time" and dialect not in DIALECTS_WITH_TIME:
            raise DecodeError("ns-type-not-in-dialect", o, "time in %s" % dialect)
        if path == b"":
            raise DecodeError("bad-ns-entry", o, "empty path for %r" % ns_type)
        if strict and not path.startswith(b"/"):
            raise DecodeError("relative-path", o, "relative path %r" % path)
        if len(path) > MAX_PATH:
            raise DecodeError("path-too-long", o, "path of %d bytes" % len(path))
        if strict and ns_type in seen:
            raise DecodeError("repeated-ns-type", o, "%r named twice" % ns_type)
        seen.add(ns_type)
        entries.append({"type": _text(ns_type), "path": _text(path)})
    if not entries:
        # Lenient: at least one entry must remain once empty entries are
        # skipped.  The spec names no class; an empty entry is bad-ns-entry.
        raise DecodeError("bad-ns-entry", o, "no entry")
    return entries


# §5.3 id = "0" / (%x31-39 *DIGIT)
_ID_STRICT = rb"(0|[1-9][0-9]*)"
_ID_LINE_STRICT = re.compile(rb"%s %s %s" % (_ID_STRICT, _ID_STRICT, _ID_STRICT))
# §5.3 lenient: runs of spaces and tabs between fields, leading and trailing
# blanks, leading zeros.
_ID_LINE_LENIENT = re.compile(rb"[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)[ \t]*")


def parse_id_map(text, o, mode):
    """§5.3 uid map and gid map: id-map = 1*340id-line."""
    if text == b"":
        raise DecodeError("empty-payload", o, "empty id map")
    if mode == "strict":
        # Every line ends in LF: the text ends in LF, and splitting leaves an
        # empty last piece.
        if not text.endswith(b"\n"):
            raise DecodeError("bad-id-map", o, "last line without LF")
        lines = text[:-1].split(b"\n")
        line_re = _ID_LINE_STRICT
    else:
        # Lenient: no LF after the last line is accepted.
        body = text[:-1] if text.endswith(b"\n") else text
        lines = body.split(b"\n")
        line_re = _ID_LINE_LENIENT
    ranges = []
    for line in lines:
        # Line by line: reaching a 341st line is id-map-too-long before that line is read.
        if len(ranges) == MAX_ID_RANGES:
            raise DecodeError("id-map-too-long", o, "%d ranges" % len(lines))
        m = line_re.fullmatch(line)
        if m is None:
            raise DecodeError("bad-id-map", o, "line off the grammar: %r" % line)
        c, h, s = (int(g) for g in m.groups())
        if c > ID_LIMIT or h > ID_LIMIT or s > ID_LIMIT:
            raise DecodeError("bad-id-map", o, "id over 4294967295: %r" % line)
        if s < 1:
            raise DecodeError("bad-id-map", o, "range of size 0: %r" % line)
        if c + s > ID_LIMIT or h + s > ID_LIMIT:
            raise DecodeError("bad-id-map", o, "range past 4294967294: %r" % line)
        ranges.append((c, h, s))
    # No two ranges may overlap on the container side, nor on the host side.
    for side in (0, 1):
        spans = sorted((r[side], r[side] + r[2]) for r in ranges)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            if start < end:
                raise DecodeError("id-map-overlap", o,
                                  "ranges overlap on the %s side" % ("container", "host")[side])
    return [{"container_id": c, "host_id": h, "size": s} for c, h, s in ranges]


def parse_bool(payload, o, mode, byteorder):
    """§5.4 setgroups and rootless_euid: the whole u32 is read (or the one
    byte of a lenient 1-byte bool)."""
    value = int.from_bytes(payload, byteorder)
    if mode == "strict" and value not in (0, 1):
        raise DecodeError("bad-bool", o, "bool of value %d" % value)
    return value != 0


_OOM_STRICT = re.compile(rb"0|-?[1-9][0-9]*")
_OOM_LENIENT = re.compile(rb"[+-]?[0-9]+")


def parse_oom_score_adj(text, o, mode):
    """§5.5 oom_score_adj: oom = "0" / ["-"] (%x31-39 *DIGIT), -1000 to 1000.
    No empty-payload case: an empty text is bad-oom-score-adj."""
    if mode == "strict":
        body = text
        pattern = _OOM_STRICT
    else:
        # Lenient: surrounding white space (C isspace), a '+' sign, leading
        # zeros (read as decimal), '-0'.
        body = text.strip(b" \t\n\v\f\r")
        pattern = _OOM_LENIENT
    if pattern.fullmatch(body) is None:
        raise DecodeError("bad-oom-score-adj", o, "not a decimal: %r" % text)
    value = int(body)
    if not -1000 <= value <= 1000:
        raise DecodeError("bad-oom-score-adj", o, "%d outside [-1000, 1000]" % value)
    return value


def parse_path(text, o, mode):
    """§5.6 newuidmap/newgidmap paths, and §5.9 console path."""
    if text == b"":
        raise DecodeError("empty-payload", o, "empty path")
    # Lenient: relative paths are accepted.
    if mode == "strict" and not text.startswith(b"/"):
        raise DecodeError("relative-path", o, "relative path %r" % text)
    if len(text) > MAX_PATH:
        raise DecodeError("path-too-long", o, "path of %d bytes" % len(text))
    return _text(text)


def parse_mount_sources(payload, o, mode):
    """§5.7 mount sources: mount-sources = *(entry %x00) %x00, on the whole
    payload (A6 and A7 have checked it is non-empty and ends in NUL)."""
    part = payload[:-1]  # before the string's final NUL
    if part == b"":
        return []
    if not part.endswith(b"\x00"):
        raise DecodeError("bad-mount-sources", o, "last entry without its NUL")
    sources = []
    for entry in part[:-1].split(b"\x00"):
        if entry == b"":
            sources.append(None)  # that mount needs no source
            continue
        if mode == "strict" and not entry.startswith(b"/"):
            raise DecodeError("relative-path", o, "relative mount source %r" % entry)
        if len(entry) > MAX_PATH:
            raise DecodeError("path-too-long", o, "mount source of %d bytes" % len(entry))
        sources.append(_text(entry))
    return sources


# §5.8 strict: clock SP secs SP nsecs %x0A
_TIME_STRICT = re.compile(rb"(monotonic|boottime) (0|-?[1-9][0-9]*) (0|[1-9][0-9]*)")
# §5.8 lenient: runs of blanks, numeric clock ids, a sign, leading zeros.
_TIME_LENIENT = re.compile(rb"(monotonic|boottime|1|7)[ \t]+([-+]?[0-9]+)[ \t]+([0-9]+)")
_CLOCKS = {b"monotonic": "monotonic", b"boottime": "boottime",
           b"1": "monotonic", b"7": "boottime"}


def parse_time_offsets(text, o, mode):
    """§5.8 time offsets: time-offsets = 1*2time-line."""
    if mode == "strict":
        if text == b"":
            raise DecodeError("empty-payload", o, "empty time offsets")
        if not text.endswith(b"\n"):
            raise DecodeError("bad-time-offsets", o, "last line without LF")
        lines = text[:-1].split(b"\n")
        line_re = _TIME_STRICT
    else:
        # Lenient: an empty text is no offsets; no final LF is accepted.
        if text == b"":
            return []
        body = text[:-1] if text.endswith(b"\n") else text
        lines = body.split(b"\n")
        line_re = _TIME_LENIENT
    if len(lines) > 2:
        raise DecodeError("bad-time-offsets", o, "%d lines, at most 2" % len(lines))
    offsets = []
    seen = set()
    for line in lines:
        m = line_re.fullmatch(line)
        if m is None:
            raise DecodeError("bad-time-offsets", o, "line off the grammar: %r" % line)
        clock = _CLOCKS[m.group(1)]
        secs, nsecs = int(m.group(2)), int(m.group(3))
        if not I64_MIN <= secs <= I64_MAX:
            raise DecodeError("bad-time-offsets", o, "seconds outside i64: %r" % line)
        if nsecs >= NSEC_PER_SEC:
            raise DecodeError("bad-time-offsets", o, "nanoseconds over 999999999: %r" % line)
        if clock in seen:
            raise DecodeError("bad-time-offsets", o, "clock %s twice" % clock)
        seen.add(clock)
        offsets.append({"clock": clock, "secs": secs, "nanosecs": nsecs})
    return offsets


# ---------------------------------------------------------------------------
# The message (§3) and the attribute walk (§4).
# ---------------------------------------------------------------------------


def decode(data, dialect, mode="strict", byteorder="little"):
    """Decode one whole-buffer message in `dialect` and `mode` (§3 to §6)."""
    if dialect not in DIALECTS:
        raise ValueError("unknown dialect %r" % (dialect,))
    if mode not in MODES:
        raise ValueError("unknown mode %r" % (mode,))
    if byteorder not in ("little", "big"):
        raise ValueError("byteorder must be 'little' or 'big'")
    strict = mode == "strict"
    data = bytes(data)

    def u16(off):
        return int.from_bytes(data[off:off + 2], byteorder)

    def u32(off):
        return int.from_bytes(data[off:off + 4], byteorder)

    # §3 header checks, in this order.
    available = len(data)
    if available < HEADER_LEN:                                   # H1
        raise DecodeError("truncated-header", 0, "%d bytes" % available)
    nlmsg_len = u32(0)
    if nlmsg_len < HEADER_LEN:                                   # H2
        raise DecodeError("length-too-short", 0, "nlmsg_len %d" % nlmsg_len)
    if nlmsg_len > MAX_MESSAGE_LEN:                              # H3
        raise DecodeError("length-too-large", 0, "nlmsg_len %d" % nlmsg_len)
    nlmsg_type = u16(4)
    if nlmsg_type != INIT_MSG:                                   # H4
        raise DecodeError("wrong-type", 4, "nlmsg_type %d" % nlmsg_type)
    if strict and nlmsg_len % 4:                                 # H7 (before H5, H6)
        raise DecodeError("unaligned-length", 0, "nlmsg_len %d" % nlmsg_len)
    if nlmsg_len > available:                                    # H5
        raise DecodeError("truncated", available,
                          "nlmsg_len %d, %d bytes available" % (nlmsg_len, available))
    if available > nlmsg_len:                                    # H6
        raise DecodeError("trailing-bytes", nlmsg_len,
                          "%d bytes after the message" % (available - nlmsg_len))

    # §3: flags, seq and pid carry no meaning, are never refused, are kept.
    plan = {"netlink": {"flags": u16(6), "seq": u32(8), "pid": u32(12)}}
    clone_flags = 0  # §6 lenient: absent clone flags read as 0
    seen = set()

    # §4 walk.
    o = HEADER_LEN
    while o < nlmsg_len:
        if nlmsg_len - o < 4:                                    # A1
            raise DecodeError("attr-header-truncated", o,
                              "%d bytes left for an attribute header" % (nlmsg_len - o))
        nla_len = u16(o)
        nla_type = u16(o + 2)
        if nla_len < 4:                                          # A2
            raise DecodeError("attr-too-short", o, "nla_len %d" % nla_len)
        if o + nla_len > nlmsg_len:                              # A3
            raise DecodeError("attr-past-end", o,
                              "nla_len %d runs past nlmsg_len %d" % (nla_len, nlmsg_len))
        # A4: all 16 bits of nla_type are the number; nothing is masked.
        if nla_type not in ATTRIBUTES:
            raise DecodeError("unknown-attr", o, "attribute %d" % nla_type)
        if dialect not in ATTRIBUTES[nla_type]:
            raise DecodeError("attr-not-in-dialect", o,
                              "attribute %d not in %s" % (nla_type, dialect))
        name, ptype = ATTRIBUTES[nla_type][dialect]
        if strict and nla_type in seen:                          # A5
            raise DecodeError("repeated-attr", o, "%s twice" % name)
        seen.add(nla_type)
        payload = data[o + 4:o + nla_len]

        # A6 payload length by type.
        n = len(payload)
        if ptype == "u32" and n != 4:
            raise DecodeError("payload-length", o, "u32 of %d bytes" % n)
        if ptype == "bool" and (n != 4 if strict else n not in (1, 4)):
            raise DecodeError("payload-length", o, "bool of %d bytes" % n)
        if ptype in ("string", "nul-list") and n == 0:
            raise DecodeError("payload-length", o, "empty %s payload" % ptype)

        # A7 NUL termination.
        if ptype in ("string", "nul-list"):
            if payload[-1] != 0:
                raise DecodeError("missing-nul", o, "%s without its NUL" % name)
            if ptype == "string" and b"\x00" in payload[:-1]:
                raise DecodeError("embedded-nul", o, "NUL inside %s" % name)

        # A8 strict: zero padding.  H7 keeps it inside the message.
        end = o + _align4(nla_len)
        if strict and any(data[o + nla_len:end]):
            raise DecodeError("nonzero-padding", o, "padding after %s" % name)

        # A9 the payload's grammar (§5); a repeated attribute (lenient)
        # replaces the earlier value: the last wins (§6).
        text = payload[:-1]
        if name == "clone_flags":
            clone_flags = parse_clone_flags(payload, o, dialect, mode, byteorder)
        elif name == "namespace_paths":
            plan[name] = parse_namespace_paths(text, o, dialect, mode)
        elif name in ("uid_map", "gid_map"):
            plan[name] = parse_id_map(text, o, mode)
        elif name in ("setgroups", "rootless_euid"):
            plan[name] = parse_bool(payload, o, mode, byteorder)
        elif name == "oom_score_adj":
            plan[name] = parse_oom_score_adj(text, o, mode)
        elif name in ("newuidmap_path", "newgidmap_path", "console_path"):
            plan[name] = parse_path(text, o, mode)
        elif name == "mount_sources":
            plan[name] = parse_mount_sources(payload, o, mode)
        elif name == "time_offsets":
            plan[name] = parse_time_offsets(text, o, mode)
        else:  # pragma: no cover - every table entry is handled above
            raise AssertionError(name)

        # Advance by nla_len rounded up to 4 (lenient: at most to nlmsg_len).
        o = end if strict else min(end, nlmsg_len)

    # §4: after the walk, strict decoders require clone flags.
    if strict and 27281 not in seen:
        raise DecodeError("missing-attr", nlmsg_len, "no clone_flags")
    # §18: clone_flags is [] when absent.
    plan["clone_flags"] = clone_flags_json(clone_flags)
    return plan
