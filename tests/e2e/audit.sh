#!/bin/sh
# The auditor's side: audits/reckon-audit, which shares no code with the
# engine, must agree with `reckon verify` on an intact ledger (same Merkle
# root) and on every kind of damage (same seq, same kind), read from an
# `ldb --hex` dump; it must check tlog proofs, notes and minisign
# signatures; and the by-hand record hash of audits/README.md must work.
set -eu
R=$RECKON
T=$TMPDIR
D=$T/db
TOP=$(cd "$(dirname "$0")/../.." && pwd)
A="$TOP/audits/reckon-audit"
ORIGIN=e2e.example/audit

fail() { echo "audit: $*" >&2; exit 1; }

key() { printf '0x%016X' "$1"; }
ldbr() { ldb --db="$D" --column_family=records --hex "$@"; }
dump() {
    ldb --db="$D" --column_family=records scan --hex >"$T/records.hex"
    ldb --db="$D" scan --hex >"$T/meta.hex"
}

# run WANT OUT CMD...: run a command, keep its stdout+stderr in OUT, check the exit code
run() {
    want=$1 out=$2
    shift 2
    set +e
    "$@" >"$out" 2>&1
    got=$?
    set -e
    cat "$out"
    [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}

# "seq N: kind" / "ledger: kind" of every problem line, sorted
named() { grep -E '^(seq [0-9]+|ledger): [a-z-]+: ' "$1" | sed -E 's/^([^:]+: [a-z-]+): .*/\1/' | sort; }

# both WANT PATTERN [--pubkey F] [--trusted F]: reckon verify and reckon-audit on
# the dump (with the meta column family) must exit WANT, print PATTERN and name
# exactly the same records and kinds
both() {
    want=$1 pat=$2
    shift 2
    dump
    run "$want" "$T/r.out" "$R" verify --db "$D" "$@"
    run "$want" "$T/a.out" "$A" ledger "$T/records.hex" --meta "$T/meta.hex" "$@"
    grep -q -- "$pat" "$T/r.out" || fail "reckon verify output lacks '$pat'"
    grep -q -- "$pat" "$T/a.out" || fail "reckon-audit output lacks '$pat'"
    named "$T/r.out" >"$T/r.named"
    named "$T/a.out" >"$T/a.named"
    cmp -s "$T/r.named" "$T/a.named" || {
        diff "$T/r.named" "$T/a.named" || true
        fail "reckon verify and reckon-audit name different problems"
    }
}

# 0. the verifier's own known-answer tests (RFC 8032 7.1, RFC 6962)
run 0 "$T/out" "$A" selftest
grep -q "selftest: [0-9]* checks, 0 failed (5 Ed25519 vectors" "$T/out" || fail "selftest"

# 1. a ledger: a webhook delivery with a raw blob and a ref, notes, a
#    checkpoint, more records, a second checkpoint, one record after it
"$R" keygen --out "$T/k" --name "$ORIGIN" >"$T/keygen.out"
"$R" keygen --out "$T/other" --name "$ORIGIN" >/dev/null
printf 'raw \000\377 body\r\n{"id":"evt_1"}' >"$T/raw.bin"
# build DIR EDIT: the same ledger every time; EDIT changes one note
build() {
    "$R" init --db "$1" --origin "$ORIGIN" >/dev/null
    echo '{"event":"charge:confirmed","id":"evt_1"}' |
        "$R" append --db "$1" --kind webhook_delivery --ref order-1 --raw "$T/raw.bin" >/dev/null
    printf '{"i":%d,"note":"payment %s"}\n' 2 2 3 3 4 "4$2" 5 5 6 6 |
        "$R" append --db "$1" --kind operator_note --ref order-2 --lines >/dev/null
    "$R" checkpoint --db "$1" --key "$T/k.key" --out "$T/cp-$3-a" >/dev/null 2>&1
    printf '{"i":8}\n{"i":9,"note":"caf\303\251"}\n{"i":10}\n' |
        "$R" append --db "$1" --kind operator_note --ref order-8 --lines >/dev/null
    "$R" checkpoint --db "$1" --key "$T/k.key" --out "$T/cp-$3-b" >/dev/null 2>&1
    echo '{"i":12}' | "$R" append --db "$1" --kind operator_note >/dev/null
}
build "$D" "" orig
cp "$T/cp-orig-b" "$T/cp11"   # the auditor keeps this one: size 11
[ "$(sed -n 2p "$T/cp11")" = 11 ] || fail "expected a checkpoint of size 11"

# 2. intact: both exit 0 with the same root; stdin works
both 0 intact --pubkey "$T/k.pub" --trusted "$T/cp11"
rr=$(sed -n 's/.* root \([0-9a-f]\{64\}\): intact$/\1/p' "$T/r.out")
ar=$(sed -n 's/.* root \([0-9a-f]\{64\}\): intact$/\1/p' "$T/a.out")
[ -n "$rr" ] && [ "$rr" = "$ar" ] || fail "roots differ: reckon '$rr', reckon-audit '$ar'"
grep -q "13 records, 2 checkpoints (3 signatures verified)" "$T/a.out" || fail "counts"
ldb --db="$D" --column_family=records scan --hex | "$A" ledger - >"$T/out" 2>&1 ||
    fail "stdin dump: $(cat "$T/out")"
grep -q "root $rr: intact" "$T/out" || fail "stdin dump: root"
ldb --db="$D" --column_family=records dump --hex >"$T/dump.hex"
run 0 "$T/out" "$A" ledger "$T/dump.hex" --pubkey "$T/k.pub"
grep -q "root $rr: intact" "$T/out" || fail "ldb dump format: root"
cp -r "$D" "$T/pristine"
restore() { rm -rf "$D" && cp -r "$T/pristine" "$D"; }

# 3. one byte of record 3's body changed
v=$(ldbr get "$(key 3)")
pos=150 # a hex digit inside the body (bytes 71.. after "0x")
c=$(printf '%s' "$v" | cut -c$pos)
if [ "$c" = 0 ]; then n=1; else n=0; fi
ldbr put "$(key 3)" "$(printf '%s' "$v" | cut -c1-$((pos - 1)))$n$(printf '%s' "$v" | cut -c$((pos + 1))-)" >/dev/null
both 1 "seq 3: modified: record hash mismatch" --pubkey "$T/k.pub"

# 4. the raw blob of record 1 changed (the exact webhook bytes)
restore
v=$(ldbr get "$(key 1)")
ldbr put "$(key 1)" "$(printf '%s' "$v" | sed 's/7261772000FF/7261772001FF/')" >/dev/null
both 1 "seq 1: modified: record hash mismatch"

# 5. a record deleted from the middle
restore
ldbr delete "$(key 5)" >/dev/null
both 1 "seq 5: missing"

# 6. two records swapped
restore
a=$(ldbr get "$(key 2)")
b=$(ldbr get "$(key 3)")
ldbr put "$(key 2)" "$b" >/dev/null
ldbr put "$(key 3)" "$a" >/dev/null
both 1 "seq 2: reordered: holds record 3"
grep -q "seq 3: reordered: holds record 2" "$T/a.out" || fail "swap: seq 3 not named"

# 7. a record inserted past the end; found with and without the meta dump
restore
ldbr put "$(key 30)" "$(ldbr get "$(key 2)")" >/dev/null
both 1 "seq 30: inserted"
run 1 "$T/out" "$A" ledger "$T/records.hex"
grep -q "^seq 30: inserted" "$T/out" || fail "insert without --meta not named"

# 8. the last record deleted: the head (meta dump) says there were 13
restore
ldbr delete "$(key 12)" >/dev/null
both 1 "seq 12: truncated"

# 9. rolled back: the auditor kept a checkpoint of a longer ledger
restore
echo '{"i":13}' | "$R" append --db "$D" --kind operator_note >/dev/null
"$R" checkpoint --db "$D" --key "$T/k.key" --out "$T/cp14" >/dev/null 2>&1
restore
both 1 "ledger: rolled-back" --pubkey "$T/k.pub" --trusted "$T/cp14"
# the same, from the records alone
run 1 "$T/out" "$A" ledger "$T/records.hex" --pubkey "$T/k.pub" --trusted "$T/cp14"
grep -q "^ledger: rolled-back: trusted checkpoint covers 14 records but the ledger has 13" \
    "$T/out" || fail "rolled back without --meta"

# 10. rewritten: the same origin and key, recomputed hashes, one note edited,
#     freshly signed checkpoints; only the kept checkpoint can tell
rm -rf "$D"
build "$D" " (edited)" rewritten
both 0 intact --pubkey "$T/k.pub"
both 1 "ledger: rewritten" --pubkey "$T/k.pub" --trusted "$T/cp11"

# 11. every checkpoint checked against another key
restore
both 1 "seq 11: bad-signature" --pubkey "$T/other.pub"
grep -q "^seq 7: bad-signature" "$T/a.out" || fail "first checkpoint's signature"

# 11b. an unknown record format version, a key that is not a sequence number
restore
v=$(ldbr get "$(key 4)")
ldbr put "$(key 4)" "0x524B5202$(printf '%s' "$v" | cut -c11-)" >/dev/null
both 1 "seq 4: unsupported: record format version 2"
restore
ldbr put 0x41 0x00 >/dev/null
both 1 "ledger: inserted: records: a key of 1 bytes"

# 11c. a body edited and the record hash recomputed with stock tools: the
#      chain breaks at the next record and the checkpoint no longer matches
restore
v=$(ldbr get "$(key 3)" | sed 's/^0x//')
body=$(printf '%s' "$v" | head -c $((${#v} - 64)) | sed 's/7061796D656E742033/7061796D656E742039/')
[ "$body" != "$(printf '%s' "$v" | head -c $((${#v} - 64)))" ] || fail "rehash: no edit"
h=$(printf '%s' "$body" | xxd -r -p | sha256sum | cut -d' ' -f1)
ldbr put "$(key 3)" "0x$body$h" >/dev/null
both 1 "seq 4: modified: chain broken"
grep -q "^seq 7: rewritten" "$T/a.out" || fail "rehash: checkpoint 7 not rewritten"

# 11d. a dump that is not in key order is refused (exit 2)
sort -r "$T/records.hex" >"$T/unsorted.hex"
run 2 "$T/out" "$A" ledger "$T/unsorted.hex"

# 12. a trusted checkpoint from another ledger (another origin)
restore
"$R" init --db "$T/db2" --origin e2e.example/elsewhere >/dev/null
"$R" checkpoint --db "$T/db2" --key "$T/k.key" --out "$T/cp-elsewhere" >/dev/null 2>&1
both 1 "ledger: rewritten: trusted checkpoint is for origin 'e2e.example/elsewhere'" \
    --trusted "$T/cp-elsewhere"

# 13. inclusion proof of record 1 (the webhook with its raw blob)
"$R" proof --db "$D" --seq 1 >"$T/p1"
ldbr get "$(key 1)" >"$T/rec1.hex"
run 0 "$T/out" "$A" proof "$T/p1" --record "$T/rec1.hex" --pubkey "$T/k.pub"
grep -q "^proof: record 1 (webhook_delivery, .*) is leaf 1 of $ORIGIN at size 11.*: valid" \
    "$T/out" || fail "proof output"
run 0 "$T/out" "$A" proof "$T/p1" --record "$(cat "$T/rec1.hex")" --pubkey "$T/k.pub"
sed 's/^0x//' "$T/rec1.hex" | xxd -r -p >"$T/rec1.bin"
run 0 "$T/out" "$A" proof "$T/p1" --record "$T/rec1.bin" --pubkey "$T/k.pub"
# a flipped character in a proof hash
h=$(sed -n 3p "$T/p1")
c=$(printf '%s' "$h" | cut -c5)
if [ "$c" = A ]; then n=B; else n=A; fi
sed "3s|^\(....\).|\1$n|" "$T/p1" >"$T/p1-bad"
cmp -s "$T/p1" "$T/p1-bad" && fail "proof not changed"
run 1 "$T/out" "$A" proof "$T/p1-bad" --record "$T/rec1.hex" --pubkey "$T/k.pub"
grep -q "^proof: modified: the proof leads to root" "$T/out" || fail "flipped proof"
# the right proof for another record, a changed record, another key
ldbr get "$(key 2)" >"$T/rec2.hex"
run 1 "$T/out" "$A" proof "$T/p1" --record "$T/rec2.hex" --pubkey "$T/k.pub"
grep -q "^proof: reordered: the record is 2, the proof is for leaf 1" "$T/out" || fail "wrong record"
sed 's/7261772000FF/7261772001FF/' "$T/rec1.hex" >"$T/rec1-bad.hex"
run 1 "$T/out" "$A" proof "$T/p1" --record "$T/rec1-bad.hex" --pubkey "$T/k.pub"
grep -q "^proof: modified: record 1: record hash mismatch" "$T/out" || fail "changed record"
run 1 "$T/out" "$A" proof "$T/p1" --record "$T/rec1.hex" --pubkey "$T/other.pub"
grep -q "^proof: bad-signature" "$T/out" || fail "proof with another key"

nid=$(sed -n 's/^note key id: //p' "$T/keygen.out")
# 14. a signed note: valid, another key, one changed character
run 0 "$T/out" "$A" note "$T/cp11" --pubkey "$T/k.pub"
grep -q "^checkpoint: origin $ORIGIN, size 11, root $(sed -n 3p "$T/cp11" | base64 -d | xxd -p -c 32)" \
    "$T/out" || fail "note output"
run 1 "$T/out" "$A" note "$T/cp11" --pubkey "$T/other.pub"
sed '2s/11/12/' "$T/cp11" >"$T/cp-bad"
run 1 "$T/out" "$A" note "$T/cp-bad" --pubkey "$T/k.pub"
grep -q "^note: bad-signature: signature by '$ORIGIN' (key id $nid) does not verify" "$T/out" ||
    fail "changed note"
head -n 3 "$T/cp11" >"$T/cp-unsigned"
run 1 "$T/out" "$A" note "$T/cp-unsigned" --pubkey "$T/k.pub"
grep -q "^note: modified: not a well-formed signed note" "$T/out" || fail "unsigned note"

# 15. minisign signatures: stock minisign and reckon-audit agree
printf 'evidence pack\n' >"$T/pack.txt"
"$R" sign-file --key "$T/k.key" "$T/pack.txt" >/dev/null 2>&1
run 0 "$T/out" minisign -Vm "$T/pack.txt" -p "$T/k.pub"
run 0 "$T/out" "$A" minisig "$T/pack.txt" --pubkey "$T/k.pub"
printf 'evidence pack!\n' >"$T/pack.txt"
run 1 "$T/out" minisign -Vm "$T/pack.txt" -p "$T/k.pub"
run 1 "$T/out" "$A" minisig "$T/pack.txt" --pubkey "$T/k.pub"

# 16. the by-hand record hash of audits/README.md, with stock tools only
cd "$T"
ldb --db="$D" --column_family=records get --hex 0x0000000000000001 | sed 's/^0x//' | xxd -r -p >record.bin
n=$(wc -c <record.bin)
head -c $((n - 32)) record.bin | sha256sum | cut -d' ' -f1 >computed
tail -c 32 record.bin | xxd -p -c 32 >stored
cmp computed stored || fail "by hand: computed and stored hash differ"
"$R" log --db "$D" --from 1 --to 1 | grep -q "\"hash\":\"$(cat computed)\"" ||
    fail "by hand: reckon log shows another hash"
ldb --db="$D" --column_family=records get --hex 0x0000000000000002 | sed 's/^0x//' | xxd -r -p >next.bin
head -c 56 next.bin | tail -c 32 | xxd -p -c 32 >linked
cmp computed linked || fail "by hand: record 2 does not link to record 1"
rm -f record.bin next.bin computed stored linked

# 17. the README's key fingerprints, by hand, equal what keygen printed
nid=$({ printf '%s\n\001' "$ORIGIN"; sed -n 2p "$T/k.pub" | base64 -d | tail -c 32; } |
    sha256sum | cut -c1-8)
grep -q "^note key id: $nid\$" "$T/keygen.out" || fail "by hand: note key id $nid"
mid=$(sed -n 2p "$T/k.pub" | base64 -d | tail -c 32 | b2sum -l 256 | cut -c1-16)
[ "$mid" = "$(sed -n 2p "$T/k.pub" | base64 -d | head -c 10 | tail -c 8 | xxd -p)" ] ||
    fail "by hand: minisign key id"
# the latest checkpoint, taken from the ledger as the README says
"$R" log --db "$D" --kind checkpoint | tail -1 |
    python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.stdin.read())["body"]["note"])' >"$T/cp-log"
cmp "$T/cp-log" "$T/cp11" || fail "checkpoint from reckon log differs"

# 18. the README's worked example record, from the README itself
sed -n '/^<!-- worked-example-record -->$/{n;p;}' "$TOP/audits/README.md" | tr -d ' ' | xxd -r -p >example.bin
[ "$(wc -c <example.bin)" = 130 ] || fail "worked example: not 130 bytes"
want=7641f1b01aa12727df1639fb6e3c2c8422e72f7bf64fa4f3ee4c521f74b98603
[ "$(head -c 98 example.bin | sha256sum | cut -d' ' -f1)" = $want ] || fail "worked example: hash"
[ "$(tail -c 32 example.bin | xxd -p -c 32)" = $want ] || fail "worked example: stored hash"
grep -q "^    # $want  -\$" "$TOP/audits/README.md" || fail "worked example: README shows another hash"
[ "$(xxd -s 8 -l 8 -p example.bin)" = 0000000000000001 ] || fail "worked example: seq"
[ "$(xxd -s 4 -l 1 -p example.bin)" = 01 ] || fail "worked example: kind"
{ printf '\000'; echo $want | xxd -r -p; } | sha256sum | grep -q '^[0-9a-f]\{64\}  -$' ||
    fail "worked example: leaf hash"
rm -f example.bin

# 19. usage and I/O errors exit 2
run 2 "$T/out" "$A" ledger "$T/nope.hex"
run 2 "$T/out" "$A" ledger "$T/k.pub"
run 2 "$T/out" "$A" ledger "$T/records.hex" --pubkey "$T/k.key"
run 2 "$T/out" "$A" ledger "$T/records.hex" --trusted "$T/k.pub"
run 2 "$T/out" "$A" proof "$T/p1" --pubkey "$T/k.pub"
run 2 "$T/out" "$A"
echo "audit: reckon-audit agrees with reckon verify"
