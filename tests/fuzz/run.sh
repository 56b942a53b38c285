#!/bin/sh
# run.sh - build every tests/fuzz/fuzz_*.c as a libFuzzer target (clang,
# -fsanitize=fuzzer,address,undefined) against the engine sources it needs
# and run each for SECONDS (default 30).  Seeds come from
# tests/fuzz/corpus/<target>/; new inputs go to $OUT/corpus/<target>/ so the
# repository's seeds stay as committed.  Exit 1 if any target found a crash,
# 2 if a target does not build.
#
#   sh tests/fuzz/run.sh [SECONDS] [TARGET...]     e.g. run.sh 60 fuzz_sig_stripe
#   environment: CLANG (default clang), OUT (default build-fuzz)
set -u
cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-30}
[ $# -gt 0 ] && shift
CLANG=${CLANG:-clang}
OUT=${OUT:-build-fuzz}
# The engine sources each target family links (the sig module's floor).
SIG_SRC="engine/sig.c engine/canon.c engine/amount.c engine/bytes.c engine/error.c"
# The adapters without the ledger (adapt_record.c is the only part that needs it).
ADAPT_SRC="engine/adapt.c engine/adapt_coinbase.c engine/adapt_btcpay.c \
 engine/adapt_nowpayments.c engine/adapt_generic.c engine/canon.c engine/amount.c \
 engine/lifecycle.c engine/record.c engine/bytes.c engine/error.c"
FLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
 -fno-sanitize-recover=all -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iengine $(pkg-config --cflags libcjson)"
LIBS="$(pkg-config --libs libsodium libcrypto libcjson)"

case $SECS in ''|*[!0-9]*) echo "usage: run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac
if [ $# -eq 0 ]; then
    set --
    for f in tests/fuzz/fuzz_*.c; do set -- "$@" "$(basename "$f" .c)"; done
fi
mkdir -p "$OUT" || exit 2
failed=""
for t in "$@"; do
    case $t in
    fuzz_sig_*) src=$SIG_SRC ;;
    fuzz_adapt_*) src=$ADAPT_SRC ;;
    # includes engine/canon.c itself (built without SSE2)
    fuzz_canon_plain) src="engine/amount.c engine/bytes.c engine/error.c" ;;
    fuzz_canon_*) src="engine/canon.c engine/amount.c engine/bytes.c engine/error.c" ;;
    # includes engine/planes.c itself (its static reader is what is fuzzed)
    fuzz_planes_*) src="engine/canon.c engine/amount.c engine/bytes.c engine/error.c \
 engine/lifecycle.c engine/policy.c engine/record.c engine/pool.c" ;;
    *) echo "run.sh: no source list for '$t'" >&2; exit 2 ;;
    esac
    echo "== fuzz $t (${SECS}s)"
    # shellcheck disable=SC2086
    $CLANG $FLAGS -o "$OUT/$t" "tests/fuzz/$t.c" $src $LIBS || exit 2
    mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
    if ! "$OUT/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
            -max_len=16384 -print_final_stats=1 \
            -artifact_prefix="$OUT/artifacts/$t/" \
            "$OUT/corpus/$t" "tests/fuzz/corpus/$t" >"$OUT/$t.log" 2>&1; then
        tail -40 "$OUT/$t.log"
        echo "FAILED: $t (log $OUT/$t.log, inputs in $OUT/artifacts/$t/)"
        failed="$failed $t"
    else
        grep -E "stat::number_of_executed_units|Done" "$OUT/$t.log" | tail -2
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: FAILED:$failed"
    exit 1
fi
echo "fuzz: all $# targets ran ${SECS}s without a finding"
