/* The monotonic clock in milliseconds, and deadlines for timed waits (pthread_cond_timedwait and
 * the like). */
#ifndef HRET_CLOCK_H
#define HRET_CLOCK_H

#include <time.h>

/* The time ms milliseconds from now on clock (the clock the wait's condition variable uses:
 * CLOCK_REALTIME by default, CLOCK_MONOTONIC when set with pthread_condattr_setclock). */
struct timespec hret_clock_deadline(clockid_t clock, long ms);

/* Milliseconds on the monotonic clock (for everything that times things in-process). */
double hret_clock_now_ms(void);

#endif
