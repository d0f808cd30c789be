/* The process-wide oneDNN CPU engine and stream used by the backbone ops, and
 * small helpers around the oneDNN C API. Private to src/ops. */
#ifndef SCORR_OPS_DNNL_CTX_H
#define SCORR_OPS_DNNL_CTX_H

#include <stddef.h>

#include <dnnl.h>

/* The engine and stream, created by the first call (build time; not
 * thread-safe). Returns 0 or SCORR_EINTERNAL with a message. */
int scorr_dnnl_init(void);
dnnl_engine_t scorr_dnnl_engine(void);
dnnl_stream_t scorr_dnnl_stream(void);

/* oneDNN status as text ("unimplemented", ...). */
const char *scorr_dnnl_status_str(dnnl_status_t s);

/* Execute a primitive on the stream and wait; a failure is an internal
 * error (the primitive was created for exactly these arguments): abort. */
void scorr_dnnl_run(dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args,
                    const char *what);

/* Round bytes up to 64. */
static inline size_t scorr_dnnl_round(size_t b) { return (b + 63) / 64 * 64; }

#endif
