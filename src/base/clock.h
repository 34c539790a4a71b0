/* clock.h: the hall's wall clock for what it records (when an application was filed, an event
 * happened, a rating was given, a document published).
 *
 * Invariants: clock_now() is time(NULL) unless a command set a time with clock_set; only
 * `govhall init --demo` does, to play a year of history through the domains' own functions
 * with each step dated on its day. A serving node never sets it. Thread-safe (an atomic). */
#ifndef GH_CLOCK_H
#define GH_CLOCK_H
#include <stdint.h>

/* Unix seconds: the time set, or the system's. */
int64_t clock_now(void);
/* Sets the time clock_now() answers (0: back to the system's clock). */
void clock_set(int64_t t);

#endif
