/* The run's output files, written by world rank 0 only:
 *   steps.csv    one row per network per step (long format for pandas)
 *   epochs.csv   one row per network per epoch: mean losses, validation PCK,
 *                pseudo-label precision against the dense truth (when known),
 *                and, variant warp, the validation dense EPE
 *   summary.json the final (or current) summary the table generator reads
 * Rows are flushed as they are written; a resumed run first drops the rows
 * past the checkpoint it resumed from, so the files never hold a step twice. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scorr/conv.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "trainer_internal.h"

#define STEPS_HEADER "step,epoch,iter,net,loss,loss_gt,loss_pseudo,pseudo_weight,keep_ratio,lr_head,lr_backbone\n"
#define EPOCHS_HEADER "epoch,net,loss,loss_gt,loss_pseudo,val_pck,pseudo_weight,keep_ratio,lr_head,lr_backbone,seconds," \
    "pl_cand_n,pl_cand_prec,pl_sel_n,pl_sel_prec,pl_out_n,pl_out_prec,val_epe\n"

/* Keep the header and the rows whose first column is < limit. */
static int truncate_rows(const char *path, long long limit)
{
    int err = 0;
    char *data = NULL, *out = NULL;
    size_t len = 0, k = 0;
    if (!scorr_exists(path)) return 0;
    SCORR_TRY(scorr_read_file(path, &data, &len));
    out = malloc(len + 1);
    SCORR_REQUIRE(out, SCORR_ENOMEM, "out of memory rewriting '%s'", path);
    int first = 1;
    for (char *line = data; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        if (first || atoll(line) < limit) {
            memcpy(out + k, line, n);
            k += n;
        }
        first = 0;
        line += n;
    }
    SCORR_TRY(scorr_write_file_atomic(path, out, k));
done:
    free(data);
    free(out);
    return err;
}

static int open_csv(const char *dir, const char *name, const char *header, long long keep_below,
                    int resumed, FILE **f)
{
    int err = 0;
    char path[4096];
    SCORR_TRY(scorr_path_join(path, sizeof path, dir, name));
    if (resumed) SCORR_TRY(truncate_rows(path, keep_below));
    int exists = resumed && scorr_exists(path);
    *f = fopen(path, exists ? "a" : "w");
    SCORR_REQUIRE(*f, SCORR_EIO, "cannot open '%s' for writing", path);
    if (!exists) fputs(header, *f);
    fflush(*f);
done:
    return err;
}

int train_output_open(struct trainer *t, int resumed)
{
    int err = 0;
    if (t->world_rank != 0) return 0;
    SCORR_TRY(open_csv(t->cfg.output, "steps.csv", STEPS_HEADER, (long long)t->global_step + 1,
                       resumed, &t->steps_csv));
    SCORR_TRY(open_csv(t->cfg.output, "epochs.csv", EPOCHS_HEADER, (long long)t->epoch, resumed,
                       &t->epochs_csv));
done:
    return err;
}

/* Rows of the networks in rank 0's process: in mt over two groups the peer's
 * losses are not sent every step, so steps.csv has network A's rows only;
 * epochs.csv has both (shared at the epoch end). */
void train_output_step(struct trainer *t)
{
    if (!t->steps_csv) return;
    for (int k = 0; k < t->n_nets; k++) {
        const struct train_net *n = &t->nets[k];
        fprintf(t->steps_csv, "%lld,%d,%lld,%d,%.6g,%.6g,%.6g,%g,%.6g,%.6g,%.6g\n",
                (long long)t->global_step, t->epoch, (long long)t->step_in_epoch, n->id, n->loss,
                n->loss_gt, n->loss_pseudo, t->lambda, t->ratio, t->lr[0], t->lr[1]);
    }
    fflush(t->steps_csv);
}

