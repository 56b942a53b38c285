/* fuzz_adapt_coinbase.c - the coinbase-commerce adapter: webhook bodies and API reads. */
#include "fuzz_adapt_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_adapt("coinbase-commerce", data, size);
}
