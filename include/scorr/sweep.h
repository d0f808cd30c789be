/* Ablation sweeps: one YAML sweep file -> one experiment file per cell, a
 * cells.tsv, SLURM array scripts, a local runner and a status table
 * (docs/sweeps.md).
 *
 * A sweep file names a base experiment, overrides applied to every cell, a
 * grid (cartesian product) and/or a list of explicit cells of overrides by
 * experiment key path, and the resources of each run. Loading it parses the
 * file strictly (unknown or duplicate keys, bad values: errors naming the
 * sweep file, line and key, with "did you mean"), expands every cell, checks
 * every cell's experiment against the experiment schema (include/scorr/
 * config.h) and finds the teacher cell of every st cell. Nothing is written
 * before all of that succeeded.
 *
 * The sweep folder (<dir>):
 *   sweep.yaml              a copy of the sweep file as last written
 *   cells.tsv               index, cell id, group, teacher, resources, eval, overrides
 *   cells/<id>/exp.yaml     the resolved experiment of each cell
 *   slurm/group<g>.sbatch   one SLURM array script per resource group
 *   runs/<id>/              each cell's scorr_train output folder
 *   logs/                   %A_%a.out (SLURM), local_<id>.out (--local)
 *   state/<id>              one line: started | done | failed ... | stopped | requeued
 *   state/<id>.lock         held by a local runner while it runs the cell
 *   jobs.tsv                SLURM job ids submitted for this sweep
 *
 * Everything here is local (no MPI); the sweep programs run on a login node. */
#ifndef SCORR_SWEEP_H
#define SCORR_SWEEP_H

#include <stdio.h>

#include "scorr/config.h"

#define SCORR_SWEEP_PATH 1024
#define SCORR_SWEEP_MAX_EXTRA 16   /* extra #SBATCH lines per resource set */
#define SCORR_SWEEP_MAX_CELLS 4096

/* What one run gets from the scheduler. */
struct scorr_sweep_resources {
    int ranks;          /* MPI ranks: sbatch --ntasks, mpirun -np */
    int threads;        /* threads per rank: --cpus-per-task, OMP/OPENBLAS_NUM_THREADS */
    char time[32];      /* sbatch --time ("2-00:00:00", "30:00", "90"); "" = partition default */
    char partition[64]; /* sbatch --partition; "" = the cluster's default */
    int n_extra;
    char extra[SCORR_SWEEP_MAX_EXTRA][256]; /* more sbatch options, e.g. "--mem=16G" */
};

/* One override "key = value" as given in the sweep file. */
struct scorr_sweep_override {
    char key[128];
    char value[SCORR_CONFIG_PATH]; /* YAML value text: a scalar or a flow list "[1, 2]" */
    int line;                      /* 1-based line in the sweep file, 0 = added by the sweep */
};

struct scorr_sweep_cell {
    int index;                       /* SLURM_ARRAY_TASK_ID of the cell */
    char id[SCORR_CONFIG_NAME];      /* readable, stable: "A3-seed1"; also the experiment name */
    int line;                        /* where the cell comes from in the sweep file */
    int n_over;
    struct scorr_sweep_override *over; /* the cell's overrides after the sweep's `set` */
    struct scorr_config cfg;         /* resolved experiment (name, output, teacher set) */
    struct scorr_sweep_resources res;
    int group;                       /* resource group: which array script runs it */
    int teacher;                     /* index of the cell whose run is the st teacher, -1 none */
    char eval_data[SCORR_SWEEP_PATH]; /* dataset scorr_eval reads (absolute) */
};

struct scorr_sweep {
    char name[SCORR_CONFIG_NAME];
    char file[SCORR_SWEEP_PATH];     /* the sweep file as given */
    char base[SCORR_SWEEP_PATH];     /* base experiment file ("" = defaults) */
    char dir[SCORR_SWEEP_PATH];      /* sweep folder, absolute */
    char workdir[SCORR_SWEEP_PATH];  /* working directory of the runs (absolute) */
    char eval_split[SCORR_CONFIG_WORD]; /* "test" (default), "val", "trn", or "none" = no eval */
    char template_path[SCORR_SWEEP_PATH]; /* SLURM template; "" = the built-in one */
    int signal_seconds;              /* --signal=B:USR1@this before the time limit */
    int max_requeues;                /* a task stopped early requeues itself at most this often */
    int n_cells;
    struct scorr_sweep_cell *cells;
    int n_groups;
    struct scorr_sweep_resources *groups; /* resources of each group */
    int *group_phase;                /* per group: 0 = no teacher needed, 1 = st cells */
};

/* Parse, expand and check the sweep file `path`. dir_override: the sweep
 * folder (NULL = the file's `dir:` key, else sweeps/<name>), made absolute
 * against the working directory, which also becomes sw->workdir. Relative
 * paths of the experiment (data.file, model.backbone.weights,
 * teacher.checkpoint) are made absolute against the working directory (the
 * rule of experiment files). Writes nothing. Caller frees with
 * scorr_sweep_free. Local. */
int scorr_sweep_load(const char *path, const char *dir_override, struct scorr_sweep *sw);

/* A sweep read back from its folder, without the sweep file: cells.tsv
 * (index, id, eval split and data) and each cell's cells/<id>/exp.yaml; the
 * name from the exp.yaml header. Enough for scorr_sweep_status and the
 * report, not for writing or submitting (no resources, no overrides).
 * Errors name the file. Local. */
int scorr_sweep_open_folder(const char *dir, struct scorr_sweep *sw);

