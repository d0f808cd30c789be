/* Experiment config output: YAML emission (round-trips to the same struct),
 * the Markdown schema reference, comparisons and the resume rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorr/config.h"
#include "scorr/error.h"
#include "scorr/io.h"
#include "scorr/log.h"
#include "scorr/strbuf.h"
#include "train/config_schema.h"

static int depth_of(const char *path)
{
    int d = 0;
    for (const char *p = path; *p; p++) d += *p == '.';
    return d;
}

static const char *last_component(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

/* First sentence of a doc string (up to ". " or the end), into out. */
static void first_sentence(const char *doc, char *out, size_t n)
{
    const char *e = strstr(doc, ". ");
    size_t len = e ? (size_t)(e - doc + 1) : strlen(doc);
    if (len + 1 > n) len = n - 1;
    memcpy(out, doc, len);
    out[len] = 0;
}

static void emit_yaml(const struct scorr_config *cfg, struct scorr_sbuf *b)
{
    /* A quoted value may grow to 4 bytes per byte (\xHH escapes). */
    char val[SCORR_CONFIG_PATH * 4 + 16], line[SCORR_CONFIG_PATH * 4 + 256], doc[256];
    scorr_sb_printf(b, "# scorr experiment, resolved: every key, defaults included.\n"
                       "# Reference: docs/experiment-config.md\n");
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        int d = depth_of(k->path);
        if (k->type == CT_SECTION) {
            scorr_sb_printf(b, "%*s%s:\n", 2 * d, "", last_component(k->path));
            continue;
        }
        scorr_cfg_value_text(cfg, k, val, sizeof val);
        first_sentence(k->doc, doc, sizeof doc);
        snprintf(line, sizeof line, "%*s%s: %s", 2 * d, "", last_component(k->path), val);
        scorr_sb_printf(b, "%-40s # %s\n", line, doc);
    }
}

int scorr_config_emit(const struct scorr_config *cfg, char **out)
{
    struct scorr_sbuf b = {0};
    emit_yaml(cfg, &b);
    return scorr_sb_finish(&b, out);
}

int scorr_config_get(const struct scorr_config *cfg, const char *path, char *buf, size_t n)
{
    int err = 0;
    const struct cfg_key *k = scorr_cfg_lookup(path);
    SCORR_REQUIRE(k && k->type != CT_SECTION, SCORR_EINVAL,
                  "no key '%s' in the experiment schema", path);
    scorr_cfg_value_text(cfg, k, buf, n);
done:
    return err;
}

int scorr_config_equal(const struct scorr_config *a, const struct scorr_config *b,
                       const char **first_diff)
{
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (!scorr_cfg_value_equal(a, b, k)) {
            if (first_diff) *first_diff = k->path;
            return 0;
        }
    }
    if (first_diff) *first_diff = NULL;
    return 1;
}

static void resume_keys(char *out, size_t n)
{
    size_t w = 0;
    out[0] = 0;
    for (int i = 0; i < scorr_cfg_table_len && w < n; i++)
        if (scorr_cfg_table[i].flags & CF_RESUME)
            w += (size_t)snprintf(out + w, n - w, "%s%s", w ? ", " : "",
                                  scorr_cfg_table[i].path);
}

int scorr_config_check_resume(const struct scorr_config *now, const struct scorr_config *then,
                              const char *ckpt)
{
    int err = 0;
    char a[SCORR_CONFIG_PATH + 64], b[SCORR_CONFIG_PATH + 64], keys[1024];
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (k->type == CT_SECTION || scorr_cfg_value_equal(now, then, k)) continue;
        scorr_cfg_value_text(then, k, a, sizeof a);
        scorr_cfg_value_text(now, k, b, sizeof b);
        if (!(k->flags & CF_RESUME)) {
            resume_keys(keys, sizeof keys);
            scorr_error_set(SCORR_EINVAL, __FILE__, __LINE__, __func__,
                            "cannot resume from checkpoint '%s': %s was %s there, this run has %s",
                            ckpt, k->path, a, b);
            scorr_error_hint("only these keys may change on resume: %s; start a new output "
                             "folder to train with a different config", keys);
            err = SCORR_EINVAL;
            goto done;
        }
        SCORR_REQUIRE(!(k->off == offsetof(struct scorr_config, train.epochs) &&
                        now->schedule.type == SCORR_SCHED_COSINE),
                      SCORR_EINVAL,
                      "cannot resume from checkpoint '%s': train.epochs was %s there, this run "
                      "has %s, and with schedule.type cosine train.epochs is the schedule's "
                      "period (T_max)", ckpt, a, b);
        scorr_info("resume: %s changed from %s to %s", k->path, a, b);
    }
