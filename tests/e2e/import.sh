#!/bin/sh
# import.sh - `reckon import commerce` and `reckon import finance` on the
# sample exports under tests/vectors/import: exit codes, summaries, bad-row
# messages, re-import, corrections, --skip-bad, and the rows in `reckon log`.
# Needs $RECKON (the binary) and $TMPDIR (a fresh directory).
set -u
VEC="$(cd "$(dirname "$0")/../vectors/import" && pwd)"
T="$TMPDIR"
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect CODE STDOUT -- command...: run, compare exit code and stdout exactly
expect() {
    want_code=$1; want_out=$2; shift 3
    out=$("$@" 2>"$T/stderr"); code=$?
    [ "$code" = "$want_code" ] || fail "exit $code, want $want_code: $*"
    [ "$out" = "$want_out" ] || fail "stdout '$out', want '$want_out': $*"
}

# count KIND: number of records of that kind
count() { "$RECKON" log --db "$T/db" --kind "$1" | wc -l | tr -d ' '; }

"$RECKON" init --db "$T/db" --origin reckon.test/import >/dev/null || fail "init"
cd "$VEC" || exit 2

# --- clean imports ----------------------------------------------------------
expect 0 "import: 12 rows, 12 new, 0 unchanged, 0 corrections" -- \
    "$RECKON" import commerce --db "$T/db" orders.csv
expect 0 "import: 3 rows, 3 new, 0 unchanged, 0 corrections" -- \
    "$RECKON" import commerce --db "$T/db" orders.jsonl
expect 0 "import: 8 rows, 8 new, 0 unchanged, 0 corrections" -- \
    "$RECKON" import finance --db "$T/db" journal.csv
[ "$(count commerce_row)" = 15 ] || fail "want 15 commerce rows"
[ "$(count finance_row)" = 8 ] || fail "want 8 finance rows"

# --- re-import: nothing new -------------------------------------------------
expect 0 "import: 12 rows, 0 new, 12 unchanged, 0 corrections" -- \
    "$RECKON" import commerce --db "$T/db" orders.csv
expect 0 "import: 8 rows, 0 new, 8 unchanged, 0 corrections" -- \
    "$RECKON" import finance --db "$T/db" --format csv journal.csv
# the same rows through standard input, named by --format
expect 0 "import: 3 rows, 0 new, 3 unchanged, 0 corrections" -- \
    sh -c "\"$RECKON\" import commerce --db \"$T/db\" --format jsonl - < orders.jsonl"
[ "$(count commerce_row)" = 15 ] || fail "re-import added commerce rows"

# --- a correction -----------------------------------------------------------
expect 0 "import: 1 row, 0 new, 0 unchanged, 1 correction" -- \
    "$RECKON" import commerce --db "$T/db" orders-corrected.csv
"$RECKON" log --db "$T/db" --kind commerce_row | tail -n 1 > "$T/last"
grep -q '"correction_of":12,' "$T/last" || fail "correction does not name seq 12: $(cat "$T/last")"
grep -q '"price":{"amount":"79.00","currency":"USD"}' "$T/last" || fail "corrected price"

# --- the rows as stored -----------------------------------------------------
"$RECKON" log --db "$T/db" --kind commerce_row > "$T/log"
grep -q '"ref":"ORD-10422"' "$T/log" || fail "log lacks ORD-10422"
grep -q '"expected":{"amount":"54.12","asset":"USDT","contract":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t","network":"tron"}' "$T/log" \
    || fail "USDT expected part"
grep -q '"contract":"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"' "$T/log" || fail "EVM contract lower-cased"
grep -q '"occurred_at":"2026-03-02T08:31:47.000000000Z"' "$T/log" || fail "time normalized to UTC"
grep -q '"memo":"gift, wrapped"' "$T/log" || fail "quoted memo"
grep -q '"row_id":"RF-10422-2"' "$T/log" || fail "second refund"
grep -q '"price":{"amount":"89.50","currency":"EUR"}' "$T/log" || fail "JSON number price"
"$RECKON" log --db "$T/db" --kind finance_row > "$T/flog"
grep -q '"amount":"0.0019753","currency":"BTC","fx_rate":"65306.54","fx_source":"coinbase-spot-2026-03-02T09:20Z"' "$T/flog" \
    || fail "finance BTC entry"

# --- bad rows: nothing imported, exit 1 ----------------------------------------
before=$(count commerce_row)
expect 1 "import: 5 rows, 3 bad, nothing imported" -- \
    "$RECKON" import commerce --db "$T/db" orders-bad.csv
cat > "$T/want" <<'EOF'
reckon import: orders-bad.csv:3: price_amount: amount '10.005': more than 2 fraction digits (USD has 2)
reckon import: orders-bad.csv:4: event: 'shipped' is not created, fulfilled, refunded or canceled
reckon import: orders-bad.csv:5: occurred_at: 'yesterday' is not an RFC 3339 time
EOF
cmp -s "$T/stderr" "$T/want" || fail "bad-row messages: $(cat "$T/stderr")"
[ "$(count commerce_row)" = "$before" ] || fail "a bad file changed the ledger"

# --- --skip-bad: good rows in, bad ones listed, exit 1 --------------------------
expect 1 "import: 5 rows, 2 new, 0 unchanged, 0 corrections, 3 skipped" -- \
    "$RECKON" import commerce --db "$T/db" --skip-bad orders-bad.csv
cmp -s "$T/stderr" "$T/want" || fail "skipped-row messages: $(cat "$T/stderr")"
[ "$(count commerce_row)" = $((before + 2)) ] || fail "--skip-bad did not add 2 rows"

# --- file-level fault: exit 1, nothing imported, even with --skip-bad ----------
printf 'order,event,colour\n' > "$T/odd.csv"
expect 1 "import: nothing imported" -- \
    "$RECKON" import commerce --db "$T/db" --skip-bad "$T/odd.csv"
grep -q "odd.csv:1: header: unknown column 'colour'" "$T/stderr" || fail "header message"

# --- usage and I/O: exit 2 -----------------------------------------------------
expect 2 "" -- "$RECKON" import commerce --db "$T/db"
expect 2 "" -- "$RECKON" import commerce orders.csv
expect 2 "" -- "$RECKON" import commerce --db "$T/db" --format xlsx orders.csv
expect 2 "" -- "$RECKON" import commerce --db "$T/db" --bogus orders.csv
expect 2 "" -- "$RECKON" import commerce --db "$T/db" orders.csv journal.csv
expect 2 "" -- "$RECKON" import commerce --db "$T/db" README.md
expect 2 "" -- "$RECKON" import commerce --db "$T/db" - 
expect 2 "" -- "$RECKON" import finance --db "$T/db" "$T/missing.csv"
grep -q "cannot open" "$T/stderr" || fail "missing file message"
expect 2 "" -- "$RECKON" import finance --db "$T/nodb" journal.csv
expect 2 "" -- "$RECKON" import ledgers --db "$T/db" journal.csv

# --- the ledger still verifies -------------------------------------------------
"$RECKON" verify --db "$T/db" >/dev/null || fail "verify after imports"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "import e2e ok"
