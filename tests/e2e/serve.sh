#!/bin/sh
# serve.sh - `reckon serve` end to end with curl: signed deliveries for every
# provider (valid, forged, stale, duplicate, out of order, oversized, not
# JSON, unknown endpoint), every response code checked against the record
# `reckon log` shows; notes over the API and the CLI; API keys; SIGKILL in
# the middle of a stream (every 2xx delivery survives, the ledger
# verifies); SIGTERM and a clean stop with a final checkpoint.
set -u
R=$RECKON
T=$TMPDIR
D=$T/db
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v curl >/dev/null || { echo "serve.sh: curl is not installed"; exit 1; }
command -v python3 >/dev/null || { echo "serve.sh: python3 is not installed"; exit 1; }

"$R" init --db "$D" --origin e2e.example/serve >/dev/null || exit 1
"$R" keygen --out "$T/cp" --name e2e.example/serve >/dev/null 2>&1 || exit 1
printf 'cb-secret\n' >"$T/cb.secret"
printf 'btc-secret' >"$T/btc.secret"
printf 'np-old' >"$T/np-old.secret"
export RK_E2E_NP=np-new
export RK_E2E_GEN=gen-secret
export RK_E2E_SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
cat >"$T/reckon.json" <<'CFG'
{
  "listen": "127.0.0.1:0",
  "body_limit": 4096,
  "api_keys": "keys.json",
  "checkpoint": {"key": "cp.key", "every_records": 50},
  "reject_flood": {"per_peer_per_minute": 1000},
  "endpoints": {
    "coinbase": {"provider": "coinbase-commerce", "secrets": [{"file": "cb.secret"}]},
    "btcpay": {"provider": "btcpay", "secrets": [{"file": "btc.secret"}]},
    "nowpayments": {"provider": "nowpayments",
                    "secrets": [{"file": "np-old.secret"}, {"env": "RK_E2E_NP"}]},
    "generic": {"provider": "generic", "scheme": "hmac",
                "hmac": {"header": "X-Sig", "prefix": "sha256=", "timestamp_header": "X-Ts"},
                "secrets": [{"env": "RK_E2E_GEN"}]},
    "sw": {"provider": "generic", "scheme": "standard-webhooks", "secrets": [{"env": "RK_E2E_SW"}]}
  }
}
CFG

# --- API keys --------------------------------------------------------------
"$R" keys add --file "$T/keys.json" --name olga --role operator --db "$D" --author e2e \
    >"$T/key.op" 2>"$T/key.err" || fail "keys add"
"$R" keys add --file "$T/keys.json" --name audrey --role auditor >"$T/key.aud" 2>/dev/null \
    || fail "keys add auditor"
"$R" keys add --file "$T/keys.json" --name x --role root >/dev/null 2>&1
[ $? = 2 ] || fail "keys add with a bad role must exit 2"
"$R" keys list --file "$T/keys.json" >"$T/keys.list" || fail "keys list"
grep -q ' operator .* olga$' "$T/keys.list" || fail "keys list shows olga"
[ "$(stat -c %a "$T/keys.json")" = 600 ] || fail "keys file mode"
grep -q "$(cat "$T/key.op")" "$T/keys.json" && fail "the key itself is in the keys file"
"$R" log --db "$D" --kind operator_note | grep -q '"text":"api key [0-9a-f]* added: name olga, role operator"' \
    || fail "key creation recorded as evidence"
"$R" log --db "$D" | grep -q "$(cat "$T/key.op")" && fail "the key itself is in the ledger"
# a third key to revoke
AUD_ID=$(awk '$NF == "audrey" { print $1 }' "$T/keys.list")
"$R" keys revoke --file "$T/keys.json" --id 0000000000000000 >/dev/null 2>&1
[ $? = 2 ] || fail "revoking an unknown id must exit 2"

