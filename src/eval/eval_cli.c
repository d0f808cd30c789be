/* The scorr_eval command: checks, model(s), the run, the report
 * (include/scorr/eval_cli.h). */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/comm.h"
#include "scorr/error.h"
#include "scorr/eval.h"
#include "scorr/eval_cli.h"
#include "scorr/eval_model.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/pictures.h"

void scorr_eval_args_default(struct scorr_eval_args *a)
{
    memset(a, 0, sizeof *a);
    a->split = "test";
    a->network = SCORR_NET_BEST;
    a->batch = 8;
    a->dilation = 7;
    a->ratio = 0.9;
    a->pseudo_alpha = 0.1;
    a->progress = 1;
}

/* Everything one rank sets up before the evaluation. */
struct eval_setup {
    struct scorr_dataset *ds;
    struct scorr_split split;
    struct scorr_eval_net *net, *peer;
    struct scorr_evaluator *ev;
    char out[4096];
    char peer_desc[4200];
};

static void setup_free(struct eval_setup *s)
{
    scorr_evaluator_free(s->ev);
    scorr_eval_net_close(s->net);
    scorr_eval_net_close(s->peer);
    if (s->split.num_kps) scorr_split_free(&s->split);
    if (s->ds) scorr_dataset_close(s->ds);
}

static int check_split(const struct scorr_dataset *ds, const char *data, const char *split)
{
    int err = 0;
    if (scorr_dataset_has_split(ds, split)) return 0;
    int n = 0;
    const char *const *names = scorr_dataset_splits(ds, &n);
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    SCORR_FAIL(SCORR_EINVAL, "--split: '%s' has no split '%s'; its splits: %s", data, split,
               n ? list : "(none)");
done:
    return err;
}

static int open_peer(struct eval_setup *s, const struct scorr_eval_args *a)
{
    int err = 0;
    SCORR_REQUIRE(!(a->pseudo && a->pseudo_peer), SCORR_EINVAL,
                  "--pseudo and --pseudo-peer name two peers; give one");
    if (a->pseudo) {
        SCORR_TRY(scorr_eval_net_open(a->pseudo, SCORR_NET_BEST, a->batch, 0, &s->peer));
        snprintf(s->peer_desc, sizeof s->peer_desc, "%s (network %d)", a->pseudo,
                 s->peer->network);
    } else {
        SCORR_REQUIRE(s->net->has_peer, SCORR_EINVAL,
                      "--pseudo-peer: checkpoint '%s' holds one network (%s%s); the peer "
                      "network is in the step checkpoints of an mt run (checkpoints/step_*.h5)",
                      a->checkpoint, s->net->reference ? "a converted reference network" : "variant ",
                      s->net->reference ? "" : scorr_variant_name(s->net->cfg.variant));
        SCORR_TRY(scorr_eval_net_open(a->checkpoint, 1 - s->net->network, a->batch, 0, &s->peer));
        snprintf(s->peer_desc, sizeof s->peer_desc, "the peer (network %d of %s)",
                 s->peer->network, a->checkpoint);
    }
    SCORR_REQUIRE(s->peer->image_size == s->net->image_size && s->peer->grid == s->net->grid,
                  SCORR_EINVAL,
                  "the pseudo-label network works at %d px with a %dx%d flow grid, the evaluated "
                  "one at %d px with %dx%d",
                  s->peer->image_size, s->peer->grid, s->peer->grid, s->net->image_size,
                  s->net->grid, s->net->grid);
done:
    return err;
}

