/* Weights files: round trip, groups, required prefix, ignored extras, and
 * every user error (missing tensor, wrong shape, wrong dtype, not HDF5,
 * wrong format or version) with messages naming file, tensor, expected and
 * found. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb_util.h"
#include "scorr/io.h"
#include "scorr/resnet.h"
#include "scorr/weights.h"

#define PREFIX "feature_extraction.backbone."

static char dir[] = "/tmp/scorr_bbw_XXXXXX";

static int has(const char *needle) { return strstr(scorr_error_message(), needle) != NULL; }

static void path_of(char *out, const char *name) { snprintf(out, 4096, "%s/%s", dir, name); }

/* A weights file from the table, with hooks to damage it. */
enum damage { NONE, DROP, RESHAPE, AS_F64, AS_I64, EXTRA, FORMAT, NO_FORMAT, VERSION, NO_GROUP };

static void write_damaged(const char *path, const struct scorr_params *t, const float *flat,
                          enum damage d, int victim)
{
    struct scorr_h5 f;
    char name[512];
    CHECK_OK(scorr_h5_create(&f, path));
    if (d != NO_FORMAT)
        CHECK_OK(scorr_h5_set_attr_str(&f, "/", "format",
                                       d == FORMAT ? "scorr-checkpoint" : SCORR_WEIGHTS_FORMAT));
    CHECK_OK(scorr_h5_set_attr_i64(&f, "/", "version", d == VERSION ? 2 : 1));
    for (int i = 0; i < t->n; i++) {
        const struct scorr_param *e = &t->p[i];
        snprintf(name, sizeof name, "%s/%s", d == NO_GROUP ? "/weights" : "/params", e->name);
        if (i == victim && d == DROP) continue;
        if (i == victim && d == RESHAPE) {
            int64_t sh[4] = {e->shape[1], e->shape[0], e->shape[2], e->shape[3]};
            CHECK_OK(scorr_h5_write(&f, name, SCORR_F32, e->ndim, sh, flat + e->offset, 0, 0));
        } else if (i == victim && (d == AS_F64 || d == AS_I64)) {
            void *buf = calloc(e->numel, 8);
            CHECK_OK(scorr_h5_write(&f, name, d == AS_F64 ? SCORR_F64 : SCORR_I64, e->ndim, e->shape,
                                    buf, 0, 0));
            free(buf);
        } else {
            CHECK_OK(scorr_h5_write(&f, name, SCORR_F32, e->ndim, e->shape, flat + e->offset, 0, 0));
        }
    }
    if (d == EXTRA) {
        float z[6] = {0};
        CHECK_OK(scorr_h5_write(&f, "/params/" PREFIX "layer4.0.conv1.weight", SCORR_F32, 2,
                                (int64_t[]){2, 3}, z, 0, 0));
        CHECK_OK(scorr_h5_write(&f, "/params/" PREFIX "bn1.num_batches_tracked", SCORR_I64, 0,
                                NULL, z, 0, 0));
    }
    CHECK_OK(scorr_h5_commit(&f));
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    struct scorr_params t;
    scorr_params_init(&t);
    CHECK_OK(scorr_resnet_add_params(&t, 18, 4, PREFIX));
    const int nb = t.n;
    /* a head tensor outside the required prefix */
    scorr_params_add(&t, "SCEs.0.conv.bias", SCORR_PARAM_WEIGHT, SCORR_GROUP_HEAD, SCORR_INIT_ZERO,
                     1, (int64_t[]){7});
    float *w = bb_floats(t.total), *back = bb_floats(t.total);
    scorr_params_initialise(&t, w, 42);
    for (size_t i = 0; i < t.total; i++) w[i] += 0.001f * (float)(i % 97); /* BN entries too */
    char p[4096], q[4096];
    struct scorr_weights_report rep;

    /* round trip */
    path_of(p, "a.h5");
    CHECK_OK(scorr_weights_save(p, &t, w, "resnet18-w4"));
    CHECK_OK(scorr_weights_load(p, &t, back, PREFIX, &rep));
    int same = 1;
    for (int i = 0; i < t.n; i++)
        same &= memcmp(w + t.p[i].offset, back + t.p[i].offset, t.p[i].numel * sizeof(float)) == 0;
    CHECK(same, "round trip differs");
    CHECK(rep.loaded == t.n && rep.extra == 0 && rep.absent == 0, "report %d %d %d", rep.loaded,
          rep.extra, rep.absent);
    struct scorr_h5 f;
    char arch[64];
    CHECK_OK(scorr_h5_open(&f, p));
    CHECK_OK(scorr_h5_get_attr_str(&f, "/", "arch", arch, sizeof arch));
    CHECK(strcmp(arch, "resnet18-w4") == 0, "arch '%s'", arch);
    scorr_h5_close(&f);

    /* another group (checkpoints: /peer/params), prefix filter on write */
    path_of(q, "peer.h5");
    CHECK_OK(scorr_h5_create(&f, q));
    CHECK_OK(scorr_weights_write_group(&f, "/peer/params", &t, w, PREFIX));
    CHECK_OK(scorr_h5_commit(&f));
    memset(back, 0, t.total * sizeof(float));
    CHECK_OK(scorr_h5_open(&f, q));
    CHECK_OK(scorr_weights_read_group(&f, "/peer/params", &t, back, PREFIX, &rep));
    CHECK(rep.loaded == nb && rep.absent == 1 && rep.extra == 0, "peer report %d %d %d", rep.loaded,
          rep.absent, rep.extra);
    CHECK(scorr_weights_read_group(&f, "/peer/params", &t, back, "", &rep) == SCORR_EFORMAT &&
              has("SCEs.0.conv.bias") && has("missing") && has(q) && has("(7)"),
          "all required: %s", scorr_error_message());
    scorr_h5_close(&f);

