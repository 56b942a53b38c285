#!/bin/sh
# reckon replay / timeline / diff: byte-identical output across runs, --at
# and --as-of agree, the same events in another order with duplicates give
# the same state digest, and the usage errors exit 2.
set -eu
R=$RECKON
T=$TMPDIR

fail() { echo "replay.sh: $*" >&2; exit 1; }

# expect_exit CODE CMD...: run, check the exit code
expect_exit() {
    want=$1
    shift
    set +e
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$T/err"; fail "'$*' exited $got, expected $want"; }
}

digest() { sed 's/.*"state_digest":"\([0-9a-f]*\)".*/\1/' "$1"; }

cat >"$T/c1.json" <<'J'
{"event":"created","expected":{"amount":"0.00100000","asset":"BTC","network":"bitcoin"},"expires_at":"2026-01-01T01:00:00.000000000Z","occurred_at":"2026-01-01T00:00:00.000000000Z","order":"ord-1","price":{"amount":"50.00","currency":"USD"},"row_id":"ord-1:created","v":1}
J
cat >"$T/e1.json" <<'J'
{"event_id":"e1","event_type":"InvoiceReceivedPayment","occurred_at":"2026-01-01T00:10:00.000000000Z","payments":[{"amount":"0.00100000","asset":"BTC","confirmations":0,"network":"bitcoin"}],"provider":"btcpay","refs":{"payment":"inv-1"},"source":"webhook","state":"detected","status":"InvoiceReceivedPayment","v":1}
J
cat >"$T/e2.json" <<'J'
{"event_id":"e2","event_type":"InvoiceSettled","occurred_at":"2026-01-01T00:20:00.000000000Z","payments":[{"amount":"0.00100000","asset":"BTC","confirmations":1,"network":"bitcoin"}],"provider":"btcpay","refs":{"order":"ord-1","payment":"inv-1"},"source":"webhook","state":"confirmed","status":"InvoiceSettled","v":1}
J
cat >"$T/f1.json" <<'J'
{"account":"1200-crypto-clearing","amount":"0.00100000","currency":"BTC","fx_rate":"97000.00","order":"ord-1","period":"2026-01","recognised_at":"2026-01-01T02:00:00.000000000Z","row_id":"je-1","side":"debit","v":1}
J

# ledger A: commerce, event by payment id, linking event, finance
"$R" init --db "$T/a" --origin e2e.example/replay >/dev/null
"$R" append --db "$T/a" --kind commerce_row --ref ord-1 <"$T/c1.json" >/dev/null
"$R" append --db "$T/a" --kind provider_event --ref inv-1 <"$T/e1.json" >/dev/null
"$R" append --db "$T/a" --kind provider_event --ref ord-1 <"$T/e2.json" >/dev/null
"$R" append --db "$T/a" --kind finance_row --ref ord-1 <"$T/f1.json" >/dev/null

# byte-identical across runs
"$R" replay --db "$T/a" >"$T/r1"
"$R" replay --db "$T/a" >"$T/r2"
cmp "$T/r1" "$T/r2" || fail "two runs differ"
grep -q '"state":"confirmed"' "$T/r1" || fail "ord-1 is not confirmed"
grep -q '"kind":"no_policy"' "$T/r1" || fail "no_policy not raised"

# ledger B: the same events, other order, duplicated
"$R" init --db "$T/b" --origin e2e.example/replay >/dev/null
"$R" append --db "$T/b" --kind provider_event --ref ord-1 <"$T/e2.json" >/dev/null
"$R" append --db "$T/b" --kind finance_row --ref ord-1 <"$T/f1.json" >/dev/null
"$R" append --db "$T/b" --kind provider_event --ref inv-1 <"$T/e1.json" >/dev/null
"$R" append --db "$T/b" --kind provider_event --ref ord-1 <"$T/e2.json" >/dev/null
"$R" append --db "$T/b" --kind commerce_row --ref ord-1 <"$T/c1.json" >/dev/null
"$R" replay --db "$T/b" >"$T/rb"
[ "$(digest "$T/r1")" = "$(digest "$T/rb")" ] || fail "digest depends on arrival order"
grep -q '"duplicates":\[4\]' "$T/rb" || fail "duplicate not in the evidence"

# --at and --as-of name the same point
"$R" replay --db "$T/a" --at 2 >"$T/at2"
grep -q '"seq":2' "$T/at2" || fail "--at 2 did not stop at 2"
when=$("$R" log --db "$T/a" --from 2 --to 2 | sed 's/.*"recorded_at":"\([^"]*\)".*/\1/')
"$R" replay --db "$T/a" --as-of "$when" >"$T/asof"
[ "$(digest "$T/at2")" = "$(digest "$T/asof")" ] || fail "--as-of differs from --at"
grep -q "\"as_of\":\"$when\"" "$T/asof" || fail "as_of not printed"
[ "$(digest "$T/at2")" != "$(digest "$T/r1")" ] || fail "point 2 equals the end"

# --ref, table
"$R" replay --db "$T/a" --ref ord-1 --format table >"$T/tab"
grep -q '^ord-1 ' "$T/tab" || fail "table lacks ord-1"

# timeline: four records touched ord-1 (the payment-id event merged into it)
"$R" timeline --db "$T/a" --ref ord-1 >"$T/tl1"
"$R" timeline --db "$T/a" --ref ord-1 >"$T/tl2"
cmp "$T/tl1" "$T/tl2" || fail "timeline differs between runs"
[ "$(wc -l <"$T/tl1")" -eq 4 ] || fail "timeline has $(wc -l <"$T/tl1") lines, expected 4"
sed -n 2p "$T/tl1" | grep -q '"delivery_seq":1' || fail "timeline lacks the delivery seq"
sed -n 2p "$T/tl1" | grep -q '"joined":"inv-1"' || fail "timeline lacks the join"
"$R" timeline --db "$T/a" --ref ord-1 --format table | grep -q '^3 .* - -> confirmed' ||
    fail "timeline table lacks the step"

# diff between two points
"$R" diff --db "$T/a" --from 1 --to 4 >"$T/diff"
grep -q '"changed":{"ord-1":' "$T/diff" || fail "diff lacks ord-1"
grep -q '"added":\["ord-1"\]' "$T/diff" && fail "ord-1 existed at 1"
"$R" diff --db "$T/a" --from 0 --to 4 | grep -q '"added":\["ord-1"\]' || fail "diff added"

# errors
expect_exit 2 "$R" replay --db "$T/a" --at 99
grep -q "seq 99 is beyond the last record 4" "$T/err" || fail "bad message for --at 99"
expect_exit 2 "$R" replay --db "$T/a" --ref nope
expect_exit 2 "$R" replay --db "$T/a" --at 1 --as-of 2026-01-01
expect_exit 2 "$R" replay --db "$T/a" --as-of yesterday
expect_exit 2 "$R" replay --db "$T/a" --format xml
expect_exit 2 "$R" replay --db "$T/missing"
expect_exit 2 "$R" replay
expect_exit 2 "$R" timeline --db "$T/a"
expect_exit 2 "$R" timeline --db "$T/a" --ref nope
expect_exit 2 "$R" diff --db "$T/a" --from 4 --to 1
expect_exit 2 "$R" diff --db "$T/a" --from 1
echo "replay.sh: ok"
