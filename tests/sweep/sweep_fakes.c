#include "sweep_fakes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scorr/error.h"
#include "scorr/io.h"

static char g_tmp[512];

const char *fakes_tmpdir(const char *name)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/scorr_%s.XXXXXX", name);
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        exit(2);
    }
    return g_tmp;
}

void fakes_cleanup(void)
{
    char cmd[600];
    if (!g_tmp[0] || getenv("SCORR_KEEP_TMP")) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", g_tmp);
}

int fakes_write(const char *path, const char *text)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (s) {
        *s = 0;
        if (scorr_mkdirs(dir)) return 1;
    }
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fputs(text, f);
    return fclose(f) != 0;
}

char *fakes_read(const char *path)
{
    char *t = NULL;
    size_t n = 0;
    if (scorr_read_file(path, &t, &n)) {
        scorr_error_clear();
        return NULL;
    }
    return t;
}

int fakes_count(const char *path, const char *needle)
{
    char *t = fakes_read(path);
    int n = 0;
    if (!t) return 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) n += strstr(line, needle) != NULL;
    free(t);
    return n;
}

static void exe(const char *dir, const char *name, const char *text)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (fakes_write(path, text) || chmod(path, 0755)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
}

const char *fakes_bin(const char *tmp)
{
    static char bin[1024];
    char log[1024];
    snprintf(bin, sizeof bin, "%s/bin", tmp);
    snprintf(log, sizeof log, "%s/fake.log", tmp);
    setenv("FAKE_LOG", log, 1);
    exe(bin, "scorr_train",
        "#!/bin/bash\n"
        "exp=$1\n"
        "echo \"TRAIN: $*\" >> \"$FAKE_LOG\"\n"
        "out=$(awk '/^output:/{print $2}' \"$exp\")\n"
        "if grep -q '\"finished\": true' \"$out/summary.json\" 2>/dev/null; then\n"
        "  echo 'already trained'; exit 0\n"
        "fi\n"
        "mkdir -p \"$out\" && cp \"$exp\" \"$out/config.yaml\"\n"
        "if [ -n \"${FAKE_TRAIN_STALLED:-}\" ]; then echo 'scorr watchdog [rank 0 of 2]: fake' > "
        "\"$out/.stalled\"; fi\n"
        "if [ -n \"${FAKE_TRAIN_EXIT:-}\" ]; then exit \"$FAKE_TRAIN_EXIT\"; fi\n"
        "if [ -n \"${FAKE_FAIL_CELL:-}\" ] && [[ $exp == */$FAKE_FAIL_CELL/* ]]; then\n"
        "  echo \"fake scorr_train: failing on purpose\" >&2; exit 1\n"
        "fi\n"
        "echo '{\"format\": \"scorr-summary\", \"version\": 1, \"finished\": true, "
        "\"epochs\": 2, \"epochs_done\": 2}' > \"$out/summary.json\"\n"
        "touch \"$out/best.h5\"\n");
    exe(bin, "scorr_eval",
        "#!/bin/bash\n"
        "echo \"EVAL: $*\" >> \"$FAKE_LOG\"\n"
        "d=$(dirname \"$1\")\n"
        "echo '{\"format\": \"scorr-eval\", \"version\": 1, \"pck\": {\"0.1\": 42.5}}' > "
        "\"$d/eval_$4.json\"\n");
    exe(bin, "mpirun",
        "#!/bin/bash\n"
        "echo \"mpirun $*\" >> \"$FAKE_LOG\"\n"
        "while [ $# -gt 0 ] && [[ $1 != */scorr_train ]]; do shift; done\n"
        "exec \"$@\"\n");
    exe(bin, "sbatch",
        "#!/bin/bash\n"
        "echo \"sbatch $*\" >> \"$FAKE_LOG\"\n"
        "n=$(grep -c '^sbatch ' \"$FAKE_LOG\")\n"
        "echo $((900000 + n))\n");
    exe(bin, "squeue",
        "#!/bin/bash\n"
        "echo \"squeue $*\" >> \"$FAKE_LOG\"\n"
        "printf '%b' \"${FAKE_SQUEUE:-}\"\n");
    exe(bin, "scontrol",
        "#!/bin/bash\n"
        "echo \"scontrol $*\" >> \"$FAKE_LOG\"\n"
        "[ \"$1 $2 $3\" = '-o show job' ] || exit 1\n"
        "printf '%b' \"${FAKE_SCONTROL:-}\" | grep \"^JobId=$4 \" || "
        "{ echo \"slurm_load_jobs error: Invalid job id specified\" >&2; exit 1; }\n");
    return bin;
}

int fakes_sweep(const char *tmp, const char *name, const char *yaml, struct scorr_sweep *sw)
{
    char file[1024], dir[1024];
    snprintf(file, sizeof file, "%s/%s.yaml", tmp, name);
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    if (fakes_write(file, yaml)) return 1;
    return scorr_sweep_load(file, dir, sw);
}
