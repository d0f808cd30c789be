/* The model's memory accounting (scorr_model_memory), its shared buffers
 * (scorr_model_create_sharing) and model.memory small, on a small
 * Bottleneck model:
 *   - the categories add up to the arenas the model allocated: kept
 *     activations + the workspace (feature gradient + the larger of the
 *     backbone's and the head's call-local buffers);
 *   - recomputing the blocks' first conv outputs (recompute = 1) keeps less
 *     and gives the same flows and gradients, bit for bit, in both
 *     batch-norm modes;
 *   - two networks sharing one workspace and one gradient buffer, run as mt
 *     runs them on one rank (forward A, forward B, backward A, backward B),
 *     and two sharing also their activation arena (forward B, forward A,
 *     backward A, forward B again, backward B), give the same flows and
 *     gradients, bit for bit, as two networks with buffers of their own;
 *   - a backward after the other network's forward overwrote the shared
 *     activations aborts (checked in a child process);
 *   - a workspace too small for the network is refused. */
#include <sys/wait.h>
#include <unistd.h>

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
    /* the backbone's call-local buffers lie over the head's kept activations */
    CHECK(mm.workspace == dfeat + hd, "workspace %zu, want %zu + %zu", mm.workspace, dfeat, hd);
    CHECK(mm.overlay == (bb > mm.head_act ? bb : mm.head_act), "overlay %zu, want max(%zu, %zu)",
          mm.overlay, bb, mm.head_act);
    const size_t kept = mm.bb_act + mm.overlay + mm.io - dfeat;
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
    CHECK(mm.overlay == 0 && mm.workspace > 0, "inference model: overlay %zu, workspace %zu",
          mm.overlay, mm.workspace);
    CHECK(mm.bb_act_conv == 0, "inference model keeps conv outputs");
    scorr_model_free(m);
}

/* Flows and gradients of two networks run as mt runs them on one rank, per
 * sharing: 0 own buffers, 1 workspace and gradients shared (forward A,
 * forward B, backward A, backward B), 2 also the activations (forward B,
 * forward A, backward A, forward B again, backward B). */
static void run_pair(struct scorr_model *mm[2], int sharing, const float *src, const float *trg,
                     float *const df[2], float *flow[2], float *grads[2], size_t nflow)
{
    for (int j = 0; j < 2; j++) {
        const int k = sharing == 2 ? 1 - j : j;
        /* network B sees the images swapped: different activations */
        const float *f = scorr_model_forward(mm[k], k ? trg : src, k ? src : trg);
        memcpy(flow[k], f, nflow * sizeof(float));
    }
    for (int k = 0; k < 2; k++) {
        const size_t n = scorr_model_params(mm[k])->total;
        if (sharing == 2 && k == 1) {
            const float *f = scorr_model_forward(mm[k], trg, src);
            CHECK(!memcmp(f, flow[k], nflow * sizeof(float)), "network B's second forward differs");
        }
        scorr_model_zero_grad(mm[k]);
        scorr_model_backward(mm[k], df[k]);
        memcpy(grads[k], scorr_model_grads(mm[k]), n * sizeof(float));
    }
}

