/* libFuzzer entry of one target (built with -DSCORR_FUZZ=ON; FUZZ_FN names
 * the target function of fuzz_common.h). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return FUZZ_FN(data, size); }
