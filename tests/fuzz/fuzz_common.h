/* Fuzz targets: one function per input format, shared by the libFuzzer
 * harnesses (fuzz_entry.c, -DSCORR_FUZZ=ON) and the regression replay test
 * (replay.c, every build). A target feeds the bytes to the product's entry
 * point and checks the contract every rejection must keep: the call returns
 * a scorr error code with a message that is not empty and names the file.
 * A broken contract, a crash, an abort or a sanitizer report is a finding.
 *
 * File-based readers get the bytes through files in a private temporary
 * folder (fuzz_tmpdir); the folder is made once per process. */
#ifndef SCORR_FUZZ_COMMON_H
#define SCORR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

struct fuzz_target {
    const char *name; /* folder name under tests/fuzz/{corpus,regressions} */
    fuzz_fn fn;
};

int fuzz_config(const uint8_t *data, size_t size);       /* experiment YAML */
int fuzz_sweep(const uint8_t *data, size_t size);        /* sweep YAML */
int fuzz_spair(const uint8_t *data, size_t size);        /* SPair layout + JSON */
int fuzz_pfpascal_csv(const uint8_t *data, size_t size); /* PF-PASCAL pairs CSV */
int fuzz_pfwillow_csv(const uint8_t *data, size_t size); /* PF-WILLOW pairs CSV */
int fuzz_mat(const uint8_t *data, size_t size);          /* PF-PASCAL .mat annotation */
int fuzz_image(const uint8_t *data, size_t size);        /* JPEG / PNG decoding */
int fuzz_dataset(const uint8_t *data, size_t size);      /* dataset HDF5, generated */
int fuzz_checkpoint(const uint8_t *data, size_t size);   /* checkpoint HDF5, generated */
int fuzz_h5raw(const uint8_t *data, size_t size);        /* dataset reader, raw bytes */

extern const struct fuzz_target fuzz_targets[];
extern const int fuzz_ntargets;

/* ---- helpers (fuzz_util.c) ---- */

/* The process's temporary folder (made on first use, removed at exit). */
const char *fuzz_tmpdir(void);
/* Write bytes to <fuzz_tmpdir>/<rel> (parents made); path receives the full
 * path (>= 4096 bytes). */
void fuzz_write(const char *rel, const void *data, size_t size, char *path);
/* The rejection contract: err != 0 must come with a message that is not
 * empty, is not "unspecified failure", and contains `must_name` (a file
 * name; NULL = no check). Traps (a finding) otherwise. Clears the error. */
void fuzz_check_rejection(int err, const char *must_name, const char *target);

/* Bytes consumed as decisions: past the end every read gives 0, so an empty
 * input means "all defaults". */
struct fuzz_bytes {
    const uint8_t *p;
    size_t n, i;
};
unsigned fuzz_u8(struct fuzz_bytes *b);
uint32_t fuzz_u32(struct fuzz_bytes *b);
/* 1 with probability about k/256 (0 once the input is used up). */
int fuzz_chance(struct fuzz_bytes *b, unsigned k);

#endif