/* Parse from text (tests); `file` names it in messages and anchors `base:`. */
int scorr_sweep_parse(const char *text, size_t len, const char *file, const char *dir_override,
                      struct scorr_sweep *sw);

void scorr_sweep_free(struct scorr_sweep *sw);

/* Cell by id, or NULL. */
const struct scorr_sweep_cell *scorr_sweep_find(const struct scorr_sweep *sw, const char *id);

/* Write the sweep folder: cells/<id>/exp.yaml, cells.tsv, sweep.yaml and
 * one array script per group calling the programs in bin_dir (absolute).
 * A cell whose run has started (runs/<id>/config.yaml) keeps its
 * experiment: if the sweep file now gives it a different one (beyond the keys
 * that may change on resume) this fails, naming the cell and the key, before
 * anything is written. Files are replaced atomically. Local. */
int scorr_sweep_write(const struct scorr_sweep *sw, const char *bin_dir);

/* The array script of group g as text (template filled in). Caller frees
 * *out. Local. */
int scorr_sweep_script(const struct scorr_sweep *sw, int g, const char *bin_dir, char **out);

/* The built-in template (slurm/array.sbatch.in is this text). */
const char *scorr_sweep_builtin_template(void);

/* Indices as a SLURM --array list: {0,1,2,5,7,8} -> "0-2,5,7-8" (sorted,
 * unique input). Returns 0, or SCORR_EINVAL if it does not fit in n bytes. */
int scorr_sweep_array_list(const int *idx, int n_idx, char *out, size_t n);

/* --cells: sel[n_cells] = 1 for the cells the comma-separated selector
 * `spec` chooses: ids or shell globs matching the id or a run of its
 * '-'-separated parts (A3 matches A3-seed1), or KEY=VALUE on the resolved
 * experiment (seed=2, model.upsample=1). An item matching no cell, an
 * unknown or ambiguous key: an error naming it. *n_sel (may be NULL) = the
 * number chosen. Local. */
int scorr_sweep_select(const struct scorr_sweep *sw, const char *spec, unsigned char *sel,
                       int *n_sel);

/* ---- status ------------------------------------------------------------ */

enum scorr_cell_state {
    SCORR_CELL_MISSING = 0, /* nothing started */
    SCORR_CELL_STOPPED,     /* started, stopped early or interrupted, resumable */
    SCORR_CELL_FAILED,      /* the last attempt failed (state file / exit status) */
    SCORR_CELL_QUEUED,      /* a SLURM task of this sweep waits for it */
    SCORR_CELL_RUNNING,     /* a SLURM task or a local runner is running it */
    SCORR_CELL_DONE         /* summary.json finished and the eval JSON present */
};

struct scorr_cell_status {
    enum scorr_cell_state state;
    char detail[256];       /* "epoch 3/6", "failed train exit 1", "job 12_3 PENDING (Dependency)" */
    char job[64];           /* SLURM "<array job>_<task>" when queued/running there, else "" */
};

const char *scorr_cell_state_name(enum scorr_cell_state s);

/* Classify every cell (st[n_cells]). use_slurm: ask squeue about the jobs of
 * jobs.tsv (if squeue fails, a warning, and SLURM jobs count as not
 * running). Local; reads only. */
int scorr_sweep_status(const struct scorr_sweep *sw, int use_slurm, struct scorr_cell_status *st);

/* The status table (one line per cell, then counts) to f; only the cells
 * with sel[i] set when sel is not NULL. */
void scorr_sweep_print_status(const struct scorr_sweep *sw, const struct scorr_cell_status *st,
                              const unsigned char *sel, FILE *f);

/* ---- running ----------------------------------------------------------- */

struct scorr_sweep_run_options {
    const char *bin_dir;    /* folder of scorr_train / scorr_eval (absolute) */
    const char *sbatch;     /* sbatch program (NULL = "sbatch" on PATH) */
    int dry_run;            /* --submit: print the sbatch commands only */
    const unsigned char *only; /* --cells: run/submit only cells with only[i] set; NULL = all */
};

/* Submit the cells that are not done, queued or running: one sbatch --array
 * per group of cells without teachers, then one per group of st cells with
 * --dependency=afterok on their teachers' tasks. Prints the job ids and
 * appends them to jobs.tsv. With opt->only, only those cells; an st cell
 * chosen whose teacher is neither chosen nor done, queued or running is an
 * error before anything is submitted. Call scorr_sweep_write first. Local. */
int scorr_sweep_submit(const struct scorr_sweep *sw, const struct scorr_sweep_run_options *opt);

/* Run the cells that are not done one after another on this machine,
 * teachers first, each through its array script (exactly what a SLURM task
 * runs: mpirun when ranks > 1, root flags when root, thread variables) with
 * output appended to logs/local_<id>.out. Done, queued and running cells are
 * skipped (and said so). A failed cell does not stop the others; an st cell
 * whose teacher is not done is skipped. SIGINT/SIGTERM: the running cell
 * checkpoints and stops, no further cell starts, *interrupted = 1.
 * Returns 0 when every cell ran to the end, else an error listing the cells
 * that failed or were skipped. With opt->only, only those cells (an st cell
 * whose teacher is not chosen runs if the teacher is done, else is skipped
 * and reported). Call scorr_sweep_write first. Local. */
int scorr_sweep_run_local(const struct scorr_sweep *sw, const struct scorr_sweep_run_options *opt,
                          int *interrupted);

#endif
