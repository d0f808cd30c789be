/* The list of fuzz targets (fuzz_common.h). */
#include "fuzz_common.h"

const struct fuzz_target fuzz_targets[] = {
    {"config", fuzz_config},
    {"sweep", fuzz_sweep},
    {"spair", fuzz_spair},
    {"pfpascal_csv", fuzz_pfpascal_csv},
    {"pfwillow_csv", fuzz_pfwillow_csv},
    {"mat", fuzz_mat},
    {"image", fuzz_image},
    {"dataset", fuzz_dataset},
    {"checkpoint", fuzz_checkpoint},
    {"h5raw", fuzz_h5raw},
};
const int fuzz_ntargets = (int)(sizeof fuzz_targets / sizeof *fuzz_targets);
