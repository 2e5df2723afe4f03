#include <dnnl.h>
// GNU OpenMP, which oneDNN runs on: the thread count, and its parallel region, so that L2C's own loops
// (BatchNorm, residual adds) run on the same threads as oneDNN's instead of competing with them.
void omp_set_num_threads(int);
int omp_get_thread_num(void);
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
