/* fuzz_sig_stripe.c - the stripe signature header parser. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_single_header("stripe", "Stripe-Signature", data, size);
}
