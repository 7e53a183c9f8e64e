#!/usr/bin/env bash
# Differential fuzzing of another implementation's message parser against nsbootstrap's (the diff_*
# cargo-fuzz targets), with a table of findings at the end.
#
#   fuzz/differential/run.sh [SECONDS_PER_TARGET]       (default 60; works from any directory)
#
# * Builds the diff_* targets with the implementation named by NSB_DIFF_NSEXEC (default: Debian's runc
#   1.1.5 nsexec.c from golang-github-opencontainers-runc-dev) or NSB_DIFF_GLUE (your own glue, see
#   docs/differential-fuzzing.md), with AddressSanitizer (RUSTC_BOOTSTRAP=1) unless NSB_DIFF_SANITIZER=none.
# * Fuzzes each target (DIFF_TARGETS, default "diff_bytes diff_plan") for SECONDS_PER_TARGET from the
#   spec's *valid* vectors only (nothing that shows a fault). libFuzzer stops at the first crash, hang
#   (-timeout=1) or huge allocation (-malloc_limit_mb=1024): the script classifies the input against spec
#   section 20 (R1..R22) with the model, adds its key to NSB_DIFF_SEEN (so that fault is counted, not run
#   into again) and restarts on the grown corpus until the time is up.
# * Prints one table: finding, kind, known/new, departure id, time to first hit, rounds it was seen in,
#   reproducer; and the coverage of their code (libFuzzer -print_coverage on the final corpus).
# * NSB_DIFF_REQUIRE="R1:hang R3:out-of-bounds" (the CI's setting): exit 1 unless each KEY:KIND was found.
#   Otherwise exits 1 only on a build failure.
# * NSB_DIFF_MINIMIZE=1: minimise each distinct finding (structure-aware deletions that keep nlmsg_len and
#   nla_len consistent, then libFuzzer -minimize_crash, what cargo fuzz tmin runs; both held on the same
#   finding by NSB_DIFF_SHRINK / NSB_DIFF_CRASH_ON=KEY) and re-check it against their parser.
#   NSB_DIFF_MINIMIZE_ONLY=1 re-minimises the last run's findings without fuzzing. NSB_DIFF_VECTORS=DIR (implies minimising): write each as DIR/KEY.bin, .json (spec
#   vector style, with their outcome) and .explain.txt (`nsbootstrap explain`).
#
# Other settings: NSB_DIFF_DIALECT (default runc-1.1), NSB_DIFF_MAX_LEN (4096), NSB_DIFF_EXTRA_ARGS
# (more libFuzzer arguments). Everything goes under fuzz/target/differential/ (corpora, logs, artifacts).
set -uo pipefail