# --- start ---------------------------------------------------------------------
start() {
    rm -f "$T/serve.out" # an old file would show an old address
    "$R" serve --db "$D" --config "$T/reckon.json" >"$T/serve.out" 2>>"$T/serve.err" &
    PID=$!
    i=0
    while ! grep -q listening "$T/serve.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && { cat "$T/serve.err"; echo "server did not start"; exit 1; }
        sleep 0.1
    done
    URL=$(sed -n 's/.*listening on //p' "$T/serve.out")
}
start

# post ENDPOINT BODYFILE [HEADERFILE] -> sets CODE; response body in $T/resp
post() {
    set -- "$1" "$2" "${3:-/dev/null}"
    set -f
    hargs=""
    while IFS= read -r line; do hargs="$hargs
-H
$line"; done <"$3"
    IFS='
'
    CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary "@$2" \
        -H 'Content-Type: application/json' $hargs "$URL/webhooks/$1")
    unset IFS
    set +f
}

# last_delivery -> the newest webhook_delivery body, one line
last_delivery() { "$R" log --db "$D" --kind webhook_delivery | tail -n 1; }

NOW=$(date +%s)
sign() { # scheme secret bodyfile [extra args]
    sg_scheme=$1; sg_key=$2; sg_body=$3; shift 3
    "$R" webhook sign --scheme "$sg_scheme" --secret "$sg_key" --now "$NOW" "$@" <"$sg_body"
}

# expect_outcome CODE -- checks the newest delivery matches the response
expect_outcome() {
    want=$1
    got=$(last_delivery | sed 's/.*"outcome":"\([a-z]*\)".*/\1/')
    [ "$got" = "$want" ] || fail "recorded outcome '$got', want '$want' (response $CODE)"
}

# --- every provider: valid, duplicate, forged ------------------------------------
for p in coinbase btcpay nowpayments generic; do
    case $p in
    coinbase) printf '{"id":"d-1","event":{"id":"evt-cb-1","type":"charge:created","created_at":"2026-11-01T10:00:00Z","data":{"code":"CB1","created_at":"2026-11-01T10:00:00Z","metadata":{"order_id":"order-cb"},"timeline":[{"time":"2026-11-01T10:00:00Z","status":"NEW"}],"payments":[]}}}' >"$T/$p.json"
              sign coinbase-commerce cb-secret "$T/$p.json" >"$T/$p.h"
              printf 'X-CC-Webhook-Signature: %064d\n' 0 >"$T/$p.forged" ;;
    btcpay)   printf '{"deliveryId":"d1","originalDeliveryId":"d1","isRedelivery":false,"type":"InvoiceCreated","timestamp":%s,"storeId":"s","invoiceId":"INV1","metadata":{"orderId":"order-btc"}}' "$NOW" >"$T/$p.json"
              sign btcpay btc-secret "$T/$p.json" >"$T/$p.h"
              printf 'BTCPay-Sig: sha256=%064d\n' 0 >"$T/$p.forged" ;;
    nowpayments) printf '{"payment_id":5077125051,"payment_status":"waiting","order_id":"order-np","pay_currency":"btc","pay_amount":0.001,"actually_paid":0,"price_amount":10,"price_currency":"usd","updated_at":1700000000000}' >"$T/$p.json"
              sign nowpayments np-new "$T/$p.json" >"$T/$p.h"
              printf 'x-nowpayments-sig: %0128d\n' 0 >"$T/$p.forged" ;;
    generic)  printf '{"v":1,"event_id":"g-1","event_type":"payment.created","occurred_at":"2026-11-01T10:00:00Z","refs":{"order":"order-gen"},"state":"awaiting_payment","payments":[]}' >"$T/$p.json"
              sign hmac gen-secret "$T/$p.json" --hmac-header X-Sig --hmac-prefix sha256= \
                  --hmac-timestamp-header X-Ts >"$T/$p.h"
              printf 'X-Sig: sha256=%064d\nX-Ts: %s\n' 0 "$NOW" >"$T/$p.forged" ;;
    esac
    post $p "$T/$p.json" "$T/$p.h"
    first=$CODE
    case $CODE in
    200) expect_outcome accepted
         last_delivery | grep -q '"event_key":"' || fail "$p: accepted without an event key"
         "$R" log --db "$D" | tail -n 1 | grep -q '"kind":"provider_event"' || fail "$p: no provider_event after the delivery" ;;
    *) fail "$p valid delivery: response $CODE ($(last_delivery | sed 's/.*"reason":"\([^"]*\)".*/\1/'))" ;;
    esac
    # the raw body is kept byte for byte
    last_delivery | python3 -c 'import sys,json,base64; r=json.loads(sys.stdin.read()); sys.stdout.buffer.write(base64.b64decode(r["raw"]))' >"$T/$p.raw"
    cmp -s "$T/$p.raw" "$T/$p.json" || fail "$p: raw body differs"
    # at-least-once: the same delivery again
    post $p "$T/$p.json" "$T/$p.h"
    [ "$CODE" = 200 ] || fail "$p duplicate: response $CODE"
    expect_outcome duplicate
    # forged
    post $p "$T/$p.json" "$T/$p.forged"
    [ "$CODE" = 401 ] || fail "$p forged: response $CODE"
    expect_outcome rejected
    last_delivery | grep -q '"reason":"bad signature"' || fail "$p forged: reason"
done

# rotation: nowpayments' old secret still verifies
sign nowpayments np-old "$T/nowpayments.json" >"$T/np-old.h"
post nowpayments "$T/nowpayments.json" "$T/np-old.h"
case $CODE in 200|202) ;; *) fail "rotation: old secret response $CODE" ;; esac
last_delivery | grep -q '"secret_index":0' || fail "rotation: secret_index 0"

