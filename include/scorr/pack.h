/* scorr_pack: raw SPair-71k / PF-PASCAL / PF-WILLOW folders -> one scorr
 * dataset file (include/scorr/dataset.h, docs/dataset-format.md). Local; no
 * MPI. Uses OpenMP threads to decode and resize images; HDF5 writes happen on
 * the calling thread. docs/packing.md describes the raw layouts it reads.
 *
 * Bad input (a missing image, a corrupt JPEG, malformed JSON, a .mat without
 * `kps`, a CSV row with the wrong column count, an unknown category) is an
 * error naming the file (and line) and what was wrong; no output file is left
 * behind. With skip_bad, errors that concern one pair (or one image) drop the
 * pairs concerned instead, each with a warning saying why, and the report
 * counts them. Errors that concern a whole split file (missing layout/CSV,
 * wrong CSV header) always stop the pack. */
#ifndef SCORR_PACK_H
#define SCORR_PACK_H

#include <stdint.h>

enum scorr_pack_benchmark { SCORR_PACK_SPAIR, SCORR_PACK_PFPASCAL, SCORR_PACK_PFWILLOW };

#define SCORR_PACK_MAX_SPLITS 3

struct scorr_pack_options {
    enum scorr_pack_benchmark benchmark;
    const char *raw_dir;   /* the benchmark folder (or its parent) */
    const char *out_path;  /* the .h5 to write (atomically) */
    int image_size;        /* S: packed images are S x S; default 256 */
    const char *splits;    /* comma list of trn,val,test; NULL = the benchmark's splits */
    int skip_bad;          /* drop bad pairs with a warning instead of failing */
    int threads;           /* decode/resize threads; 0 = OpenMP's default */
    int quiet;             /* no progress lines (warnings and errors still print) */
};

struct scorr_pack_report {
    int64_t num_images;                         /* images written */
    int num_splits;
    char split_names[SCORR_PACK_MAX_SPLITS][16];
    int64_t num_pairs[SCORR_PACK_MAX_SPLITS];   /* pairs written per split */
    int64_t skipped_pairs;                      /* dropped under skip_bad */
    int64_t skipped_images;                     /* images that failed to decode */
    double seconds;
};

/* Defaults: image_size 256, all of the benchmark's splits, no skipping. */
void scorr_pack_options_default(struct scorr_pack_options *o);
/* "spair" | "pfpascal" | "pfwillow" -> enum; error lists the valid names. */
int scorr_pack_parse_benchmark(const char *name, enum scorr_pack_benchmark *out);
const char *scorr_pack_benchmark_name(enum scorr_pack_benchmark b);

/* Run a pack. report may be NULL. Progress goes to stdout through scorr_info
 * (a line every 10% of the images), warnings to stderr. */
int scorr_pack_run(const struct scorr_pack_options *o, struct scorr_pack_report *report);

#endif
