/* The model's memory accounting (scorr_model_memory) and its shared
 * workspace (scorr_model_create_sharing), on a small Bottleneck model:
 *   - the categories add up to the arenas the model allocated: kept
 *     activations + the workspace (feature gradient + the larger of the
 *     backbone's and the head's call-local buffers);
 *   - two networks sharing one workspace, run as mt runs them on one rank
 *     (forward A, forward B, backward A, backward B), give the same flows and
 *     gradients, bit for bit, as two networks with workspaces of their own;
 *   - a workspace too small for the network is refused. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scorr/arena.h"
#include "scorr/model.h"
#include "scorr/rng.h"

static struct scorr_model_config small(int batch, int training)
{
    return (struct scorr_model_config){.depth = 50, .width = 8, .bn_batch = 1,
                                       .sce_enabled = 1, .sce_kernel = 3, .sce_channels = 16,
                                       .upsample = 2, .temperature = 0.1f, .image_size = 32,
                                       .batch = batch, .training = training};
}

static float *randn(size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof *x);
    struct scorr_rng r;
    scorr_rng_init(&r, seed, 0, 0, 0, 0);
    for (size_t i = 0; i < n; i++) x[i] = scorr_rng_normal(&r);
    return x;
}

static void check_accounting(void)
{
    const struct scorr_model_config c = small(2, 1);
    struct scorr_model *m = NULL;
    CHECK_OK(scorr_model_create(&c, 1, &m));
    if (!m) return;
    struct scorr_model_memory mm;
    scorr_model_memory(m, &mm);
    const size_t flat = scorr_arena_bytes(scorr_model_params(m)->total * sizeof(float));
    CHECK(mm.params == flat && mm.grads == flat, "params %zu grads %zu, want %zu", mm.params,
          mm.grads, flat);
    CHECK(mm.bb_act_conv > 0 && mm.bb_act_conv < mm.bb_act, "conv outputs %zu of %zu",
          mm.bb_act_conv, mm.bb_act);
    CHECK(mm.bb_grad > 0 && mm.bb_scratch > 0 && mm.head_grad > 0 && mm.head_scratch > 0,
          "empty workspace part");
    /* features: 2B images of (S/16)^2 positions, 16 * width channels */
    const size_t dfeat = scorr_arena_bytes((size_t)2 * c.batch * 2 * 2 * 16 * c.width * sizeof(float));
    const size_t bb = mm.bb_grad + mm.bb_scratch, hd = mm.head_grad + mm.head_scratch;
    CHECK(mm.workspace == dfeat + (bb > hd ? bb : hd), "workspace %zu, want %zu + max(%zu, %zu)",
          mm.workspace, dfeat, bb, hd);
    const size_t kept = mm.bb_act + mm.head_act + mm.io - dfeat;
    CHECK(mm.arena == kept + mm.workspace && mm.arena == scorr_model_arena_bytes(m),
          "arena %zu, want %zu kept + %zu workspace", mm.arena, kept, mm.workspace);
    CHECK(!mm.workspace_shared, "own workspace reported shared");
    scorr_model_free(m);

    /* inference only: no gradients, no kept activations beyond the ping-pong */
    const struct scorr_model_config ci = small(2, 0);
    CHECK_OK(scorr_model_create(&ci, 1, &m));
    if (!m) return;
    scorr_model_memory(m, &mm);
    CHECK(mm.bb_grad == 0 && mm.head_grad == 0, "inference model has gradient buffers");
    CHECK(mm.bb_act_conv == 0, "inference model keeps conv outputs");
    scorr_model_free(m);
}

static void check_sharing(void)
{
    const struct scorr_model_config c = small(2, 1);
    struct scorr_model *own[2] = {NULL, NULL}, *shr[2] = {NULL, NULL};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(scorr_model_create(&c, (uint64_t)k + 7, &own[k]));
        CHECK_OK(scorr_model_create_sharing(&c, (uint64_t)k + 7, k ? shr[0] : NULL, &shr[k]));
    }
    if (!own[0] || !own[1] || !shr[0] || !shr[1]) goto done;
    struct scorr_model_memory m0, m1;
    scorr_model_memory(shr[0], &m0);
    scorr_model_memory(shr[1], &m1);
    CHECK(m1.workspace_shared && !m0.workspace_shared, "sharing flags %d %d",
          m0.workspace_shared, m1.workspace_shared);
    CHECK(m1.arena + m1.workspace == m0.arena, "sharing model allocated %zu, want %zu",
          m1.arena, m0.arena - m1.workspace);

    const size_t img = (size_t)c.batch * c.image_size * c.image_size * 3;
    const int G = scorr_model_grid(own[0]);
    const size_t nflow = (size_t)c.batch * G * G * 2;
    float *src = randn(img, 1), *trg = randn(img, 2), *df[2] = {randn(nflow, 3), randn(nflow, 4)};
    float *flow[2][2];
    struct scorr_model **set[2] = {own, shr};
    for (int s = 0; s < 2; s++) {
        struct scorr_model **mm = set[s];
        for (int k = 0; k < 2; k++) {
            /* network B sees the images swapped: different activations */
            const float *f = scorr_model_forward(mm[k], k ? trg : src, k ? src : trg);
            flow[s][k] = malloc(nflow * sizeof(float));
            memcpy(flow[s][k], f, nflow * sizeof(float));
        }
        for (int k = 0; k < 2; k++) {
            scorr_model_zero_grad(mm[k]);
            scorr_model_backward(mm[k], df[k]);
        }
    }
    for (int k = 0; k < 2; k++) {
        const size_t n = scorr_model_params(own[k])->total;
        CHECK(!memcmp(flow[0][k], flow[1][k], nflow * sizeof(float)),
              "network %d: flow differs with a shared workspace", k);
        CHECK(!memcmp(scorr_model_grads(own[k]), scorr_model_grads(shr[k]), n * sizeof(float)),
              "network %d: gradients differ with a shared workspace", k);
        free(flow[0][k]);
        free(flow[1][k]);
    }
    free(src);
    free(trg);
    free(df[0]);
    free(df[1]);

    /* a larger batch needs a larger workspace than shr[0] has */
    const struct scorr_model_config big = small(4, 1);
    struct scorr_model *b = NULL;
    static const char *const needles[] = {"workspace", NULL};
    if (scorr_check_error(__LINE__, scorr_model_create_sharing(&big, 1, shr[0], &b), "batch 4",
                          needles))
        scorr_model_free(b);
done:
    for (int k = 1; k >= 0; k--) {
        if (shr[k]) scorr_model_free(shr[k]);
        if (own[k]) scorr_model_free(own[k]);
    }
}

int main(void)
{
    check_accounting();
    check_sharing();
    return scorr_test_finish("test_model_memory");
}
