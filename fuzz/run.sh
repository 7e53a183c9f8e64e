#!/usr/bin/env bash
# Runs every fuzz target of nsbootstrap-codec for a fixed time and prints one summary table.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        (default 60; works from any directory)
#
# * Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) when it is missing.
# * Builds all targets with AddressSanitizer on stable Rust (RUSTC_BOOTSTRAP=1). If that build fails it says
#   so loudly and falls back to `--sanitizer none`.
# * Fuzzes a scratch corpus, fuzz/target/corpus-run/<target>/: the seeds fuzz/seed.sh makes from the current
#   spec/vectors plus the committed fuzz/corpus/<target>/. The committed corpus never grows.
# * Exits non-zero when any target crashes, panics (a property violation), leaks, times out or runs out of
#   memory; the reproducer is under fuzz/artifacts/<target>/ and the log under fuzz/target/fuzz-logs/.
#
# * Runs one at a time (flock on fuzz/target/run.lock): a second run waits for the first.
#
# Environment: FUZZ_TARGETS="decode stream" runs a subset; FUZZ_SANITIZER=none skips the ASan attempt;
# FUZZ_EXTRA_ARGS are appended to libFuzzer's arguments.
set -uo pipefail

# Everything runs inside main, so bash has read the whole file before it starts (editing this file
# during a run cannot derail the run).
main() {
    SECONDS_PER_TARGET="${1:-60}"
    if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
        echo "usage: $0 [SECONDS_PER_TARGET]" >&2
        exit 2
    fi

    FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    REPO="$(dirname "$FUZZ_DIR")"
    SCRATCH="$FUZZ_DIR/target/corpus-run"
    LOGS="$FUZZ_DIR/target/fuzz-logs"
    DICT="$FUZZ_DIR/nsbootstrap.dict"
    ALL_TARGETS=(decode decode_lenient roundtrip_plan stream payloads explain)
    read -r -a TARGETS <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"

    say() { printf '\n=== %s\n' "$*"; }

    # One run at a time: runs share the scratch corpora, the logs and the build directory.
    mkdir -p "$FUZZ_DIR/target"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$FUZZ_DIR/target/run.lock"
        if ! flock -n 9; then
            echo "another fuzz/run.sh is running; waiting for it to finish"
            flock 9
        fi
    fi
    started=$(date +%s)

    # --- cargo-fuzz ---------------------------------------------------------------------------------------------
    if ! cargo fuzz --version >/dev/null 2>&1; then
        say "cargo-fuzz is missing: cargo install cargo-fuzz --locked"
        cargo install cargo-fuzz --locked || { echo "error: could not install cargo-fuzz" >&2; exit 1; }
    fi
    echo "$(cargo fuzz --version), $(rustc --version)"

    cd "$REPO" || exit 1

    # --- build ----------------------------------------------------------------------------------------------------
    SANITIZER="${FUZZ_SANITIZER:-address}"
    san_args=()
    if [[ "$SANITIZER" == address ]]; then
        export RUSTC_BOOTSTRAP=1
        say "building all targets with AddressSanitizer (RUSTC_BOOTSTRAP=1)"
        if ! cargo fuzz build --fuzz-dir "$FUZZ_DIR"; then
            unset RUSTC_BOOTSTRAP
            SANITIZER=none
            {
                echo
                echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
                echo "!!! WARNING: the AddressSanitizer build FAILED. Falling back to --sanitizer none: the targets still"
                echo "!!! check every property and catch panics, but memory errors in unsafe dependencies go undetected."
                echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
                echo
            } >&2
        fi
    fi
    if [[ "$SANITIZER" != address ]]; then
        san_args=(--sanitizer none)
        say "building all targets without a sanitizer"
        cargo fuzz build --fuzz-dir "$FUZZ_DIR" "${san_args[@]}" || { echo "error: build failed" >&2; exit 1; }
    fi
    built=$(date +%s)

    # --- scratch corpora ------------------------------------------------------------------------------------------
    say "seeding the scratch corpora in ${SCRATCH#"$REPO"/}"
    rm -rf "$SCRATCH"
    mkdir -p "$SCRATCH" "$LOGS"
    "$FUZZ_DIR/seed.sh" "$SCRATCH" || echo "WARNING: fuzz/seed.sh failed; fuzzing on the committed corpus only" >&2
    for t in "${TARGETS[@]}"; do
        mkdir -p "$SCRATCH/$t"
        if [[ -d "$FUZZ_DIR/corpus/$t" ]]; then
            cp -p "$FUZZ_DIR/corpus/$t"/* "$SCRATCH/$t/" 2>/dev/null || true
        fi
        echo "  $t: $(find "$SCRATCH/$t" -type f | wc -l) seed inputs"
    done

    # --- fuzz -----------------------------------------------------------------------------------------------------
    declare -A EXECS RATE COV CORP STATUS
    failed=0
    for t in "${TARGETS[@]}"; do
        say "fuzzing $t for ${SECONDS_PER_TARGET}s (sanitizer: $SANITIZER)"
        log="$LOGS/$t.log"
        # shellcheck disable=SC2086
        cargo fuzz run --fuzz-dir "$FUZZ_DIR" "${san_args[@]}" "$t" "$SCRATCH/$t" -- \
            -max_total_time="$SECONDS_PER_TARGET" -dict="$DICT" -max_len=4096 -rss_limit_mb=1024 -timeout=10 \
            -print_final_stats=1 ${FUZZ_EXTRA_ARGS:-} >"$log" 2>&1
        rc=$?
        # grep -a: the logs hold raw bytes (libFuzzer's recommended dictionary), which make grep say "binary".
        EXECS[$t]=$(grep -a '^stat::number_of_executed_units:' "$log" | tail -1 | tr -dc 0-9)
        RATE[$t]=$(grep -a '^stat::average_exec_per_sec:' "$log" | tail -1 | tr -dc 0-9)
        COV[$t]=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        CORP[$t]=$(grep -ao 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
        if [[ $rc -eq 0 ]]; then
            STATUS[$t]=ok
            grep -aE '^(#[0-9]+[[:space:]]+DONE|Done )' "$log" | tail -2
        else
            failed=1
            STATUS[$t]="FAILED (exit $rc)"
            echo "!!! $t FAILED (exit $rc); log: $log"
            grep -a -m1 -E 'panicked at|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY:' "$log" || true
            grep -a -A4 -m1 'panicked at' "$log" || true
            grep -aE 'Test unit written to' "$log" | tail -2 || true
            echo "--- last lines of the log:"
            tail -25 "$log" | cat -v
        fi
    done
    finished=$(date +%s)

    # --- summary --------------------------------------------------------------------------------------------------
    say "summary: ${SECONDS_PER_TARGET}s per target, sanitizer $SANITIZER, build $((built - started))s, total $((finished - started))s"
    printf '%-16s %8s %12s %10s %7s %7s  %s\n' target seconds execs 'exec/s' cov corpus result
    for t in "${TARGETS[@]}"; do
        printf '%-16s %8s %12s %10s %7s %7s  %s\n' "$t" "$SECONDS_PER_TARGET" "${EXECS[$t]:-?}" "${RATE[$t]:-?}" \
            "${COV[$t]:-?}" "${CORP[$t]:-?}" "${STATUS[$t]}"
    done
    if [[ $failed -ne 0 ]]; then
        echo
        echo "FAILED: reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/<file>"
        echo "        minimize with:  RUSTC_BOOTSTRAP=1 cargo fuzz tmin --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/<file>"
        exit 1
    fi
}

main "$@"
