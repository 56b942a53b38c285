#!/bin/sh
# make run: the main job, end to end, on a fresh embedded ledger.
#
#   1. a new ledger in a directory it prints, a signing key, the rail policy
#   2. commerce orders and finance journal entries imported
#   3. the webhook receiver started; signed deliveries posted from four
#      providers (valid, duplicate, forged, out of order); an operator note
#      through the API; a provider API read; a clean stop
#   4. a signed checkpoint, an inclusion proof, a full verification
#   5. the three planes replayed, one payment's timeline, a diff
#
# Everything it makes stays in the printed directory for the commands in
# README.md.  It uses only reckon, curl and the shell.
set -eu
: "${RECKON:?}"
R=$RECKON
top=$(pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/reckon-run-XXXXXX")
db=$dir/ledger
say() { printf '\n== %s\n' "$*"; }

say "a fresh ledger in $db"
"$R" init --db "$db" --origin reckon.example/run
"$R" keygen --out "$dir/ledger-key" --name reckon.example/run >/dev/null
"$R" policy set --db "$db" "$top/formats/policy/default.json"

say "commerce and finance imports"
"$R" import commerce --db "$db" "$top/tests/vectors/import/orders.csv"
"$R" import finance --db "$db" "$top/tests/vectors/import/journal.csv"

say "the webhook receiver"
printf 'cb-run-secret' >"$dir/cb.secret"
printf 'np-run-secret' >"$dir/np.secret"
printf 'btc-run-secret' >"$dir/btc.secret"
printf 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' >"$dir/sw.secret"
chmod 600 "$dir"/*.secret
cat >"$dir/reckon.json" <<'CFG'
{
  "listen": "127.0.0.1:0",
  "api_keys": "keys.json",
  "checkpoint": {"key": "ledger-key.key", "every_records": 1000},
  "endpoints": {
    "coinbase": {"provider": "coinbase-commerce", "secrets": [{"file": "cb.secret"}]},
    "nowpayments": {"provider": "nowpayments", "secrets": [{"file": "np.secret"}]},
    "btcpay": {"provider": "btcpay", "secrets": [{"file": "btc.secret"}]},
    "inhouse": {"provider": "generic", "scheme": "standard-webhooks",
                "secrets": [{"file": "sw.secret"}]}
  }
}
CFG
opkey=$("$R" keys add --file "$dir/keys.json" --name olga --role operator --db "$db" \
        --author run 2>/dev/null)
"$R" serve --db "$db" --config "$dir/reckon.json" >"$dir/serve.out" 2>"$dir/serve.err" &
pid=$!
i=0
until grep -q listening "$dir/serve.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || { cat "$dir/serve.err"; echo "reckon run: the server did not start"; exit 1; }
    sleep 0.1
done
url=$(sed -n 's/.*listening on //p' "$dir/serve.out")
echo "listening on $url"

# deliver ENDPOINT SCHEME SECRET FILE [sign args]: sign, post, print the answer
deliver() {
    ep=$1 scheme=$2 secret=$3 file=$4
    shift 4
    "$R" webhook sign --scheme "$scheme" --secret "$secret" "$@" <"$file" >"$file.h"
    set -f
    hargs=""
    while IFS= read -r line; do hargs="$hargs
-H
$line"; done <"$file.h"
    IFS='
'
    code=$(curl -s -o "$file.resp" -w '%{http_code}' -X POST --data-binary "@$file" \
           -H 'Content-Type: application/json' $hargs "$url/webhooks/$ep")
    unset IFS
    set +f
    printf '  %-12s %-28s %s %s\n' "$ep" "$(basename "$file")" "$code" "$(cat "$file.resp")"
}
now=$(date +%s)

# ORD-10421: BTC through Coinbase Commerce; the confirmation arrives before
# the pending event (out of order), then a retry of it (duplicate)
cat >"$dir/cb-confirmed.json" <<'EOF'
{"id":"dlv-2","event":{"id":"ev-cb-2","type":"charge:confirmed","created_at":"2026-03-02T09:40:00Z","data":{"code":"CB10421","metadata":{"order_id":"ORD-10421"},"timeline":[{"time":"2026-03-02T09:15:00Z","status":"NEW"},{"time":"2026-03-02T09:19:00Z","status":"PENDING"},{"time":"2026-03-02T09:40:00Z","status":"COMPLETED"}],"pricing":{"local":{"amount":"129.00","currency":"USD"}},"payments":[{"network":"bitcoin","transaction_id":"7c4f0e1a9b3d5c2e8f6a4b1d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e","status":"CONFIRMED","value":{"crypto":{"amount":"0.00197530","currency":"BTC"}},"block":{"height":880000,"confirmations":6}}]}}}
EOF
cat >"$dir/cb-pending.json" <<'EOF'
{"id":"dlv-1","event":{"id":"ev-cb-1","type":"charge:pending","created_at":"2026-03-02T09:19:00Z","data":{"code":"CB10421","metadata":{"order_id":"ORD-10421"},"timeline":[{"time":"2026-03-02T09:15:00Z","status":"NEW"},{"time":"2026-03-02T09:19:00Z","status":"PENDING"}],"pricing":{"local":{"amount":"129.00","currency":"USD"}},"payments":[{"network":"bitcoin","transaction_id":"7c4f0e1a9b3d5c2e8f6a4b1d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e","status":"PENDING","value":{"crypto":{"amount":"0.00197530","currency":"BTC"}},"confirmations":0}]}}}
EOF
deliver coinbase coinbase-commerce cb-run-secret "$dir/cb-confirmed.json"
deliver coinbase coinbase-commerce cb-run-secret "$dir/cb-pending.json"
deliver coinbase coinbase-commerce cb-run-secret "$dir/cb-confirmed.json"
deliver coinbase coinbase-commerce wrong-secret "$dir/cb-confirmed.json"

# ORD-10422: USDT on Tron through NOWPayments, paid short
cat >"$dir/np-partial.json" <<'EOF'
{"payment_id":5077125051,"parent_payment_id":null,"payment_status":"partially_paid","pay_address":"TXYZrunaddress","price_amount":49.9,"price_currency":"eur","pay_amount":54.12,"actually_paid":50.00,"pay_currency":"usdttrc20","order_id":"ORD-10422","outcome_amount":49.5,"outcome_currency":"usdttrc20","payin_hash":"5e1f2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","updated_at":1772443800000}
EOF
deliver nowpayments nowpayments np-run-secret "$dir/np-partial.json"

# ORD-10425: expected USDT on Tron, paid in BTC through BTCPay
cat >"$dir/btcpay-paid.json" <<EOF
{"deliveryId":"bp-1","webhookId":"wh-1","originalDeliveryId":"bp-1","isRedelivery":false,"type":"InvoiceReceivedPayment","timestamp":1772461300,"storeId":"store-1","invoiceId":"INV10425","metadata":{"orderId":"ORD-10425"},"afterExpiration":false,"paymentMethodId":"BTC-CHAIN","payment":{"id":"aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00ee11ff22aa33bb44cc55dd66-0","receivedDate":1772461290,"value":"0.00030000","fee":"0.00000200","status":"Processing","destination":"bc1qrunaddress"}}
EOF
deliver btcpay btcpay btc-run-secret "$dir/btcpay-paid.json"

# ORD-10423: USDC on Ethereum from the in-house gateway (Standard Webhooks)
cat >"$dir/inhouse-final.json" <<'EOF'
{"v":1,"event_id":"ih-10423-3","event_type":"payment.finalized","occurred_at":"2026-03-02T11:20:00Z","refs":{"order":"ORD-10423","payment":"ih-pay-10423"},"state":"final","expected":{"amount":"250.000000","asset":"USDC","network":"ethereum","contract":"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"},"payments":[{"amount":"250.000000","asset":"USDC","network":"ethereum","contract":"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48","tx":"0x5f2e","confirmations":70,"finalized":"true","status":"finalized"}]}
EOF
deliver inhouse standard-webhooks whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
    "$dir/inhouse-final.json" --id msg-ih-10423-3 --now "$now"

printf '  %-12s ' "notes API"
curl -s -w ' %{http_code}\n' -X POST -H "Authorization: Bearer $opkey" \
    -H 'Content-Type: application/json' \
    --data '{"ref":"ORD-10425","text":"customer paid in BTC instead of USDT; asked finance how to book it"}' \
    "$url/api/notes"
kill -TERM $pid
wait $pid || true
echo "server stopped cleanly"

say "a provider API read (poll) of the Coinbase charge"
cat >"$dir/cb-read.json" <<'EOF'
{"data":[{"resource":"charge","code":"CB10421","metadata":{"order_id":"ORD-10421"},"timeline":[{"time":"2026-03-02T09:15:00Z","status":"NEW"},{"time":"2026-03-02T09:19:00Z","status":"PENDING"},{"time":"2026-03-02T09:40:00Z","status":"COMPLETED"}],"payments":[{"network":"bitcoin","transaction_id":"7c4f0e1a9b3d5c2e8f6a4b1d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e","status":"CONFIRMED","value":{"crypto":{"amount":"0.00197530","currency":"BTC"}},"block":{"confirmations":12}}]}]}
EOF
"$R" import api-read --db "$db" --provider coinbase-commerce "$dir/cb-read.json"
"$R" note --db "$db" --ref ORD-10424 --author finance@run "canceled before payment; nothing to book"

say "signed checkpoint and an inclusion proof"
"$R" checkpoint --db "$db" --key "$dir/ledger-key.key" --out "$dir/checkpoint.txt"
"$R" proof --db "$db" --seq 3 >"$dir/proof-3.txt"
head -n 3 "$dir/proof-3.txt"

say "verify"
"$R" verify --db "$db" --pubkey "$dir/ledger-key.pub" --trusted "$dir/checkpoint.txt"

say "the three planes, replayed"
"$R" replay --db "$db" --format table
"$R" replay --db "$db" >"$dir/replay.json"
"$R" replay --db "$db" >"$dir/replay-again.json"
cmp -s "$dir/replay.json" "$dir/replay-again.json" && echo "replay output is byte-identical across runs"
tail -c 90 "$dir/replay.json"; echo

say "timeline of ORD-10421 (the incident view)"
"$R" timeline --db "$db" --ref ORD-10421 --format table

say "done"
echo "ledger, keys, config and outputs are in $dir"
echo "try: $R log --db $db | tail -n 3"
