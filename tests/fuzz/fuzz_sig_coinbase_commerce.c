/* fuzz_sig_coinbase_commerce.c - the coinbase-commerce signature header parser. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_single_header("coinbase-commerce", "X-CC-Webhook-Signature", data, size);
}
