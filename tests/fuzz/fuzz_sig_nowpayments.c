/* fuzz_sig_nowpayments.c - the nowpayments signature header parser. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_single_header("nowpayments", "x-nowpayments-sig", data, size);
}