void train_output_epoch(struct trainer *t, double seconds)
{
    if (!t->epochs_csv) return;
    for (int id = 0; id < (t->cfg.variant == SCORR_VARIANT_MT ? 2 : 1); id++) {
        const double *l = t->epoch_loss[id];
        fprintf(t->epochs_csv, "%d,%d,%.6g,%.6g,%.6g,", t->epoch, id, l[0], l[1], l[2]);
        if (t->val_last[id] >= 0)
            fprintf(t->epochs_csv, "%.4f,", t->val_last[id]);
        else
            fputs(",", t->epochs_csv);
        fprintf(t->epochs_csv, "%g,%.6g,%.6g,%.6g,%.1f", t->lambda, t->ratio, t->lr[0],
                t->lr[1], seconds);
        /* per set: positions with a known true flow, and the fraction of them
         * whose pseudo-label is within one grid cell; empty when none */
        for (int set = 0; set < SCORR_PQ_SETS; set++) {
            const double n = t->epoch_pq[id][2 * set], ok = t->epoch_pq[id][2 * set + 1];
            if (n > 0)
                fprintf(t->epochs_csv, ",%.0f,%.6f", n, ok / n);
            else
                fputs(",,", t->epochs_csv);
        }
        if (id == 0 && t->val_epe_last >= 0)
            fprintf(t->epochs_csv, ",%.6g\n", t->val_epe_last);
        else
            fputs(",\n", t->epochs_csv);
    }
    fflush(t->epochs_csv);
}

void train_precision_text(const struct trainer *t, char *buf, size_t n)
{
    const enum scorr_precision want = t->cfg.model.precision;
    if (scorr_precision_resolve(want) == SCORR_PREC_BF16)
        snprintf(buf, n, "bf16, %s", scorr_bf16_support_name(scorr_bf16_support()));
    else if (want == SCORR_PREC_BF16)
        snprintf(buf, n, "fp32 (bf16 requested; oneDNN bf16 here: %s)",
                 scorr_bf16_support_name(scorr_bf16_support()));
    else
        snprintf(buf, n, "fp32");
}

int train_output_summary(struct trainer *t, int finished, double seconds)
{
    int err = 0;
    char *text = NULL;
    cJSON *j = NULL;
    if (t->world_rank != 0) return 0;
    j = cJSON_CreateObject();
    SCORR_REQUIRE(j, SCORR_ENOMEM, "out of memory writing the summary");
    cJSON_AddStringToObject(j, "format", "scorr-summary");
    cJSON_AddNumberToObject(j, "version", 1);
    cJSON_AddStringToObject(j, "name", t->cfg.name);
    cJSON_AddStringToObject(j, "variant", scorr_variant_name(t->cfg.variant));
    cJSON_AddStringToObject(j, "config", t->config_path);
    cJSON_AddBoolToObject(j, "finished", finished);
    cJSON_AddNumberToObject(j, "epochs", t->cfg.train.epochs);
    cJSON_AddNumberToObject(j, "epochs_done", t->epoch);
    cJSON_AddNumberToObject(j, "steps", (double)t->global_step);
    cJSON_AddNumberToObject(j, "ranks", t->world_size);
    char prec[96];
    train_precision_text(t, prec, sizeof prec);
    cJSON_AddStringToObject(j, "precision", prec);
    const char *vs = scorr_config_val_split(&t->cfg);
    cJSON_AddStringToObject(j, "val_split", vs ? vs : "none");
    cJSON_AddNumberToObject(j, "val_alpha", t->cfg.validation.alpha);
    if (t->cfg.variant == SCORR_VARIANT_WARP) {
        /* best.h5 is the epoch of the lowest validation dense EPE */
        if (t->best_epoch >= 0) {
            cJSON_AddNumberToObject(j, "best_epoch", t->best_epoch);
            cJSON_AddNumberToObject(j, "best_val_epe", t->best_pck);
        } else {
            cJSON_AddNullToObject(j, "best_epoch");
            cJSON_AddNullToObject(j, "best_val_epe");
        }
        cJSON_AddNullToObject(j, "best_val_pck");
        cJSON_AddNumberToObject(j, "best_peer", 0);
    } else if (t->best_epoch >= 0) {
        cJSON_AddNumberToObject(j, "best_epoch", t->best_epoch);
        cJSON_AddNumberToObject(j, "best_val_pck", t->best_pck);
        cJSON_AddNumberToObject(j, "best_peer", t->best_peer);
    } else {
        cJSON_AddNullToObject(j, "best_epoch");
        cJSON_AddNullToObject(j, "best_val_pck");
        cJSON_AddNullToObject(j, "best_peer");
    }
    cJSON_AddStringToObject(j, "best_checkpoint", t->best_epoch >= 0 ? "best.h5" : "");
    cJSON_AddNumberToObject(j, "seconds", seconds);
    double tot = t->t_compute > 0 ? t->t_compute : 1;
    cJSON_AddNumberToObject(j, "comm_fraction", t->t_comm / tot);
    /* throughput of this run: wall time per training step (data loading and
     * communication included, the run's first step left out) and global
     * pairs per second (in mt both networks train on each pair) */
    cJSON_AddNumberToObject(j, "steps_timed", (double)t->steps_timed);
    if (t->steps_timed > 0) {
        const double sps = t->t_steps / (double)t->steps_timed;
        cJSON_AddNumberToObject(j, "step_seconds", sps);
        cJSON_AddNumberToObject(j, "pairs_per_second", t->cfg.train.batch_size / sps);
        /* the gradient exchange the backward did not hide, per step (0 at one rank) */
        cJSON_AddNumberToObject(j, "grad_exposed_seconds", t->t_grad_timed / (double)t->steps_timed);
    } else {
        cJSON_AddNullToObject(j, "step_seconds");
        cJSON_AddNullToObject(j, "pairs_per_second");
        cJSON_AddNullToObject(j, "grad_exposed_seconds");
    }
    text = cJSON_Print(j);
    SCORR_REQUIRE(text, SCORR_ENOMEM, "out of memory writing the summary");
    char path[4096];
    SCORR_TRY(scorr_path_join(path, sizeof path, t->cfg.output, "summary.json"));
    size_t n = strlen(text);
    text[n] = '\n';
    SCORR_TRY(scorr_write_file_atomic(path, text, n + 1));
done:
    cJSON_Delete(j);
    free(text);
    return err;
}

