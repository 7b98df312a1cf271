#ifndef MAGEVAULT_THREAD_PLACEMENT_H
#define MAGEVAULT_THREAD_PLACEMENT_H

#include <pthread.h>

/// The CPUs this process may run on (its affinity mask, which a container or `taskset`
/// may narrow), at least 1.
int mgv_usable_cpus(void);

/// Starts a thread running `start(context)`, allowed on every CPU the process may use but
/// the one the caller runs on now (when there is another): a new thread is otherwise
/// queued behind its creator on the creator's CPU until the scheduler balances the load,
/// which on a virtual machine took up to a tick, longer than the work it was started for.
/// Returns 0, or the error pthread_create returned.
int mgv_thread_start_elsewhere(pthread_t *thread, void *(*start)(void *), void *context);

#endif
