/* fuzz_sig_hmac.c - the generic scheme: prefix, encoding, timestamp header. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *key = "fuzz-secret";
    rk_sig_secret s = { (const uint8_t *)key, 11 };
    rk_sig_params p;
    rk_sig_header h[2];
    const char *v[2];
    const uint8_t *body;
    size_t blen;
    char *copy = fuzz_split(data, size, v, 2, &body, &blen);

    if (copy == NULL || rk_sig_scheme_parse("hmac", &p, NULL) != RK_OK)
        abort();
    /* the first byte picks the configuration, so every branch is reached */
    p.hmac.header = "X-Sig";
    p.hmac.alg = size > 0 && (data[0] & 1) ? RK_SIG_SHA512 : RK_SIG_SHA256;
    p.hmac.encoding = size > 0 && (data[0] & 2) ? RK_SIG_BASE64 : RK_SIG_HEX;
    p.hmac.prefix = size > 0 && (data[0] & 4) ? "sha=" : NULL;
    p.hmac.ts_header = size > 0 && (data[0] & 8) ? "X-Ts" : NULL;
    h[0] = (rk_sig_header){ "x-sig", v[0] };
    h[1] = (rk_sig_header){ "X-TS", v[1] };
    fuzz_verify(&p, &s, 1, h, 2, body, blen);
    fuzz_round_trip(&p, &s, &s, body, blen);
    free(copy);
    return 0;
}