# out of order: a later event first, then the earlier one; both are kept
printf '{"id":"d-3","event":{"id":"evt-cb-3","type":"charge:confirmed","created_at":"2026-11-01T10:20:00Z","data":{"code":"CB1","created_at":"2026-11-01T10:00:00Z","metadata":{"order_id":"order-cb"},"timeline":[{"time":"2026-11-01T10:00:00Z","status":"NEW"},{"time":"2026-11-01T10:05:00Z","status":"PENDING"},{"time":"2026-11-01T10:20:00Z","status":"COMPLETED"}],"payments":[]}}}' >"$T/late.json"
printf '{"id":"d-2","event":{"id":"evt-cb-2","type":"charge:pending","created_at":"2026-11-01T10:05:00Z","data":{"code":"CB1","created_at":"2026-11-01T10:00:00Z","metadata":{"order_id":"order-cb"},"timeline":[{"time":"2026-11-01T10:00:00Z","status":"NEW"},{"time":"2026-11-01T10:05:00Z","status":"PENDING"}],"payments":[]}}}' >"$T/early.json"
for b in late early; do
    sign coinbase-commerce cb-secret "$T/$b.json" >"$T/$b.h"
    post coinbase "$T/$b.json" "$T/$b.h"
    [ "$CODE" = 200 ] || fail "out of order $b: response $CODE"
    last_delivery | grep -q '"outcome":"duplicate"' && fail "out of order $b: taken as a duplicate"
done

# stale (authentic, outside the tolerance): standard-webhooks and generic hmac
printf '{"event_id":"g-old","ref":"order-gen"}' >"$T/old.json"
"$R" webhook sign --scheme standard-webhooks --secret "$RK_E2E_SW" --id msg_old \
    --now $((NOW - 600)) <"$T/old.json" >"$T/old.h"
post sw "$T/old.json" "$T/old.h"
[ "$CODE" = 401 ] || fail "stale: response $CODE"
last_delivery | grep -q '"reason":"timestamp too old"' || fail "stale: reason"
last_delivery | grep -q '"msg_id":"msg_old"' || fail "stale: msg_id recorded"
"$R" webhook sign --scheme hmac --secret gen-secret --hmac-header X-Sig --hmac-prefix sha256= \
    --hmac-timestamp-header X-Ts --now $((NOW + 900)) <"$T/old.json" >"$T/fut.h"
