#include "ops/dnnl_ctx.h"

#include "scorr/error.h"

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;

const char *scorr_dnnl_status_str(dnnl_status_t s)
{
    switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented (no kernel for this shape/layout)";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown status";
    }
}

int scorr_dnnl_init(void)
{
    int err = 0;
    dnnl_status_t st;
    if (g_engine) goto done;
    st = dnnl_engine_create(&g_engine, dnnl_cpu, 0);
    SCORR_REQUIRE(st == dnnl_success, SCORR_EINTERNAL, "oneDNN: cannot create the CPU engine: %s",
                  scorr_dnnl_status_str(st));
    st = dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        dnnl_engine_destroy(g_engine);
        g_engine = NULL;
        SCORR_FAIL(SCORR_EINTERNAL, "oneDNN: cannot create a CPU stream: %s",
                   scorr_dnnl_status_str(st));
    }
done:
    return err;
}

dnnl_engine_t scorr_dnnl_engine(void) { return g_engine; }
dnnl_stream_t scorr_dnnl_stream(void) { return g_stream; }

void scorr_dnnl_run(dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args, const char *what)
{
    dnnl_status_t st = dnnl_primitive_execute(p, g_stream, nargs, args);
    if (st == dnnl_success) st = dnnl_stream_wait(g_stream);
    if (st != dnnl_success)
        scorr_fatal(__FILE__, __LINE__, "oneDNN %s failed: %s", what, scorr_dnnl_status_str(st));
}
