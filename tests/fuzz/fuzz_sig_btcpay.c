/* fuzz_sig_btcpay.c - the btcpay signature header parser. */
#include "fuzz_sig_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_single_header("btcpay", "BTCPay-Sig", data, size);
}