main() {
    SECONDS_PER_TARGET="${1:-60}"
    if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
        echo "usage: $0 [SECONDS_PER_TARGET]" >&2
        exit 2
    fi
    HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    FUZZ_DIR="$(dirname "$HERE")"
    REPO="$(dirname "$FUZZ_DIR")"
    WORK="$FUZZ_DIR/target/differential"
    DEBIAN_NSEXEC=/usr/share/gocode/src/github.com/opencontainers/runc/libcontainer/nsenter/nsexec.c
    read -r -a TARGETS <<<"${DIFF_TARGETS:-diff_bytes diff_plan}"
    export NSB_DIFF_DIALECT="${NSB_DIFF_DIALECT:-runc-1.1}"
    MAX_LEN="${NSB_DIFF_MAX_LEN:-4096}"
    started=$(date +%s)
    say() { printf '\n=== %s\n' "$*"; }

    if [[ -z "${NSB_DIFF_GLUE:-}" ]]; then
        export NSB_DIFF_NSEXEC="${NSB_DIFF_NSEXEC:-$DEBIAN_NSEXEC}"
        if [[ ! -f "$NSB_DIFF_NSEXEC" ]]; then
            echo "error: $NSB_DIFF_NSEXEC not found (apt-get install golang-github-opencontainers-runc-dev, or set NSB_DIFF_NSEXEC)" >&2
            exit 1
        fi
        IMPL="$NSB_DIFF_NSEXEC"
    else
        IMPL="$NSB_DIFF_GLUE"
    fi
    command -v clang >/dev/null || { echo "error: clang is needed (apt-get install clang)" >&2; exit 1; }
    if ! cargo fuzz --version >/dev/null 2>&1; then
        say "cargo-fuzz is missing: cargo install cargo-fuzz --locked"
        cargo install cargo-fuzz --locked || { echo "error: could not install cargo-fuzz" >&2; exit 1; }
    fi

    mkdir -p "$WORK"
    exec 9>"$WORK/run.lock"
    flock 9

    # --- build ----------------------------------------------------------------------------------------------
    cd "$REPO" || exit 1
    SANITIZER="${NSB_DIFF_SANITIZER:-address}"
    san_args=()
    if [[ "$SANITIZER" == address ]]; then
        export RUSTC_BOOTSTRAP=1
    else
        san_args=(--sanitizer none)
    fi
    say "building ${TARGETS[*]} against $IMPL (sanitizer: $SANITIZER)"
    for t in "${TARGETS[@]}" diff_bytes; do
        cargo fuzz build --fuzz-dir "$FUZZ_DIR" "${san_args[@]}" "$t" || { echo "error: build failed" >&2; exit 1; }
    done
    # A private copy: another build of fuzz/ (fuzz/run.sh, cargo check) rebuilds the targets without the
    # implementation while this run restarts them.
    BIN_DIR="$WORK/bin"
    mkdir -p "$BIN_DIR"
    for t in "${TARGETS[@]}" diff_bytes; do
        cp "$FUZZ_DIR/target/x86_64-unknown-linux-gnu/release/$t" "$BIN_DIR/$t" 2>/dev/null
    done
    built=$(date +%s)
    export RUST_BACKTRACE=0 ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

    FINDINGS="$WORK/findings.tsv" # key, kind, seconds, target, reproducer, what
    if [[ "${NSB_DIFF_MINIMIZE_ONLY:-0}" == 1 ]]; then
        # Re-minimise the last run's findings (same reproducers) without fuzzing again.
        TARGETS=()
        SEEN_ALL=$(cut -f1 "$FINDINGS" | sort -u | tr '\n' ',')
    else
        : >"$FINDINGS"
    fi
    LIBFUZZER_ARGS=(-timeout=1 -malloc_limit_mb=1024 -rss_limit_mb=2048 "-max_len=$MAX_LEN"
        "-dict=$FUZZ_DIR/nsbootstrap.dict" -print_final_stats=1)
    # shellcheck disable=SC2206
    [[ -n "${NSB_DIFF_EXTRA_ARGS:-}" ]] && LIBFUZZER_ARGS+=(${NSB_DIFF_EXTRA_ARGS})
    declare -A EXECS COV ROUNDS COVTHEIRS COVPARSE
    SEEN_ALL="${SEEN_ALL:-}"

    for t in "${TARGETS[@]}"; do
        BIN="$BIN_DIR/$t"
        CORPUS="$WORK/corpus/$t"
        ART="$WORK/artifacts/$t"
        LOGS="$WORK/logs/$t"
        FIRST="$WORK/first/$t"
        rm -rf "$CORPUS" "$ART" "$LOGS" "$FIRST"
        mkdir -p "$CORPUS" "$ART" "$LOGS" "$FIRST"
        # Seeds: the spec's valid messages only (diff_plan takes any bytes as the plan generator's input).
        cp "$REPO"/spec/vectors/valid/*.bin "$CORPUS/"
        say "fuzzing $t for ${SECONDS_PER_TARGET}s ($(find "$CORPUS" -type f | wc -l) seeds, dialect $NSB_DIFF_DIALECT)"
        t0=$(date +%s.%N)
        deadline=$(($(date +%s) + SECONDS_PER_TARGET))
        seen=""
        round=0
        execs=0
        while :; do
            now=$(date +%s)
            left=$((deadline - now))
            ((left >= 1)) || break
            round=$((round + 1))
            log="$LOGS/round-$round.log"
            r0=$(date +%s.%N)
            NSB_DIFF_SEEN="$seen" NSB_DIFF_OUT="$FIRST/round-$round" \
                "$BIN" "$CORPUS" -max_total_time="$left" -artifact_prefix="$ART/round-$round-" \
                "${LIBFUZZER_ARGS[@]}" >"$log" 2>&1
            rc=$?
            n=$(grep -a '^stat::number_of_executed_units:' "$log" | tail -1 | tr -dc 0-9)
            [[ -z "$n" ]] && n=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -dc 0-9)
            execs=$((execs + ${n:-0}))
            c=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
            [[ -n "$c" ]] && COV[$t]=$c
            # In-process findings: "NSB-DIFF first KEY after Ts exec N: what".
            while IFS= read -r line; do
                key=$(sed -E 's/^NSB-DIFF first ([^ ]+) after.*/\1/' <<<"$line")
                secs=$(sed -E 's/.* after ([0-9.]+)s exec.*/\1/' <<<"$line")
                what=$(sed -E 's/^[^:]*: //' <<<"$line")
                # A fault already reported, skipped and counted in this round: its row is the fault's.
                [[ "$what" =~ ^(hang|out-of-bounds\ read|huge\ allocation): ]] && continue
                fk=$(tr -c 'A-Za-z0-9\n-' '_' <<<"$key")
                at=$(awk -v r="$r0" -v t="$t0" -v s="$secs" 'BEGIN {printf "%.3f", r - t + s}')
                printf '%s\tdisagreement\t%.3f\t%s\t%s\t%s\n' "$key" "$at" "$t" \
                    "$FIRST/round-$round/first-$fk" "$what" >>"$FINDINGS"
            done < <(grep -a '^NSB-DIFF first ' "$log")
            [[ $rc -eq 0 ]] && break
            # A crash, a hang or an allocation failure: classify the input libFuzzer wrote.
            art=$(grep -aoE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //')
            if [[ -z "$art" || ! -f "$art" ]]; then
                echo "!!! $t exited $rc without an artifact; log: $log"
                tail -20 "$log"
                break
            fi
            case "$(basename "$art")" in
            round-*-timeout-*) kind=hang ;;
            round-*-oom-*) kind="huge allocation" ;;
            round-*-leak-*) kind=leak ;;
            *) if grep -aq 'ERROR: AddressSanitizer' "$log"; then kind="out-of-bounds read"; else kind=crash; fi ;;
            esac
            at=$(awk -v m="$(stat -c %.9Y "$art")" -v t="$t0" 'BEGIN {printf "%.3f", m - t}')
            msg="$art.message"
            cls=$(NSB_DIFF_CLASSIFY=1 NSB_DIFF_SAVE_MESSAGE="$msg" timeout 20 "$BIN" "$art" 2>/dev/null | grep -a '^NSB-DIFF-CLASSIFY' | tail -1)
            ckey=$(awk '{print $2}' <<<"$cls")
            what=$(cut -d' ' -f3- <<<"$cls")
            key="$ckey"
            if [[ -z "$ckey" ]]; then
                key="NEW:${kind// /-}"
                what="their parser faults ($kind) where the model predicts no fault; see $log"
            elif [[ "$kind" == crash ]] && grep -aq 'NSB-DIFF NEW finding' "$log"; then
                kind=disagreement
                what=$(grep -a -m1 'NSB-DIFF NEW finding' "$log" | sed -E 's/^.*NSB-DIFF NEW finding [^ ]+: //')
                key=$(grep -a -m1 'NSB-DIFF NEW finding' "$log" | sed -E 's/^.*NSB-DIFF NEW finding ([^:]+:[^:]+):.*/\1/')
            elif [[ "$what" != "$kind"* ]]; then
                # The model predicted another kind of fault (or none): section 20 does not explain it.
                what="their parser: $kind; model: $cls"
                key="NEW:${kind// /-}"
            fi
            [[ -f "$msg" ]] || cp "$art" "$msg"
            printf '%s\t%s\t%.3f\t%s\t%s\t%s\n' "$key" "$kind" "$at" "$t" "$msg" "$what" >>"$FINDINGS"
            echo "  round $round: $kind after $(printf %.1f "$at")s -> $key ($what)"
            if [[ ",$seen," == *",$key,"* ]]; then
                echo "!!! $key again although already seen: the model and their parser disagree on the skip; stopping $t"
                break
            fi
            seen="${seen:+$seen,}$key"
        done
        EXECS[$t]=$execs
        ROUNDS[$t]=$round
        # Coverage of their code by the final corpus (libFuzzer -print_coverage: edges per function of
        # the implementation's directory). Faults already reported are skipped, as in the last round.
        if [[ "${NSB_DIFF_COVERAGE:-1}" == 1 ]]; then
            impl_dir=$(dirname "$(readlink -f "$IMPL")")
            NSB_DIFF_SEEN="R1,R2,R3,R4,R5,R8,$seen" timeout 120 "$BIN" "$CORPUS" -runs=0 -print_coverage=1 \
                -timeout=1 -malloc_limit_mb=1024 >"$WORK/coverage-$t.log" 2>&1
            grep -a -E '^(UN)?COVERED_FUNC' "$WORK/coverage-$t.log" | grep -a -F "$impl_dir/" \
                | sed -E 's/^(UN)?COVERED_FUNC: hits: ([0-9]+) edges: ([0-9]+)\/([0-9]+) ([^ ]+) (.*)$/\5\t\3\t\4\t\2\t\6/' \
                | awk -F'\t' '$3 > 0' >"$WORK/coverage-$t.tsv"
            COVTHEIRS[$t]=$(awk -F'\t' '{c += $2; n += $3} END {printf "%d/%d edges", c, n}' "$WORK/coverage-$t.tsv")
            COVPARSE[$t]=$(awk -F'\t' '$1 == "nl_parse" {printf "%d/%d", $2, $3}' "$WORK/coverage-$t.tsv")
        fi
        SEEN_ALL="${SEEN_ALL:+$SEEN_ALL,}$seen"
    done
    finished=$(date +%s)

    # --- minimise ------------------------------------------------------------------------------------------
    if [[ -n "${NSB_DIFF_VECTORS:-}" || "${NSB_DIFF_MINIMIZE:-0}" == 1 || "${NSB_DIFF_MINIMIZE_ONLY:-0}" == 1 ]]; then
        minimise
    fi

    # --- table -----------------------------------------------------------------------------------------------
    say "findings: $IMPL, dialect $NSB_DIFF_DIALECT, ${SECONDS_PER_TARGET}s per target, sanitizer $SANITIZER, build $((built - started))s, total $((finished - started))s"
    for t in "${TARGETS[@]}"; do
        echo "  $t: ${EXECS[$t]:-0} executions in ${ROUNDS[$t]:-0} round(s), libFuzzer cov ${COV[$t]:-?} (edges of theirs and ours)"
        [[ -n "${COVTHEIRS[$t]:-}" ]] && echo "      their code (instrumented functions linked in): ${COVTHEIRS[$t]}; nl_parse ${COVPARSE[$t]:-?} edges (per function: fuzz/target/differential/coverage-$t.tsv)"
    done
    echo
    python3 "$HERE/table.py" "$FINDINGS" "$REPO/spec/PROTOCOL.md" | tee "$WORK/findings.txt"

    status=0
    for req in ${NSB_DIFF_REQUIRE:-}; do
        key="${req%%:*}"
        kind="${req#*:}"
        if awk -F'\t' -v k="$key" -v kind="$kind" '$1 == k && index($2, kind) == 1 {f=1} END {exit !f}' "$FINDINGS"; then
            echo "required: $key ($kind) rediscovered"
        else
            echo "REQUIRED FINDING MISSING: $key ($kind) was not rediscovered within the budget"
            status=1
        fi
    done
    exit $status
}