post generic "$T/old.json" "$T/fut.h"
[ "$CODE" = 401 ] || fail "future: response $CODE"
last_delivery | grep -q '"reason":"timestamp in the future"' || fail "future: reason"

# not JSON, but signed
printf 'this is not json' >"$T/nj.txt"
sign coinbase-commerce cb-secret "$T/nj.txt" >"$T/nj.h"
post coinbase "$T/nj.txt" "$T/nj.h"
[ "$CODE" = 400 ] || fail "not JSON: response $CODE"
expect_outcome rejected
last_delivery | grep -q '"reason":"body is not JSON' || fail "not JSON: reason"

# oversized (Content-Length says more than 4096)
head -c 5000 /dev/zero | tr '\0' a >"$T/big.txt"
post coinbase "$T/big.txt"
[ "$CODE" = 413 ] || fail "oversized: response $CODE"
last_delivery | grep -q '"declared_size":5000' || fail "oversized: declared size"
last_delivery | grep -q '"raw"' && fail "oversized: body stored"

# unknown endpoint
post nowhere "$T/coinbase.json" "$T/coinbase.h"
[ "$CODE" = 404 ] || fail "unknown endpoint: response $CODE"
last_delivery | grep -q '"endpoint":"nowhere"' || fail "unknown endpoint: recorded"

# credentials never reach the ledger
curl -s -o /dev/null -X POST -H 'Authorization: Bearer hunter2' --data-binary @"$T/coinbase.json" "$URL/webhooks/coinbase"
"$R" log --db "$D" | grep -q hunter2 && fail "an Authorization header was stored"

