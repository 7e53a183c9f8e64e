#!/usr/bin/env bash
# Regenerates the fuzzers' seed corpora from the spec's test vectors.
#
#   fuzz/seed.sh [OUT_DIR]      (default: fuzz/corpus, the committed seeds; works from any directory)
#
# For each target T it empties OUT_DIR/T and writes:
#   decode, decode_lenient, explain, stream
#       every spec/vectors/{valid,invalid}/NAME.bin, prefixed with one byte: the index of the vector's
#       dialect (NAME.json "dialect") in Dialect::ALL order: runc-rc93 0, runc-1.0 1, runc-1.1 2,
#       runc-1.2 3, nsbootstrap-1 4. As a prefix byte, 0..=4 means strict mode and, for stream, the
#       offer-everything schedule (see the targets' docs).
#   payloads
#       the text of every text attribute in the vectors (payload without its final NUL), prefixed with the
#       target's selector byte (attribute + 8 * dialect index), deduplicated, plus a few texts written here.
#   roundtrip_plan
#       the valid vectors' raw bytes and three fixed patterns: input for the structured plan generator
#       (any bytes will do; these are only deterministic, so re-running this script changes nothing).
#
# Needs bash, od, dd, cksum. Multi-byte fields of the vectors are read little-endian (as they are written).
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VECTORS="$(dirname "$FUZZ_DIR")/spec/vectors"
OUT="${1:-$FUZZ_DIR/corpus}"
BYTE_TARGETS=(decode decode_lenient explain stream)
DIALECTS=(runc-rc93 runc-1.0 runc-1.1 runc-1.2 nsbootstrap-1)

for t in "${BYTE_TARGETS[@]}" payloads roundtrip_plan; do
    rm -rf "${OUT:?}/$t"
    mkdir -p "$OUT/$t"
done

dialect_index() { # NAME -> index, or nothing
    local i
    for i in "${!DIALECTS[@]}"; do
        if [[ "${DIALECTS[$i]}" == "$1" ]]; then
            echo "$i"
            return 0
        fi
    done
    return 0
}

u16() { od -An -v -tu2 --endian=little -j"$2" -N2 "$1" | tr -d ' '; }
u32() { od -An -v -tu4 --endian=little -j"$2" -N4 "$1" | tr -d ' '; }
byte_at() { od -An -v -tu1 -j"$2" -N1 "$1" | tr -d ' '; }

declare -A SEEN_PAYLOAD
payload_seed() { # SELECTOR NAME < text
    local sel=$1 name=$2 tmp sum
    tmp=$(mktemp)
    { printf "\\x$(printf %02x "$sel")"; cat; } >"$tmp"
    sum=$(cksum <"$tmp" | cut -d' ' -f1)
    if [[ -n "${SEEN_PAYLOAD[$sum]:-}" ]]; then
        rm -f "$tmp"
        return
    fi
    SEEN_PAYLOAD[$sum]=1
    mv "$tmp" "$OUT/payloads/$name"
}

# The payloads target's attribute selector (fuzz_targets/payloads.rs) for an attribute number in a dialect.
payload_selector() { # NUMBER DIALECT_INDEX
    case "$1" in
        27282) echo 0 ;;
        27283) echo 1 ;;
        27284) echo 2 ;;
        27286) echo 3 ;;
        27290) if [[ "$2" == 2 ]]; then echo 5; else echo 4; fi ;;
        27400) echo 6 ;;
        27288 | 27289) echo 7 ;;
    esac
}

# Texts of the attributes of one vector, for the payloads target.
extract_payloads() { # FILE DIALECT_INDEX TAG
    local f=$1 d=$2 tag=$3 size len o nla_len number sel n
    size=$(stat -c %s "$f")
    ((size >= 16)) || return 0
    len=$(u32 "$f" 0)
    ((len > size)) && len=$size
    o=16
    while ((o + 4 <= len)); do
        nla_len=$(u16 "$f" "$o")
        number=$(u16 "$f" $((o + 2)))
        ((nla_len >= 4 && o + nla_len <= len)) || break
        sel=$(payload_selector "$number" "$d")
        if [[ -n "$sel" ]] && ((nla_len > 4)); then
            n=$((nla_len - 4))
            # Drop the string's final NUL: the target adds it back.
            [[ "$(byte_at "$f" $((o + nla_len - 1)))" == 0 ]] && n=$((n - 1))
            dd if="$f" bs=1 skip=$((o + 4)) count="$n" status=none |
                payload_seed $((sel + 8 * d)) "$tag-$number"
        fi
        o=$((o + ((nla_len + 3) & ~3)))
    done
}