# Minimises one finding per key (the first hit), re-checks it against their parser, writes vectors.
minimise() {
    local BIN_BYTES="$BIN_DIR/diff_bytes" dir="$WORK/minimized" out="${NSB_DIFF_VECTORS:-}"
    [[ -x "$BIN_BYTES" ]] || { echo "minimising needs diff_bytes built"; return; }
    rm -rf "$dir"
    mkdir -p "$dir"
    [[ -n "$out" ]] && mkdir -p "$out"
    if [[ -n "$out" ]]; then
        (cd "$REPO" && cargo build -q --bin nsbootstrap) || echo "warning: could not build nsbootstrap for explain"
    fi
    say "minimising each distinct finding"
    local faults="R1,R2,R3,R4,R5,R8"
    # One per key: the first fault (crash, hang, allocation) if there was one, else the first disagreement.
    awk -F'\t' -v OFS='\t' '{print ($2 == "disagreement"), $0}' "$FINDINGS" | sort -t$'\t' -k1,1n -k4,4g | cut -f2- |
        awk -F'\t' '!seen[$1]++' | while IFS=$'\t' read -r key kind at t repro what; do
        [[ -f "$repro" ]] || continue
        local fk
        fk=$(tr -c 'A-Za-z0-9\n-' '_' <<<"$key")
        local min="$dir/$fk.bin"
        # Keep the finding: other faults are skipped, this key panics (model-side: fast, no real hang).
        local on_fault=""
        [[ "$kind" != disagreement ]] && on_fault=1
        # 1. Structure-aware: delete ranges, fixing nlmsg_len and nla_len (fuzz/src/differential/shrink.rs).
        NSB_DIFF_SHRINK="$key" NSB_DIFF_SHRINK_OUT="$dir/$fk.shrunk" NSB_DIFF_CRASH_ON_FAULT="$on_fault" \
            "$BIN_BYTES" "$repro" >"$dir/$fk.shrink.log" 2>&1
        local start="$repro"
        [[ -s "$dir/$fk.shrunk" ]] && start="$dir/$fk.shrunk"
        # 2. libFuzzer's -minimize_crash (what cargo fuzz tmin runs), kept on the finding by CRASH_ON:
        #    other faults are skipped, this key panics (model-side: fast, no real hang).
        NSB_DIFF_SEEN="$faults,$SEEN_ALL" NSB_DIFF_CRASH_ON="$key" NSB_DIFF_CRASH_ON_FAULT="$on_fault" \
            "$BIN_BYTES" -minimize_crash=1 -runs=4000 -max_total_time=10 -exact_artifact_path="$min" \
            -timeout=1 -malloc_limit_mb=1024 "$start" >"$dir/$fk.log" 2>&1
        if [[ ! -s "$min" ]] || [[ $(stat -c %s "$min") -gt $(stat -c %s "$start") ]]; then
            cp "$start" "$min"
        fi
        [[ -f "$min" ]] || cp "$repro" "$min"
        # Re-check the minimised input against their parser.
        local check
        check=$(NSB_DIFF_CLASSIFY=1 timeout 20 "$BIN_BYTES" "$min" 2>&1 | grep -aE '^NSB-DIFF-(CLASSIFY|OURS)|ERROR: AddressSanitizer|SUMMARY' | tr '\n' ' ')
        local real=""
        case "$kind" in
        hang) timeout 5 "$BIN_BYTES" "$min" -timeout=1 >/dev/null 2>&1; [[ $? -ne 0 ]] && real="their parser: timeout confirmed" ;;
        "out-of-bounds read")
            real=$("$BIN_BYTES" "$min" 2>&1 | grep -a -m1 -E 'SUMMARY: AddressSanitizer' | sed 's/^SUMMARY: //') ;;
        "huge allocation")
            real=$("$BIN_BYTES" "$min" -malloc_limit_mb=1024 2>&1 | grep -a -m1 -E 'out-of-memory \(malloc' | sed 's/^==[0-9]*== //') ;;
        esac
        real="${real//$REPO\//}"
        echo "  $key: $(stat -c %s "$repro") -> $(stat -c %s "$min") bytes ${real:+($real)}"
        if [[ -n "$out" ]]; then
            cp "$min" "$out/$fk.bin"
            python3 "$HERE/vector.py" "$out/$fk.bin" "$key" "$kind" "$what" "$real" "$NSB_DIFF_DIALECT" "$IMPL" "$check" \
                >"$out/$fk.json"
            { echo "\$ nsbootstrap explain --dialect $NSB_DIFF_DIALECT --lenient $fk.bin"
              "$REPO/target/debug/nsbootstrap" explain --dialect "$NSB_DIFF_DIALECT" --lenient "$out/$fk.bin" 2>&1
              echo
              echo "\$ nsbootstrap explain --dialect $NSB_DIFF_DIALECT $fk.bin"
              "$REPO/target/debug/nsbootstrap" explain --dialect "$NSB_DIFF_DIALECT" "$out/$fk.bin" 2>&1
            } >"$out/$fk.explain.txt"
        fi
    done
}

main "$@"