static void check_sharing(void)
{
    const struct scorr_model_config c = small(2, 1);
    static const unsigned flags[3] = {
        0, SCORR_SHARE_WORKSPACE | SCORR_SHARE_GRADS,
        SCORR_SHARE_WORKSPACE | SCORR_SHARE_GRADS | SCORR_SHARE_ACTIVATIONS};
    struct scorr_model *mm[3][2] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 2; k++)
            CHECK_OK(scorr_model_create_sharing(&c, (uint64_t)k + 7, k && s ? mm[s][0] : NULL,
                                                k ? flags[s] : 0, &mm[s][k]));
    float *src = NULL, *trg = NULL, *df[2] = {NULL, NULL}, *flow[3][2] = {{0}}, *grads[3][2] = {{0}};
    for (int s = 0; s < 3; s++)
        if (!mm[s][0] || !mm[s][1]) goto done;
    struct scorr_model_memory m0, m1, m2;
    scorr_model_memory(mm[1][0], &m0);
    scorr_model_memory(mm[1][1], &m1);
    scorr_model_memory(mm[2][1], &m2);
    CHECK(m1.workspace_shared && !m0.workspace_shared && m1.grads_shared && !m0.grads_shared &&
              !m1.activations_shared && m2.activations_shared && m2.grads_shared,
          "sharing flags");
    CHECK(m1.arena + m1.workspace == m0.arena, "sharing model allocated %zu, want %zu",
          m1.arena, m0.arena - m1.workspace);
    CHECK(m1.grads == 0 && m2.arena == 0, "shared buffers counted: grads %zu, arena %zu",
          m1.grads, m2.arena);

    const size_t img = (size_t)c.batch * c.image_size * c.image_size * 3;
    const int G = scorr_model_grid(mm[0][0]);
    const size_t nflow = (size_t)c.batch * G * G * 2, n = scorr_model_params(mm[0][0])->total;
    src = randn(img, 1);
    trg = randn(img, 2);
    df[0] = randn(nflow, 3);
    df[1] = randn(nflow, 4);
    for (int s = 0; s < 3; s++) {
        for (int k = 0; k < 2; k++) {
            flow[s][k] = malloc(nflow * sizeof(float));
            grads[s][k] = malloc(n * sizeof(float));
        }
        run_pair(mm[s], s, src, trg, df, flow[s], grads[s], nflow);
    }
    for (int s = 1; s < 3; s++)
        for (int k = 0; k < 2; k++) {
            CHECK(!memcmp(flow[0][k], flow[s][k], nflow * sizeof(float)),
                  "network %d: flow differs with sharing %d", k, s);
            CHECK(!memcmp(grads[0][k], grads[s][k], n * sizeof(float)),
                  "network %d: gradients differ with sharing %d", k, s);
        }
    /* the comparison can fail: the two networks differ */
    CHECK(memcmp(grads[0][0], grads[0][1], n * sizeof(float)), "networks A and B agree");

    /* a backward after the other network's forward overwrote the arena aborts */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        scorr_model_forward(mm[2][0], src, trg);
        scorr_model_forward(mm[2][1], trg, src);
        scorr_model_backward(mm[2][0], df[0]);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(pid > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0),
          "a backward on overwritten shared activations did not abort");

    /* a larger batch needs a larger workspace than mm[1][0] has */
    const struct scorr_model_config big = small(4, 1);
    struct scorr_model *b = NULL;
    static const char *const needles[] = {"workspace", NULL};
    if (scorr_check_error(__LINE__, scorr_model_create_sharing(&big, 1, mm[1][0],
                                                               SCORR_SHARE_WORKSPACE, &b),
                          "batch 4", needles))
        scorr_model_free(b);
done:
    for (int s = 0; s < 3; s++)
        for (int k = 1; k >= 0; k--) {
            if (mm[s][k]) scorr_model_free(mm[s][k]);
            free(flow[s][k]);
            free(grads[s][k]);
        }
    free(src);
    free(trg);
    free(df[0]);
    free(df[1]);
}

/* recompute = 1 keeps less and gives the same bits, in both batch-norm modes */
static void check_recompute(void)
{
    for (int bn = 0; bn < 2; bn++) {
        struct scorr_model_config c = small(2, 1), cr;
        c.bn_batch = bn;
        cr = c;
        cr.recompute = 1;
        struct scorr_model *m[2] = {NULL, NULL};
        CHECK_OK(scorr_model_create(&c, 3, &m[0]));
        CHECK_OK(scorr_model_create(&cr, 3, &m[1]));
        if (!m[0] || !m[1]) goto next;
        struct scorr_model_memory a, r;
        scorr_model_memory(m[0], &a);
        scorr_model_memory(m[1], &r);
        CHECK(r.bb_act_conv < a.bb_act_conv && r.bb_act < a.bb_act,
              "recompute keeps %zu of conv outputs, without %zu", r.bb_act_conv, a.bb_act_conv);
        CHECK(r.arena < a.arena, "recompute allocates %zu, without %zu", r.arena, a.arena);
        const size_t img = (size_t)c.batch * c.image_size * c.image_size * 3;
        const int G = scorr_model_grid(m[0]);
        const size_t nflow = (size_t)c.batch * G * G * 2, n = scorr_model_params(m[0])->total;
        float *src = randn(img, 11), *trg = randn(img, 12), *df = randn(nflow, 13);
        float *flow[2], *g[2];
        for (int k = 0; k < 2; k++) {
            const float *f = scorr_model_forward(m[k], src, trg);
            flow[k] = malloc(nflow * sizeof(float));
            memcpy(flow[k], f, nflow * sizeof(float));
            scorr_model_zero_grad(m[k]);
            scorr_model_backward(m[k], df);
            g[k] = scorr_model_grads(m[k]);
        }
        CHECK(!memcmp(flow[0], flow[1], nflow * sizeof(float)), "bn %d: recompute changes the flow", bn);
        CHECK(!memcmp(g[0], g[1], n * sizeof(float)), "bn %d: recompute changes the gradients", bn);
        CHECK(!memcmp(scorr_model_weights(m[0]), scorr_model_weights(m[1]), n * sizeof(float)),
              "bn %d: recompute changes the running statistics", bn);
        free(flow[0]);
        free(flow[1]);
        free(src);
        free(trg);
        free(df);
    next:
        scorr_model_free(m[0]);
        scorr_model_free(m[1]);
    }
}

int main(void)
{
    check_accounting();
    check_sharing();
    check_recompute();
    return scorr_test_finish("test_model_memory");
}