done:
    return err;
}

const char *scorr_config_arch_diff(const struct scorr_config *a, const struct scorr_config *b)
{
    int sce_off = !a->model.sce.enabled && !b->model.sce.enabled;
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (!(k->flags & CF_ARCH) || scorr_cfg_value_equal(a, b, k)) continue;
        if (sce_off && strncmp(k->path, "model.sce.", 10) == 0) continue;
        return k->path;
    }
    return NULL;
}

const char *scorr_config_val_split(const struct scorr_config *cfg)
{
    return cfg->data.val_split[0] ? cfg->data.val_split : NULL;
}

int scorr_config_nkeys(void)
{
    int n = 0;
    for (int i = 0; i < scorr_cfg_table_len; i++) n += scorr_cfg_table[i].type != CT_SECTION;
    return n;
}

const char *scorr_config_key(int i)
{
    for (int j = 0; j < scorr_cfg_table_len; j++) {
        if (scorr_cfg_table[j].type == CT_SECTION) continue;
        if (i-- == 0) return scorr_cfg_table[j].path;
    }
    return NULL;
}

int scorr_config_has_key(const char *path)
{
    const struct cfg_key *k = scorr_cfg_lookup(path);
    return k && k->type != CT_SECTION;
}

const char *scorr_variant_name(enum scorr_variant v)
{
    static const char *names[] = {"baseline", "st", "mt", "warp"};
    return (unsigned)v < 4 ? names[v] : "?";
}

int scorr_config_write_output(const struct scorr_config *cfg)
{
    int err = 0;
    char *text = NULL, path[4096];
    SCORR_TRY(scorr_mkdirs(cfg->output));
    SCORR_TRY(scorr_check_writable_dir(cfg->output));
    SCORR_TRY(scorr_config_emit(cfg, &text));
    SCORR_TRY(scorr_path_join(path, sizeof path, cfg->output, "config.yaml"));
    SCORR_TRY(scorr_write_file_atomic(path, text, strlen(text)));
done:
    free(text);
    return err;
}

/* ---- the Markdown reference -------------------------------------------- */

static void md_table(struct scorr_sbuf *b, const char *section)
{
    size_t sl = strlen(section);
    int rows = 0;
    char def[SCORR_CONFIG_PATH], vals[512];
    struct scorr_config d;
    scorr_config_defaults(&d);
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (k->type == CT_SECTION) continue;
        const char *rest = k->path;
        if (sl) {
            if (strncmp(k->path, section, sl) || k->path[sl] != '.') continue;
            rest = k->path + sl + 1;
        }
        if (strchr(rest, '.')) continue;
        if (!rows++)
            scorr_sb_printf(b, "| key | type | default | accepted values | meaning |\n"
                               "| --- | --- | --- | --- | --- |\n");
        scorr_cfg_value_text(&d, k, def, sizeof def);
        scorr_cfg_describe(k, vals, sizeof vals);
        scorr_sb_printf(b, "| `%s` | %s | `%s` | %s | %s%s%s |\n", k->path, scorr_cfg_type_name(k),
                        def, vals, k->doc,
                        (k->flags & CF_RESUME) ? " *May change on resume.*" : "",
                        (k->flags & CF_ARCH) ? " *Architecture: must match checkpoints.*" : "");
    }
    if (rows) scorr_sb_printf(b, "\n");
}

