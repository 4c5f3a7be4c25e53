// glibc's malloc tuning (mallopt, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD), which the Glibc module
// does not export. Linux only; elsewhere the module is empty.
#if defined(__linux__)
#include <malloc.h>
#endif
