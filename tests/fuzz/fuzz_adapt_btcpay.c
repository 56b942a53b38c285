/* fuzz_adapt_btcpay.c - the btcpay adapter: webhook bodies and API reads. */
#include "fuzz_adapt_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_adapt("btcpay", data, size);
}
