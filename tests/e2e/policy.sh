#!/bin/sh
# reckon policy check / set / show: validate the shipped default, record it
# as evidence, and read back the policy in force at a point of the ledger.
set -eu
: "${RECKON:?}" "${TMPDIR:?}"
R=$RECKON
T=$TMPDIR
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEF=$ROOT/formats/policy/default.json
D=$T/db

fail() { echo "policy: $*" >&2; exit 1; }

# expect EXIT CMD...: run, keep stdout in $T/out and stderr in $T/err
expect() {
    want=$1
    shift
    set +e
    "$R" "$@" >"$T/out" 2>"$T/err"
    got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$T/out" "$T/err"; fail "'$*' exited $got, expected $want"; }
}

# check: the default is valid and lists every rail
expect 0 policy check "$DEF"
for rail in 'bitcoin *BTC' 'litecoin *LTC' 'ethereum *ETH' \
    'ethereum *USDT *0xdac17f958d2ee523a2206206994597c13d831ec7' \
    'ethereum *USDC *0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48' \
    'tron *USDT *TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t' \
    'solana *USDC *EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v' \
    'polygon *USDC *0x3c499c542cef5e3811e1192ce70d8cc03d5c3359' 'xrp *XRP' 'stellar *XLM'; do
    grep -q "$rail" "$T/out" || fail "check table lacks '$rail'"
done
grep -q '^10 rails, sha256 [0-9a-f]\{64\}$' "$T/out" || fail "check summary line"
digest1=$(sed -n 's/^.* sha256 //p' "$T/out")

# check: an invalid file is a finding (1) naming rail and key; a missing file is 2
sed 's/"decimals": 8,/"decimals": 31,/' "$DEF" >"$T/bad.json"
expect 1 policy check "$T/bad.json"
grep -q "rails\[0\] (bitcoin/BTC): decimals: '31' exceeds 30" "$T/err" || fail "bad message: $(cat "$T/err")"
expect 2 policy check "$T/missing.json"
grep -q "missing.json" "$T/err" || fail "missing file message"
expect 2 policy check
expect 2 policy frobnicate

# set: needs a ledger; an invalid file is refused and appends nothing
"$R" init --db "$D" --origin e2e.example/policy >/dev/null
expect 1 policy show --db "$D"
grep -q "no policy in force" "$T/err" || fail "show without a policy"
expect 1 policy set --db "$D" "$T/bad.json"
expect 2 policy set --db "$D"
expect 2 policy set --db "$T/nodb" "$DEF"

expect 0 policy set --db "$D" "$DEF"
seq1=$(cat "$T/out")
[ "$seq1" = 1 ] || fail "first policy record at seq $seq1, expected 1"

# a second policy: BTC credits at 2 confirmations
sed '0,/"confirmations_to_credit": 1,/s//"confirmations_to_credit": 2,/' "$DEF" >"$T/two.json"
"$R" append --db "$D" --kind operator_note <<'EON' >/dev/null
{"text":"raising BTC confirmations"}
EON
expect 0 policy set --db "$D" "$T/two.json"
seq2=$(cat "$T/out")
[ "$seq2" = 3 ] || fail "second policy record at seq $seq2, expected 3"

# show: latest by default, the one in force at --at otherwise
expect 0 policy show --db "$D"
grep -q "^policy record seq 3$" "$T/out" || fail "show latest"
grep -q '^BTC  *bitcoin  *BTC  *-  *8  *2 ' "$T/out" || fail "show latest BTC row"
expect 0 policy show --db "$D" --at 2
grep -q "^policy record seq 1$" "$T/out" || fail "show --at 2"
grep -q '^BTC  *bitcoin  *BTC  *-  *8  *1 ' "$T/out" || fail "show --at 2 BTC row"
grep -q "sha256 $digest1\$" "$T/out" || fail "digest of the recorded default differs from check"
expect 1 policy show --db "$D" --at 0
expect 2 policy show --db "$D" --at 99
expect 2 policy show --db "$D" --at x

# --json is the canonical policy; it checks and records to the same digest
expect 0 policy show --db "$D" --at 1 --json
cp "$T/out" "$T/canon.json"
expect 0 policy check "$T/canon.json"
grep -q "sha256 $digest1\$" "$T/out" || fail "canonical JSON digest"
"$R" log --db "$D" >"$T/log" 2>/dev/null || true
grep -c '"kind":"policy"' "$T/log" | grep -q '^2$' || fail "log shows two policy records"

# a damaged policy record (appended raw, bypassing validation) is a finding
"$R" append --db "$D" --kind policy <<'EOB' >/dev/null
{"policy":{"rails":[],"v":1},"v":1}
EOB
expect 1 policy show --db "$D"
grep -q "seq 4: policy record: policy: rails: is empty" "$T/err" || fail "damaged record: $(cat "$T/err")"
echo "policy: ok"