    /* a tensor missing: required -> error naming file and tensor; not required -> absent */
    const int victim = 7;
    const char *vname = t.p[victim].name;
    path_of(q, "drop.h5");
    write_damaged(q, &t, w, DROP, victim);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(q) && has(vname) &&
              has("missing"),
          "missing: %s", scorr_error_message());
    CHECK_OK(scorr_weights_load(q, &t, back, NULL, &rep));
    CHECK(rep.absent == 1 && rep.loaded == t.n - 1, "absent %d loaded %d", rep.absent, rep.loaded);

    /* wrong shape on a conv weight */
    int conv = -1;
    for (int i = 0; i < t.n && conv < 0; i++)
        if (t.p[i].ndim == 4 && t.p[i].shape[0] != t.p[i].shape[1]) conv = i;
    CHECK(conv >= 0, "no non-square conv");
    path_of(q, "shape.h5");
    write_damaged(q, &t, w, RESHAPE, conv);
    char want[128], got[128];
    const struct scorr_param *ce = &t.p[conv];
    snprintf(want, sizeof want, "expected (%lld, %lld, %lld, %lld)", (long long)ce->shape[0],
             (long long)ce->shape[1], (long long)ce->shape[2], (long long)ce->shape[3]);
    snprintf(got, sizeof got, "has shape (%lld, %lld, %lld, %lld)", (long long)ce->shape[1],
             (long long)ce->shape[0], (long long)ce->shape[2], (long long)ce->shape[3]);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(q) &&
              has(ce->name) && has(want) && has(got),
          "shape: %s", scorr_error_message());

    /* wrong dtypes */
    path_of(q, "f64.h5");
    write_damaged(q, &t, w, AS_F64, victim);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(q) && has(vname) &&
              has("float64") && has("expected float32"),
          "float64: %s", scorr_error_message());
    path_of(q, "i64.h5");
    write_damaged(q, &t, w, AS_I64, victim);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(vname) &&
              has("int64") && has("expected float32"),
          "int64: %s", scorr_error_message());

    /* extras are ignored and counted */
    path_of(q, "extra.h5");
    write_damaged(q, &t, w, EXTRA, -1);
    CHECK_OK(scorr_weights_load(q, &t, back, PREFIX, &rep));
    CHECK(rep.extra == 2 && rep.loaded == t.n, "extra %d loaded %d", rep.extra, rep.loaded);

    /* file-level errors */
    path_of(q, "fmt.h5");
    write_damaged(q, &t, w, FORMAT, -1);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(q) &&
              has("'scorr-checkpoint'") && has("'scorr-weights'"),
          "format: %s", scorr_error_message());
    path_of(q, "nofmt.h5");
    write_damaged(q, &t, w, NO_FORMAT, -1);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(q) &&
              has("'format' is missing"),
          "no format: %s", scorr_error_message());
    path_of(q, "ver.h5");
    write_damaged(q, &t, w, VERSION, -1);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has("version 2") &&
              has("expected 1"),
          "version: %s", scorr_error_message());
    path_of(q, "nogroup.h5");
    write_damaged(q, &t, w, NO_GROUP, -1);
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has("'/params'") &&
              has("missing"),
          "no group: %s", scorr_error_message());
    path_of(q, "text.h5");
    CHECK_OK(scorr_write_file_atomic(q, "not hdf5\n", 9));
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EFORMAT && has(q) &&
              has("not a readable HDF5"),
          "text file: %s", scorr_error_message());
    path_of(q, "absent.h5");
    CHECK(scorr_weights_load(q, &t, back, PREFIX, &rep) == SCORR_EIO && has(q) &&
              has("does not exist"),
          "absent file: %s", scorr_error_message());

    /* the committed converter output loads into a ResNet-18 width-4 table
     * (layer4, fc and num_batches_tracked are extras) */
    struct scorr_params t18;
    scorr_params_init(&t18);
    CHECK_OK(scorr_resnet_add_params(&t18, 18, 4, PREFIX));
    float *w18 = bb_floats(t18.total);
    snprintf(q, sizeof q, "%s/backbone_r18w4_weights.h5", SCORR_FIXTURES);
    CHECK_OK(scorr_weights_load(q, &t18, w18, PREFIX, &rep));
    CHECK(rep.loaded == t18.n && rep.extra > 0, "converted: loaded %d of %d, extra %d", rep.loaded,
          t18.n, rep.extra);
    /* a ResNet-34 table needs tensors a ResNet-18 file does not have */
    struct scorr_params t34;
    scorr_params_init(&t34);
    CHECK_OK(scorr_resnet_add_params(&t34, 34, 4, PREFIX));
    float *w34 = bb_floats(t34.total);
    CHECK(scorr_weights_load(q, &t34, w34, PREFIX, &rep) == SCORR_EFORMAT &&
              has(PREFIX "layer1.2.conv1.weight") && has("missing"),
          "resnet34 from resnet18 weights: %s", scorr_error_message());
    scorr_aligned_free(w18);
    scorr_aligned_free(w34);
    scorr_params_free(&t18);
    scorr_params_free(&t34);

    scorr_aligned_free(w);
    scorr_aligned_free(back);
    scorr_params_free(&t);
    const char *files[] = {"a.h5", "peer.h5", "drop.h5", "shape.h5", "f64.h5", "i64.h5",
                           "extra.h5", "fmt.h5", "nofmt.h5", "ver.h5", "nogroup.h5", "text.h5"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_of(q, files[i]);
        unlink(q);
    }
    rmdir(dir);
    return scorr_test_finish("test_bb_weights");
}