/* Local set-up of one rank; failures are agreed on by the caller. */
static int setup(struct eval_setup *s, const struct scorr_eval_args *a, int rank)
{
    int err = 0;
    const int pseudo = a->pseudo || a->pseudo_peer;
    SCORR_REQUIRE(a->checkpoint && a->data, SCORR_EINVAL, "a checkpoint and a dataset are needed");
    SCORR_REQUIRE(a->batch >= 1 && a->batch <= 256, SCORR_EINVAL,
                  "--batch: expected 1..256 pairs, found %d", a->batch);
    SCORR_TRY(scorr_dataset_open(a->data, &s->ds));
    const struct scorr_dataset_meta *meta = scorr_dataset_meta(s->ds);
    SCORR_TRY(check_split(s->ds, a->data, a->split));
    SCORR_TRY(scorr_dataset_read_split(s->ds, a->split, &s->split));
    SCORR_TRY(scorr_eval_net_open(a->checkpoint, a->network, a->batch, 0, &s->net));
    if (s->net->image_size != meta->image_size) {
        scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                        "checkpoint '%s' was trained on %d x %d images (data.image_size) but "
                        "'%s' holds %d x %d images",
                        a->checkpoint, s->net->image_size, s->net->image_size, a->data,
                        meta->image_size, meta->image_size);
        scorr_error_hint("evaluate on a dataset packed at the training size (scorr_pack --size "
                         "%d, scorr_synth --size %d)",
                         s->net->image_size, s->net->image_size);
        err = SCORR_EINVAL;
        goto done;
    }
    if (pseudo) {
        SCORR_REQUIRE(s->split.has_dense, SCORR_EINVAL,
                      "pseudo-label quality needs the dense ground truth, and '%s' split '%s' has "
                      "none (the synthetic benchmark's val and test splits have it)",
                      a->data, a->split);
        SCORR_TRY(open_peer(s, a));
    }
    struct scorr_eval_options o;
    scorr_eval_options_default(&o);
    if (a->alphas) SCORR_TRY(scorr_eval_parse_alphas(&o, a->alphas));
    SCORR_TRY(scorr_eval_set_threshold(&o, a->threshold ? a->threshold : "auto", meta));
    o.grid = s->net->grid;
    o.dense = s->split.has_dense;
    o.pseudo = pseudo;
    o.dilation = a->dilation;
    o.ratio = a->ratio;
    o.pseudo_alpha = (float)a->pseudo_alpha;
    SCORR_TRY(scorr_evaluator_create(&o, &s->split, meta->image_size, meta->num_categories,
                                     &s->ev));
    if (a->out) {
        snprintf(s->out, sizeof s->out, "%s", a->out);
    } else {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", a->checkpoint);
        snprintf(s->out, sizeof s->out, "%s", dirname(tmp));
    }
    if (rank == 0) {
        SCORR_TRY(scorr_mkdirs(s->out));
        SCORR_TRY(scorr_check_writable_dir(s->out));
    }
done:
    return err;
}

int scorr_eval_command(const struct scorr_comm *c, const struct scorr_eval_args *args)
{
    int err = 0;
    struct eval_setup s;
    memset(&s, 0, sizeof s);
    /* a run folder stands for its best.h5 */
    char ckpt[4096];
    struct scorr_eval_args resolved = *args;
    const struct scorr_eval_args *a = &resolved;
    if (args->checkpoint) {
        scorr_eval_checkpoint_path(args->checkpoint, ckpt, sizeof ckpt);
        resolved.checkpoint = ckpt;
    }
    const int rank = scorr_comm_rank(c), size = scorr_comm_size(c);
    double t0 = scorr_now();
    SCORR_TRY(scorr_comm_agree(c, setup(&s, a, rank)));
    const struct scorr_dataset_meta *meta = scorr_dataset_meta(s.ds);
    scorr_info("scorr_eval: %s (network %d, %s) on %s split %s: %lld pairs, %d rank%s, batch %d",
               a->checkpoint, s.net->network,
               s.net->reference ? "reference network" : scorr_variant_name(s.net->cfg.variant),
               a->data,
               a->split, (long long)s.split.num_pairs, size, size > 1 ? "s" : "", a->batch);
    struct scorr_flow_source net, peer;
    scorr_eval_net_source(s.net, &net);
    if (s.peer) scorr_eval_net_source(s.peer, &peer);
    struct scorr_eval_run run = {.data = a->data, .split = a->split, .batch = a->batch,
                                 .net = &net, .peer = s.peer ? &peer : NULL,
                                 .progress = a->progress};
    SCORR_TRY(scorr_eval_run(c, &run, s.ev));
    struct scorr_eval_info info = {.checkpoint = a->checkpoint,
                                   .network = s.net->network,
                                   .data = a->data,
                                   .split = a->split,
                                   .source = meta->source,
                                   .peer = s.peer ? s.peer_desc : NULL,
                                   .category_names = (const char *const *)meta->category_names,
                                   .ranks = size,
                                   .seconds = scorr_now() - t0};
    int local = 0;
    if (rank == 0) {
        if (scorr_log_level() >= 1) scorr_eval_print_table(s.ev, &info, stdout);
        local = scorr_eval_write_report(s.ev, &info, s.out);
        if (!local)
            scorr_info("\nwrote %s/eval_%s.json, eval_%s_pairs.csv, eval_%s_categories.csv", s.out,
                       a->split, a->split, a->split);
        if (!local && a->pictures > 0) {
            char dir[4400];
            snprintf(dir, sizeof dir, "%s/pictures_%s", s.out, a->split);
            struct scorr_pictures_run pr = {.data = a->data, .split = a->split, .ds = s.ds,
                                            .ev = s.ev, .net = &net, .batch = a->batch,
                                            .count = a->pictures, .dir = dir};
            int drawn = 0;
            local = scorr_pictures_write(&pr, &drawn);
            if (!local)
                scorr_info("wrote %d pair%s of pictures to %s (index.tsv lists them)", drawn,
                           drawn == 1 ? "" : "s", dir);
        }
    }
    SCORR_TRY(scorr_comm_agree(c, local));
done:
    setup_free(&s);
    return err;
}