# --- health, metrics, notes ------------------------------------------------------
curl -s "$URL/healthz" | grep -q '"status":"ok"' || fail "healthz"
curl -s "$URL/metrics" >"$T/metrics"
grep -q '^reckon_deliveries_total{endpoint="coinbase",outcome="rejected"} [1-9]' "$T/metrics" || fail "metrics: deliveries"
grep -q '^reckon_append_seconds_count [1-9]' "$T/metrics" || fail "metrics: latency"
note() { CODE=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" --data-binary "$2" "$URL/api/notes"); }
note "$(cat "$T/key.op")" '{"ref":"order-cb","text":"customer says paid twice"}'
[ "$CODE" = 201 ] || fail "note: response $CODE"
"$R" log --db "$D" --kind operator_note | tail -n 1 | grep -q '"author":"olga",.*"via":"api"' || fail "note: record"
note "$(cat "$T/key.aud")" '{"ref":"order-cb","text":"x"}'
[ "$CODE" = 403 ] || fail "auditor note: response $CODE"
note "$(cat "$T/key.op")" '{"ref":"order-cb"}'
[ "$CODE" = 400 ] || fail "bad note: response $CODE"
note rk_nope '{"ref":"order-cb","text":"x"}'
[ "$CODE" = 401 ] || fail "bad key: response $CODE"
"$R" keys revoke --file "$T/keys.json" --id "$AUD_ID" --db "$D" 2>/dev/null && fail "revoke while the server holds the ledger must fail (the ledger is locked)"
"$R" keys revoke --file "$T/keys.json" --id "$AUD_ID" 2>/dev/null || fail "keys revoke"
note "$(cat "$T/key.aud")" '{"ref":"order-cb","text":"x"}'
[ "$CODE" = 401 ] || fail "revoked key: response $CODE"
# rejected API calls are evidence: the body kept, the key never
"$R" log --db "$D" --kind webhook_delivery | grep '"via":"api"' >"$T/apirej"
[ "$(grep -c '"status":401' "$T/apirej")" = 2 ] || fail "api rejects: 401s not recorded"
grep -q '"status":403' "$T/apirej" && grep -q '"status":400' "$T/apirej" || fail "api rejects: 403/400 not recorded"
grep -q '\["authorization","\[redacted\]"\]' "$T/apirej" || fail "api rejects: authorization not redacted"
for k in "$(cat "$T/key.op")" "$(cat "$T/key.aud")" rk_nope; do
    "$R" log --db "$D" | grep -qF "$k" && fail "an API key was stored"
    grep -qF "$k" "$T/serve.err" && fail "an API key was logged"
done

# --- SIGKILL in the middle of a stream --------------------------------------------
: >"$T/acked"
python3 - "$URL" "$T" <<'PY' &
import sys, subprocess, urllib.request
url, t = sys.argv[1], sys.argv[2]
import hmac, hashlib
for i in range(100000):
    body = ('{"event_id":"s-%d","event_type":"payment.seen","occurred_at":"2026-11-01T10:00:00Z",'
            '"order_seq":%d,"payments":[],"refs":{"order":"order-s"},"state":"detected","v":1}' % (i, i)).encode()
    import time
    ts = str(int(time.time()))
    sig = hmac.new(b"gen-secret", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(url + "/webhooks/generic", data=body, method="POST",
                                 headers={"X-Sig": "sha256=" + sig, "X-Ts": ts})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            if 200 <= r.status < 300:
                with open(t + "/acked", "a") as f:
                    f.write(body.decode() + "\n")
    except Exception:
        break
PY
CLIENT=$!
sleep 1.5
kill -9 $PID
wait $PID 2>/dev/null
wait $CLIENT 2>/dev/null
n=$(wc -l <"$T/acked")
echo "SIGKILL after $n acknowledged deliveries"
[ "$n" -gt 0 ] || fail "no delivery acknowledged before SIGKILL"
"$R" verify --db "$D" >"$T/verify1" || { cat "$T/verify1"; fail "ledger does not verify after SIGKILL"; }
"$R" log --db "$D" --kind webhook_delivery | python3 -c '
import sys, json, base64
have = set()
for line in sys.stdin:
    r = json.loads(line)
    if "raw" in r:
        have.add(base64.b64decode(r["raw"]).decode("utf-8", "replace"))
missing = [l.rstrip("\n") for l in open(sys.argv[1]) if l.rstrip("\n") not in have]
print("acknowledged but missing:", len(missing))
sys.exit(1 if missing else 0)' "$T/acked" || fail "a 2xx delivery is missing after SIGKILL"

# --- restart, SIGTERM, clean stop ----------------------------------------------------
start
post coinbase "$T/coinbase.json" "$T/coinbase.h"
case $CODE in 200|202) ;; *) fail "after restart: response $CODE" ;; esac
kill -TERM $PID
wait $PID
rc=$?
[ $rc = 0 ] || fail "SIGTERM: exit $rc"
grep -q 'stopped cleanly' "$T/serve.err" || fail "no clean stop message"
"$R" log --db "$D" | tail -n 1 | grep -q '"kind":"checkpoint"' || fail "no final checkpoint on stop"
"$R" verify --db "$D" >"$T/verify2" || { cat "$T/verify2"; fail "ledger does not verify after SIGTERM"; }

# --- the CLI note -----------------------------------------------------------------
seq=$("$R" note --db "$D" --ref order-cb --author alice 'refund approved by phone') || fail "reckon note"
"$R" log --db "$D" --from "$seq" --to "$seq" | grep -q '"body":{"author":"alice","ref":"order-cb","text":"refund approved by phone","v":1,"via":"cli"}' \
    || fail "note record"
"$R" note --db "$D" --ref order-cb --author alice '' 2>/dev/null
[ $? = 2 ] || fail "empty note must exit 2"
"$R" note --db "$D" --ref order-cb 'x' 2>/dev/null
[ $? = 2 ] || fail "note without --author must exit 2"

echo "serve.sh: $fails failures"
[ $fails = 0 ]
