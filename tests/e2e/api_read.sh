#!/bin/sh
# api_read.sh - `reckon import api-read`: records, summaries, re-import adds
# nothing, unmapped items, every exit code.
# Needs $RECKON (the binary) and $TMPDIR (a fresh directory).
set -u
VEC="$(cd "$(dirname "$0")/../vectors/adapt" && pwd)"
T="$TMPDIR"
DB="$T/db"
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE STDOUT -- command...: run, compare exit code and stdout exactly
expect() {
    want_code=$1; want_out=$2; shift 3
    out=$("$@" 2>"$T/stderr"); code=$?
    [ "$code" = "$want_code" ] || fail "exit $code, want $want_code: $* ($(cat "$T/stderr"))"
    [ "$out" = "$want_out" ] || fail "stdout '$out', want '$want_out': $*"
}

count() { "$RECKON" log --db "$DB" | grep -c "\"kind\":\"$1\""; }

"$RECKON" init --db "$DB" --origin test/api-read >/dev/null || { echo "FAIL: init"; exit 1; }

expect 0 "api-read: 1 items, 1 new events, 0 unchanged, 0 unmapped" -- \
    "$RECKON" import api-read --db "$DB" --provider coinbase-commerce "$VEC/cb_api_sdk_fixture_charge.json"
# the same read again: recorded, but no new event
expect 0 "api-read: 1 items, 0 new events, 1 unchanged, 0 unmapped" -- \
    "$RECKON" import api-read --db "$DB" --provider coinbase-commerce "$VEC/cb_api_sdk_fixture_charge.json"
[ "$(count api_read)" = 2 ] || fail "want 2 api_read records"
[ "$(count provider_event)" = 1 ] || fail "want 1 provider_event record"

# unmapped items are recorded with their reasons; exit 1
expect 1 "api-read: 3 items, 2 new events, 0 unchanged, 1 unmapped" -- \
    "$RECKON" import api-read --db "$DB" --provider nowpayments "$VEC/np_api_list.json"
expect 1 "api-read: 3 items, 0 new events, 2 unchanged, 1 unmapped" -- \
    "$RECKON" import api-read --db "$DB" --provider nowpayments "$VEC/np_api_list.json"
"$RECKON" log --db "$DB" | grep -q '"unmapped":\[{"index":2,"reason":"\$.updated_at: missing"}\]' ||
    fail "unmapped reason not recorded"
expect 1 "api-read: 4 items, 3 new events, 0 unchanged, 1 unmapped" -- \
    "$RECKON" import api-read --db "$DB" --provider btcpay "$VEC/bp_api_invoices.json"
[ "$(count provider_event)" = 6 ] || fail "want 6 provider_event records"
# the raw bytes are kept exactly (log prints raw as base64)
want_b64=$(base64 -w0 < "$VEC/bp_api_invoices.json")
"$RECKON" log --db "$DB" | grep -q "\"raw\":\"$want_b64\"" || fail "raw bytes not kept"

# an empty list is an API read too
printf '[]' > "$T/empty.json"
expect 0 "api-read: 0 items, 0 new events, 0 unchanged, 0 unmapped" -- \
    "$RECKON" import api-read --db "$DB" --provider btcpay "$T/empty.json"

# errors: nothing recorded, exit 2
n=$("$RECKON" log --db "$DB" | wc -l)
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider nowpayments "$VEC/np_docs_ipn_published.json"
grep -q "not JSON" "$T/stderr" || fail "no 'not JSON' message: $(cat "$T/stderr")"
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider stripe "$VEC/np_api_list.json"
grep -q "'stripe' is not a provider with an adapter" "$T/stderr" || fail "provider message"
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider btcpay "$T/missing.json"
expect 2 "" -- "$RECKON" import api-read --db "$T/nodb" --provider btcpay "$T/empty.json"
expect 2 "" -- "$RECKON" import api-read --db "$DB" "$T/empty.json"
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider btcpay
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider btcpay --bogus "$T/empty.json"
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider btcpay "$T/empty.json" "$T/empty.json"
expect 2 "" -- "$RECKON" import api-read --db "$DB" --provider
[ "$("$RECKON" log --db "$DB" | wc -l)" = "$n" ] || fail "a failed import recorded something"

"$RECKON" verify --db "$DB" >"$T/verify.out" 2>&1 || fail "verify: $(cat "$T/verify.out")"
[ $fails -eq 0 ] || { echo "api_read.sh: $fails failures"; exit 1; }
echo "api_read.sh: ok"
