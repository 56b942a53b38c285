#!/bin/sh
# webhook_cli.sh - `reckon webhook verify` and `reckon webhook sign`: public
# vectors, sign -> verify round trips for every scheme, every exit code.
# Needs $RECKON (the binary) and $TMPDIR (a fresh directory).
set -u
VEC="$(cd "$(dirname "$0")/../vectors/sig" && pwd)"
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

# verify_with HEADERFILE ARGS...: verify, one --header per line of the file
verify_with() {
    hf=$1; shift
    while IFS= read -r line; do set -- "$@" --header "$line"; done < "$hf"
    "$RECKON" webhook verify "$@"
}

SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
printf '{"test": 2432232314}' > "$T/sw.json"

# --- public vectors ------------------------------------------------------
expect 0 valid -- "$RECKON" webhook verify --scheme standard-webhooks --secret $SW \
    --now 1614265330 --header 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek' \
    --header 'webhook-timestamp: 1614265330' \
    --header 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' \
    --body "$T/sw.json"
"$RECKON" webhook sign --scheme standard-webhooks --secret $SW --now 1614265330 \
    --id msg_p5jXN8AQM9LWM0D4loKWxJek < "$T/sw.json" > "$T/sw.h" || fail "sign sw"
printf 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\nwebhook-timestamp: 1614265330\nwebhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n' > "$T/sw.want"
cmp -s "$T/sw.h" "$T/sw.want" || fail "standard-webhooks sign differs from the public vector"

CB=30291a20-0bd1-4267-9b0f-e6e7b123c0bf
CBSIG='X-CC-Webhook-Signature: 8be7742c7d372f08a6a3224edadf18a22b65fa9e28f3f2de97376cdaa092590d'
printf '%s\n' "$CB" > "$T/cb.secret"
expect 0 valid -- "$RECKON" webhook verify --scheme coinbase-commerce \
    --secret-file "$T/cb.secret" --header "$CBSIG" \
    --body "$VEC/coinbase-commerce-charge-created.json"
export RK_TEST_CB_SECRET=$CB
expect 0 valid -- "$RECKON" webhook verify --scheme coinbase-commerce \
    --secret-env RK_TEST_CB_SECRET --header "$CBSIG" \
    < "$VEC/coinbase-commerce-charge-created.json"
"$RECKON" webhook sign --scheme coinbase-commerce --secret $CB \
    < "$VEC/coinbase-commerce-charge-created.json" > "$T/cb.h"
[ "$(cat "$T/cb.h")" = "$CBSIG" ] || fail "coinbase-commerce sign differs from the public vector"

# --- sign -> verify for every scheme, rotation, tampering, staleness -----
head -c 5000 /dev/urandom > "$T/body.bin"
for scheme in standard-webhooks stripe coinbase-commerce btcpay nowpayments hmac; do
    case $scheme in
    standard-webhooks) old=whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; new=$SW; extra= ;;
    hmac) old=old-key; new=new-key
          extra="--hmac-header X-Sig --hmac-alg sha512 --hmac-encoding base64 --hmac-prefix s= --hmac-timestamp-header X-Ts" ;;
    *) old=old-key; new=new-key; extra= ;;
    esac
    # shellcheck disable=SC2086
    "$RECKON" webhook sign --scheme $scheme --secret "$new" --now 1700000000 $extra \
        < "$T/body.bin" > "$T/$scheme.h" || fail "sign $scheme"
    # shellcheck disable=SC2086
    expect 0 valid -- verify_with "$T/$scheme.h" --scheme $scheme --secret "$old" \
        --secret "$new" --now 1700000100 $extra --body "$T/body.bin"
    cp "$T/body.bin" "$T/tampered.bin"
    printf 'x' >> "$T/tampered.bin"
    # shellcheck disable=SC2086
    expect 1 "invalid: bad signature" -- verify_with "$T/$scheme.h" --scheme $scheme \
        --secret "$new" --now 1700000100 $extra --body "$T/tampered.bin"
    # shellcheck disable=SC2086
    expect 1 "invalid: bad signature" -- verify_with "$T/$scheme.h" --scheme $scheme \
        --secret "$old" --now 1700000100 $extra --body "$T/body.bin"
    # shellcheck disable=SC2086
    expect 1 "invalid: missing header" -- "$RECKON" webhook verify --scheme $scheme \
        --secret "$new" --now 1700000100 $extra --body "$T/body.bin"
    case $scheme in standard-webhooks|stripe|hmac)
        # shellcheck disable=SC2086
        expect 1 "invalid: timestamp too old" -- verify_with "$T/$scheme.h" \
            --scheme $scheme --secret "$new" --now 1700000301 $extra --body "$T/body.bin"
        # shellcheck disable=SC2086
        expect 0 valid -- verify_with "$T/$scheme.h" --scheme $scheme --secret "$new" \
            --now 1700000301 --tolerance 301 $extra --body "$T/body.bin"
        # shellcheck disable=SC2086
        expect 1 "invalid: timestamp in the future" -- verify_with "$T/$scheme.h" \
            --scheme $scheme --secret "$new" --now 1699999000 $extra --body "$T/body.bin"
    esac
