/* fuzz_adapt_generic.c - the generic adapter: webhook bodies and API reads. */
#include "fuzz_adapt_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_adapt("generic", data, size);
}
