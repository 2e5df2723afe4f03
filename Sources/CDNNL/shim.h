#include <dnnl.h>
// omp_set_num_threads from GNU OpenMP, which oneDNN runs on.
void omp_set_num_threads(int);