int train_output_finished(const struct trainer *t)
{
    char path[4096], *text = NULL;
    size_t n = 0;
    int yes = 0;
    if (scorr_path_join(path, sizeof path, t->cfg.output, "summary.json") ||
        scorr_read_file(path, &text, &n)) {
        scorr_error_clear();
        return 0;
    }
    cJSON *j = cJSON_Parse(text);
    yes = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "finished"));
    cJSON_Delete(j);
    free(text);
    return yes;
}

/* "<name>.tmp.<digits>": a temporary of an atomic write (include/scorr/io.h). */
static int is_tmp_name(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t || !t[5]) return 0;
    for (t += 5; *t; t++)
        if (*t < '0' || *t > '9') return 0;
    return 1;
}

/* Under the folder's lock no other run writes there: every temporary is a
 * dead writer's (the pid in its name may belong to another node's process). */
static void remove_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    char path[4096 + 300];
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_tmp_name(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) scorr_info("removed the stale temporary '%s'", path);
    }
    closedir(d);
}

int train_output_lock(struct trainer *t)
{
    int err = 0;
    char path[4096], dir[4096];
    SCORR_TRY(scorr_mkdirs(t->cfg.output));
    SCORR_TRY(scorr_path_join(path, sizeof path, t->cfg.output, ".lock"));
    t->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    SCORR_REQUIRE(t->lock_fd >= 0, SCORR_EIO, "cannot create the lock file '%s': %s", path,
                  strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(t->lock_fd, F_SETLK, &fl) != 0) {
        const int e = errno;
        if (e == EACCES || e == EAGAIN) {
            struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
            char holder[256] = "";
            ssize_t n = pread(t->lock_fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = 0;
            holder[strcspn(holder, "\n")] = 0;
            long pid = fcntl(t->lock_fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK
                           ? (long)who.l_pid
                           : 0;
            SCORR_FAIL(SCORR_EINVAL,
                       "output folder '%s' is in use by another scorr_train run (%s%s%ld holds "
                       "'%s'); two runs on one folder would mix their files: wait for it to "
                       "end, or give this run another output",
                       t->cfg.output, holder[0] ? holder : "", holder[0] ? "; lock pid " : "pid ",
                       pid, path);
        }
        /* A file system without locks (some network mounts): go on, warned. */
        scorr_warn("cannot lock '%s' (%s); make sure no other run uses '%s'", path, strerror(e),
                   t->cfg.output);
    }
    char host[128] = "?";
    gethostname(host, sizeof host - 1);
    if (ftruncate(t->lock_fd, 0) == 0)
        dprintf(t->lock_fd, "host %s pid %ld\n", host, (long)getpid());
    remove_temporaries(t->cfg.output);
    SCORR_TRY(scorr_path_join(dir, sizeof dir, t->cfg.output, "checkpoints"));
    remove_temporaries(dir);
done:
    return err;
}

void train_output_close(struct trainer *t)
{
    if (t->steps_csv) fclose(t->steps_csv);
    if (t->epochs_csv) fclose(t->epochs_csv);
    t->steps_csv = t->epochs_csv = NULL;
}
