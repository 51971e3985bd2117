/* Callgrind's instrumentation switched on and off from Python (ctypes), so that only
 * the work measured is counted and what comes before it (evaluating a workbook) runs
 * uninstrumented, several times faster: benchmarks/output_work.py --toggle.
 *
 *   gcc -O2 -shared -fPIC -o /tmp/libcgtoggle.so benchmarks/callgrind_toggle.c
 *   valgrind --tool=callgrind --instr-atstart=no ... output_work.py ... --toggle /tmp/libcgtoggle.so
 *
 * Outside valgrind the requests do nothing. Needs valgrind's headers (callgrind.h). */
#include <valgrind/callgrind.h>

void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }

void cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("measured"); }
