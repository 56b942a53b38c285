#!/bin/sh
# make run: the main job on a fresh embedded ledger.
#   a new ledger in a directory it prints, a signing key, evidence appended,
#   a signed checkpoint, a proof, a full verification and a summary.
set -eu
: "${RECKON:?}"
R=$RECKON
dir=$(mktemp -d "${TMPDIR:-/tmp}/reckon-run-XXXXXX")
db=$dir/ledger
echo "reckon run: fresh ledger in $db"

"$R" init --db "$db" --origin reckon.example/run
"$R" keygen --out "$dir/ledger-key" --name reckon.example/run

echo "reckon run: appending evidence"
printf '%s' '{"id":"evt_1","type":"charge:confirmed"}' >"$dir/raw1.json"
echo '{"note":"webhook delivery as received","provider":"coinbase-commerce"}' |
    "$R" append --db "$db" --kind webhook_delivery --ref order-1001 --raw "$dir/raw1.json" >/dev/null
echo '{"amount":"25.00","currency":"USD","order":"order-1001"}' |
    "$R" append --db "$db" --kind commerce_row --ref order-1001 >/dev/null
echo '{"author":"ops@example","text":"customer asked about order 1001"}' |
    "$R" append --db "$db" --kind operator_note --ref order-1001 >/dev/null

echo "reckon run: signed checkpoint"
"$R" checkpoint --db "$db" --key "$dir/ledger-key.key" --out "$dir/checkpoint.txt"

echo "reckon run: inclusion proof of record 1"
"$R" proof --db "$db" --seq 1

echo "reckon run: the records"
"$R" log --db "$db"

echo "reckon run: verify"
"$R" verify --db "$db" --pubkey "$dir/ledger-key.pub" --trusted "$dir/checkpoint.txt"
echo "reckon run: done; ledger, key and checkpoint are in $dir"
