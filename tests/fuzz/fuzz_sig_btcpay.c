/* fuzz_sig_btcpay.c - the btcpay signature header parser. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *key = "fuzz-secret";
    rk_sig_secret s = { (const uint8_t *)key, 11 };
    rk_sig_params p;
    rk_sig_header h[1];
    const char *v[1];
    const uint8_t *body;
    size_t blen;
    char *copy = fuzz_split(data, size, v, 1, &body, &blen);

    if (copy == NULL || rk_sig_scheme_parse("btcpay", &p, NULL) != RK_OK)
        abort();
    h[0] = (rk_sig_header){ "BTCPay-Sig", v[0] };
    fuzz_verify(&p, &s, 1, h, 1, body, blen);
    fuzz_round_trip(&p, &s, &s, body, blen);
    free(copy);
    return 0;
}
