/* fuzz_sig_standard_webhooks.c - webhook-id / -timestamp / -signature parser. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *hmac = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static const char *pk = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    static const char *sk = "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    rk_sig_secret s[2] = { { (const uint8_t *)hmac, strlen(hmac) },
                           { (const uint8_t *)pk, strlen(pk) } };
    rk_sig_secret ssk = { (const uint8_t *)sk, strlen(sk) };
    rk_sig_params p;
    rk_sig_header h[3];
    const char *v[3];
    const uint8_t *body;
    size_t blen;
    char *copy = fuzz_split(data, size, v, 3, &body, &blen);

    if (copy == NULL || rk_sig_scheme_parse("standard-webhooks", &p, NULL) != RK_OK)
        abort();
    h[0] = (rk_sig_header){ "webhook-id", v[0] };
    h[1] = (rk_sig_header){ "webhook-timestamp", v[1] };
    h[2] = (rk_sig_header){ size % 2 ? "svix-signature" : "webhook-signature", v[2] };
    fuzz_verify(&p, s, 2, h, 3, body, blen);
    fuzz_round_trip(&p, &s[0], &s[0], body, blen);
    fuzz_round_trip(&p, &ssk, &s[1], body, blen);
    free(copy);
    return 0;
}