count=0
shopt -s nullglob
for kind in valid invalid; do
    for bin in "$VECTORS/$kind"/*.bin; do
        base=$(basename "$bin" .bin)
        # Vectors can be regenerated while this runs: read each file once, into memory, or skip it.
        tmpbin=$(mktemp)
        if ! cp "$bin" "$tmpbin" 2>/dev/null; then
            echo "seed.sh: $kind/$base.bin vanished while reading; skipped" >&2
            rm -f "$tmpbin"
            continue
        fi
        bin_path=$bin
        bin=$tmpbin
        json="${bin_path%.bin}.json"
        name=""
        if [[ -f "$json" ]]; then
            name=$(grep -o '"dialect"[[:space:]]*:[[:space:]]*"[^"]*"' "$json" 2>/dev/null | head -1 | sed 's/.*"\([^"]*\)"$/\1/' || true)
        fi
        d=$(dialect_index "$name")
        if [[ -z "$d" ]]; then
            echo "seed.sh: $kind/$base.bin: no known \"dialect\" in $kind/$base.json; using nsbootstrap-1" >&2
            d=4
        fi
        for t in "${BYTE_TARGETS[@]}"; do
            { printf "\\x0$d"; cat "$bin"; } >"$OUT/$t/$kind-$base"
        done
        [[ $kind == valid ]] && cp "$bin" "$OUT/roundtrip_plan/$kind-$base"
        extract_payloads "$bin" "$d" "$kind-$base"
        rm -f "$tmpbin"
        count=$((count + 1))
    done
done
if ((count == 0)); then
    echo "seed.sh: warning: no vectors in $VECTORS/{valid,invalid}/*.bin; only the built-in seeds" >&2
fi

# Built-in payload texts (selector = attribute + 8 * dialect index; see fuzz_targets/payloads.rs).
printf 'user:/proc/1/ns/user,net:/proc/1/ns/net,mnt:/proc/1/ns/mnt' | payload_seed $((0 + 8 * 4)) builtin-nspaths
printf 'time:/proc/1/ns/time,cgroup:/proc/1/ns/cgroup' | payload_seed $((0 + 8 * 3)) builtin-nspaths-time
printf 'net:/run/netns/a:b,,ipc:rel,' | payload_seed $((0 + 8 * 1)) builtin-nspaths-lenient
printf '0 100000 65536\n65536 0 1\n' | payload_seed $((1 + 8 * 4)) builtin-uidmap
printf '0\t1000  01' | payload_seed $((2 + 8 * 2)) builtin-gidmap-lenient
printf '%s' -1000 | payload_seed $((3 + 8 * 0)) builtin-oom
printf ' +07\n' | payload_seed $((3 + 8 * 3)) builtin-oom-lenient
printf 'monotonic -10 5\nboottime 0 999999999\n' | payload_seed $((4 + 8 * 3)) builtin-timens
printf '7\t+1  00' | payload_seed $((4 + 8 * 4)) builtin-timens-lenient
printf '/a\0\0/b\0' | payload_seed $((5 + 8 * 2)) builtin-mounts
printf '/dev/pts/3' | payload_seed $((6 + 8 * 4)) builtin-console
printf '/usr/bin/newuidmap' | payload_seed $((7 + 8 * 4)) builtin-newuidmap
# Bit 0x80: the target puts 4000 copies of the first byte in front: paths of 4095 (the limit) and 4096 bytes.
{ printf '/'; head -c 94 /dev/zero | tr '\0' a; } | payload_seed $((0x80 + 6 + 8 * 4)) builtin-console-4095
{ printf '/'; head -c 95 /dev/zero | tr '\0' b; } | payload_seed $((0x80 + 7 + 8 * 2)) builtin-newuidmap-4096

# Fixed inputs for the plan generator.
head -c 512 /dev/zero >"$OUT/roundtrip_plan/pattern-zeros"
head -c 512 /dev/zero | tr '\0' '\377' >"$OUT/roundtrip_plan/pattern-ones"
for i in $(seq 0 255); do printf "\\x$(printf %02x "$i")"; done >"$OUT/roundtrip_plan/pattern-count"

for t in "${BYTE_TARGETS[@]}" payloads roundtrip_plan; do
    echo "seed.sh: $t: $(find "$OUT/$t" -type f | wc -l) files, $(du -sk "$OUT/$t" | cut -f1) KiB"
done