/* The fixed opening of the Markdown reference. */
static const char k_schema_intro[] =
    "# Experiment file reference\n\n"
    "<!-- Generated from the schema table in src/train/config_schema.c by\n"
    "     `build/bin/scorr_config --print-schema > docs/experiment-config.md`.\n"
    "     Do not edit by hand: test_traininfra_config_doc fails when this file and\n"
    "     the table differ. -->\n\n"
    "An experiment is one YAML file (`mpirun -np N scorr_train exp.yaml`). Every key\n"
    "has a default, so a file gives only what differs; the resolved config, defaults\n"
    "included, is written to `<output>/config.yaml` and into every checkpoint.\n"
    "Examples: `experiments/spair.yaml`, `experiments/pfpascal.yaml` (the paper's\n"
    "method), `experiments/pfpascal-baseline.yaml` and `experiments/pfpascal-st.yaml`\n"
    "(its sparse-only baseline and single-teacher variant), `experiments/quickstart.yaml`.\n\n"
    "## Rules\n\n"
    "- Strict. Unknown keys, duplicate keys, wrong types (a string where a number is\n"
    "  expected, a list where a single value is) and out-of-range or inconsistent\n"
    "  values are errors naming the file, the line and the key path, e.g.\n"
    "  `exp.yaml:12: pseudo.selection.start_ratio: expected a number in [0, 1] or none,\n"
    "  found 'fast'`. An unknown key gets a suggestion (`did you mean\n"
    "  'pseudo.dilation_kernel'?`).\n"
    "- Numbers and booleans are plain (unquoted) scalars: `lr: \"3e-5\"` is an error.\n"
    "  Booleans are `true` / `false`.\n"
    "- `none` (also `null`, `~`) means \"not set\" for the keys that accept it; a quoted\n"
    "  `\"none\"` is the literal string.\n"
    "- Relative paths are relative to the working directory of the program.\n"
    "- Epochs are counted from 0, as in the reference code.\n"
    "- Cross-key rules: `pseudo.selection.end_ratio` >= `start_ratio`; variant `st`\n"
    "  needs `teacher.checkpoint`; an explicit `validation.split` equals\n"
    "  `data.val_split`; with the cosine schedule `schedule.min_lr` <= `optim.lr`;\n"
    "  for `st` and `mt`, `pseudo.start_epoch` < `train.epochs`.\n"
    "- Overrides (`scorr_sweep` grids, `scorr_config --set key=value`) take the same\n"
    "  key paths and values, with the same checks; lists in flow style (`[100, 150]`).\n"
    "- Resume: a run restarted in the same output folder continues from its latest\n"
    "  valid checkpoint. Only the keys marked *May change on resume* below may\n"
    "  differ from the checkpoint's config (train.epochs not with the cosine\n"
    "  schedule, whose period it is). Any other difference is an error.\n\n"
    "## Keys\n\n"
    "### Top level\n\n";

int scorr_config_schema_markdown(char **out)
{
    struct scorr_sbuf b = {0};
    char *yaml = NULL;
    int err = 0;
    struct scorr_config d;
    scorr_sb_printf(&b, "%s", k_schema_intro);
    md_table(&b, "");
    for (int i = 0; i < scorr_cfg_table_len; i++) {
        const struct cfg_key *k = &scorr_cfg_table[i];
        if (k->type != CT_SECTION) continue;
        scorr_sb_printf(&b, "### `%s`\n\n%s\n\n", k->path, k->doc);
        md_table(&b, k->path);
    }
    scorr_config_defaults(&d);
    SCORR_TRY(scorr_config_emit(&d, &yaml));
    scorr_sb_printf(&b,
                    "## All defaults\n\nWhat an empty experiment file resolves to (this is also "
                    "the format of `<output>/config.yaml`):\n\n```yaml\n%s```\n",
                    yaml);
done:
    free(yaml);
    if (err) {
        scorr_sb_free(&b);
        return err;
    }
    return scorr_sb_finish(&b, out);
}
