#!/bin/sh
# Damage a ledger through RocksDB's own ldb tool and expect `reckon verify`
# to fail naming the record and the kind of damage; then roll back and
# rewrite history and expect a kept checkpoint to catch it.
set -eu
R=$RECKON
T=$TMPDIR
D=$T/db

fail() { echo "tamper: $*" >&2; exit 1; }

# expect_verify EXIT PATTERN [ARGS...]: run verify, check exit code and output
expect_verify() {
    want=$1 pat=$2
    shift 2
    set +e
    "$R" verify --db "$D" "$@" >"$T/out" 2>&1
    got=$?
    set -e
    cat "$T/out"
    [ "$got" = "$want" ] || fail "verify exited $got, expected $want"
    grep -q -- "$pat" "$T/out" || fail "verify output lacks '$pat'"
}

key() { printf '0x%016X' "$1"; }
ldbr() { ldb --db="$D" --column_family=records --hex "$@"; }

"$R" init --db "$D" --origin e2e.example/tamper >/dev/null
i=1
while [ $i -le 20 ]; do
    echo "{\"i\":$i,\"note\":\"payment $i\"}" |
        "$R" append --db "$D" --kind operator_note --ref "order-$i" >/dev/null
    i=$((i + 1))
done
"$R" keygen --out "$T/k" --name e2e.example/tamper >/dev/null
"$R" checkpoint --db "$D" --key "$T/k.key" --out "$T/cp21" >/dev/null
expect_verify 0 "intact" --pubkey "$T/k.pub" --trusted "$T/cp21"
cp -r "$D" "$T/pristine"
restore() { rm -rf "$D" && cp -r "$T/pristine" "$D"; }

# 1. change one byte of record 5's value
v=$(ldbr get "$(key 5)")
pos=150 # a hex digit inside the body (bytes 71.. after "0x")
c=$(printf '%s' "$v" | cut -c$pos)
if [ "$c" = 0 ]; then n=1; else n=0; fi
v2=$(printf '%s' "$v" | cut -c1-$((pos - 1)))$n$(printf '%s' "$v" | cut -c$((pos + 1))-)
ldbr put "$(key 5)" "$v2" >/dev/null
expect_verify 1 "seq 5: modified: record hash mismatch"

# 2. delete a key
restore
ldbr delete "$(key 7)" >/dev/null
expect_verify 1 "seq 7: missing"

# 3. swap two values
restore
a=$(ldbr get "$(key 3)")
b=$(ldbr get "$(key 4)")
ldbr put "$(key 3)" "$b" >/dev/null
ldbr put "$(key 4)" "$a" >/dev/null
expect_verify 1 "seq 3: reordered: holds record 4"
grep -q "seq 4: reordered: holds record 3" "$T/out" || fail "swap: seq 4 not named"

# 4. insert a record past the head
restore
ldbr put "$(key 30)" "$(ldbr get "$(key 2)")" >/dev/null
expect_verify 1 "seq 30: inserted"

# 5. truncate: delete the last record
restore
ldbr delete "$(key 21)" >/dev/null
expect_verify 1 "seq 21: truncated"

# 6. roll back: the auditor kept a checkpoint of a longer ledger
restore
echo '{"i":99}' | "$R" append --db "$D" --kind operator_note >/dev/null
"$R" checkpoint --db "$D" --key "$T/k.key" --out "$T/cp23" >/dev/null
restore
expect_verify 1 "rolled-back" --pubkey "$T/k.pub" --trusted "$T/cp23"

# 7. rewritten history: the same origin, recomputed hashes, one record changed
rm -rf "$D"
"$R" init --db "$D" --origin e2e.example/tamper >/dev/null
i=1
while [ $i -le 20 ]; do
    note="payment $i"
    [ $i = 9 ] && note="payment 9 (edited)"
    echo "{\"i\":$i,\"note\":\"$note\"}" |
        "$R" append --db "$D" --kind operator_note --ref "order-$i" >/dev/null
    i=$((i + 1))
done
"$R" verify --db "$D" >/dev/null || fail "rewritten ledger should be self-consistent"
expect_verify 1 "rewritten" --pubkey "$T/k.pub" --trusted "$T/cp21"

# 8. a checkpoint signed by another key
restore
"$R" keygen --out "$T/other" --name e2e.example/tamper >/dev/null
expect_verify 1 "seq 21: bad-signature" --pubkey "$T/other.pub"

# 9. usage and I/O errors exit 2
set +e
"$R" verify --db "$T/nope" >/dev/null 2>&1; [ $? = 2 ] || fail "missing ledger: want exit 2"
"$R" verify >/dev/null 2>&1; [ $? = 2 ] || fail "no --db: want exit 2"
set -e
echo "tamper: all cases named"
