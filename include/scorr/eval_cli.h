/* The scorr_eval command (docs/evaluation.md): a checkpoint on a dataset
 * split -> console table, eval_<split>.json, eval_<split>_pairs.csv and
 * eval_<split>_categories.csv. The program parses its arguments into this
 * struct and calls scorr_eval_command. */
#ifndef SCORR_EVAL_CLI_H
#define SCORR_EVAL_CLI_H

struct scorr_comm;

struct scorr_eval_args {
    const char *checkpoint;   /* step checkpoint or best.h5 */
    const char *data;         /* dataset file */
    const char *split;        /* default "test" */
    const char *alphas;       /* "0.05,0.1,0.15" (NULL = default) */
    const char *threshold;    /* auto | bbox | img | willow-ref | kpsbox (NULL = auto) */
    int network;              /* 0, 1 or SCORR_NET_BEST (eval_model.h) */
    int batch;                /* pairs per forward */
    const char *out;          /* output folder; NULL = the checkpoint's folder */
    const char *pseudo;       /* peer / teacher checkpoint for pseudo-label quality, or NULL */
    int pseudo_peer;          /* 1: the other network of an mt checkpoint is the peer */
    int dilation;             /* K or 0 = none */
    double ratio;             /* selection ratio */
    double pseudo_alpha;      /* pseudo-label correctness: EPE <= pseudo_alpha * T */
    int progress;             /* progress line */
    int pictures;             /* > 0: draw this many pairs into <out>/pictures_<split> */
};

/* Defaults of the optional arguments (split test, auto threshold, best
 * network, batch 8, dilation 7, ratio 0.9, pseudo_alpha 0.1, progress on). */
void scorr_eval_args_default(struct scorr_eval_args *a);

/* Run the evaluation. Every input a user can get wrong is checked before the
 * pairs are evaluated and fails on every rank together: a missing or
 * non-checkpoint file, a dataset of another image size than the model's, an
 * unknown split, pseudo-label quality on a split without dense ground truth
 * or without a peer, an unwritable output folder. Rank 0 prints the table and
 * writes the files. Collective over c. */
int scorr_eval_command(const struct scorr_comm *c, const struct scorr_eval_args *a);

#endif
