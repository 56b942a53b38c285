#!/bin/sh
# SIGKILL an appending process at random moments, reopen, verify: every
# record whose append was acknowledged (its sequence number printed) is
# there, and the ledger verifies.
set -eu
R=$RECKON
T=$TMPDIR
D=$T/db

fail() { echo "crash: $*" >&2; exit 1; }

"$R" init --db "$D" --origin e2e.example/crash >/dev/null
: >"$T/acked"
round=1
while [ $round -le 6 ]; do
    # bodies name their round and line so that we can find them afterwards
    awk -v r=$round 'BEGIN { for (i = 1; i <= 200000; i++) printf "{\"line\":%d,\"round\":%d}\n", i, r }' >"$T/in"
    "$R" append --db "$D" --kind operator_note --lines <"$T/in" >"$T/out.$round" 2>"$T/err.$round" &
    pid=$!
    # a random moment between 0.05 and 0.8 s
    ms=$(awk -v s="$$$round" 'BEGIN { srand(s); printf "%d", 50 + rand() * 750 }')
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    n=$(wc -l <"$T/out.$round")
    echo "round $round: killed after ${ms} ms, $n appends acknowledged"
    # every acknowledged sequence number must hold this round's line
    "$R" verify --db "$D" >"$T/verify.$round" || { cat "$T/verify.$round"; fail "round $round: ledger does not verify"; }
    if [ "$n" -gt 0 ]; then
        first=$(head -n 1 "$T/out.$round")
        last=$(tail -n 1 "$T/out.$round")
        "$R" log --db "$D" --from "$first" --to "$last" >"$T/log.$round"
        got=$(grep -c "\"round\":$round}" "$T/log.$round" || true)
        [ "$got" -eq "$n" ] || fail "round $round: $n acknowledged, $got found"
        lastline=$(tail -n 1 "$T/log.$round" | sed 's/.*"line":\([0-9]*\).*/\1/')
        [ "$lastline" -eq "$n" ] || fail "round $round: last acknowledged line $n, found $lastline"
    fi
    round=$((round + 1))
done
echo "crash: every acknowledged append survived"