done

# v1a: sign with the RFC 8032 TEST 1 seed, verify with its public key
"$RECKON" webhook sign --scheme standard-webhooks --id msg_1 --now 1700000000 \
    --secret whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A= < "$T/body.bin" > "$T/v1a.h"
grep -q '^webhook-signature: v1a,' "$T/v1a.h" || fail "v1a sign"
expect 0 valid -- verify_with "$T/v1a.h" --scheme standard-webhooks --now 1700000000 \
    --secret whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= --body "$T/body.bin"

# without --now the tool uses the clock: a fresh signature verifies
"$RECKON" webhook sign --scheme stripe --secret k < "$T/body.bin" > "$T/now.h"
expect 0 valid -- verify_with "$T/now.h" --scheme stripe --secret k --body "$T/body.bin"

# --- malformed deliveries: exit 1 with the reason -------------------------
expect 1 "invalid: malformed header" -- "$RECKON" webhook verify --scheme btcpay \
    --secret k --header 'BTCPay-Sig: sha256=abc' --body "$T/body.bin"
expect 1 "invalid: no signature of a known version" -- "$RECKON" webhook verify \
    --scheme stripe --secret k --header 'Stripe-Signature: t=1,v0=00' --now 1 --body "$T/body.bin"
expect 1 "invalid: non-integer timestamp" -- "$RECKON" webhook verify --scheme stripe \
    --secret k --header 'Stripe-Signature: t=1x,v1=00' --body "$T/body.bin"

# --- configuration and usage errors: exit 2, nothing on stdout -------------
expect 2 "" -- "$RECKON" webhook verify --scheme standard-webhooks --secret 'whsec_%%%%' \
    --header 'webhook-id: a' --body "$T/body.bin"
grep -q 'secret 1: not whsec_' "$T/stderr" || fail "bad whsec message"
grep -q '%%%%' "$T/stderr" && fail "secret text in the error message"
expect 2 "" -- "$RECKON" webhook
expect 2 "" -- "$RECKON" webhook frobnicate
expect 2 "" -- "$RECKON" webhook verify --secret k --body "$T/body.bin"
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --body "$T/body.bin"
expect 2 "" -- "$RECKON" webhook verify --scheme nope --secret k
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret k --bogus
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret k --now soon
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret k --tolerance -5
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret k --header 'no colon'
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret k --hmac-header X
expect 2 "" -- "$RECKON" webhook verify --scheme hmac --secret k
expect 2 "" -- "$RECKON" webhook verify --scheme hmac --hmac-header X --hmac-alg md5 --secret k
expect 2 "" -- "$RECKON" webhook verify --scheme hmac --hmac-header X --hmac-encoding b32 --secret k
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret-env RK_TEST_UNSET_VARIABLE
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret-file "$T/missing"
expect 2 "" -- "$RECKON" webhook verify --scheme stripe --secret k --body "$T/missing"
expect 2 "" -- "$RECKON" webhook sign --scheme stripe --secret a --secret b --body "$T/body.bin"
expect 2 "" -- "$RECKON" webhook sign --scheme standard-webhooks \
    --secret whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= --body "$T/body.bin"

if [ $fails -ne 0 ]; then
    echo "webhook_cli: $fails failures"
    exit 1
fi
echo "webhook_cli: ok"
