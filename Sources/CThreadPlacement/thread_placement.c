#define _GNU_SOURCE
#include "thread_placement.h"

#include <sched.h>

int mgv_usable_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int count = CPU_COUNT(&set);
    return count > 0 ? count : 1;
}

int mgv_thread_start_elsewhere(pthread_t *thread, void *(*start)(void *), void *context) {
    cpu_set_t set;
    int here = sched_getcpu();
    pthread_attr_t attributes;
    if (pthread_attr_init(&attributes) != 0) return pthread_create(thread, NULL, start, context);
    // Without another CPU (or without knowing ours), the thread goes wherever it may.
    if (here >= 0 && here < CPU_SETSIZE && sched_getaffinity(0, sizeof set, &set) == 0) {
        CPU_CLR(here, &set);
        if (CPU_COUNT(&set) > 0) (void)pthread_attr_setaffinity_np(&attributes, sizeof set, &set);
    }
    int status = pthread_create(thread, &attributes, start, context);
    pthread_attr_destroy(&attributes);
    return status;
}
