/*
 * probe.h: what the c-probe's source files share — the check protocol's helpers
 * (defined in probe.c) and the checks that live outside probe.c.
 */
#ifndef PROBE_H
#define PROBE_H

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* A check returns NULL when it passed, or a description of what went wrong. */
typedef const char *(*check_fn)(void);

/* Formats a failure detail into a static buffer; checks `return fail(...)`. */
__attribute__((format(printf, 1, 2))) const char *fail(const char *fmt, ...);

/* Fails with the call and its errno when a system call reported an error. */
#define TRY(call)                                                                        \
	do {                                                                             \
		if ((call) < 0)                                                          \
			return fail("%s: %s (line %d)", #call, strerror(errno), __LINE__); \
	} while (0)

/* Fails with a formatted detail unless `cond` holds. */
#define ENSURE(cond, ...)                      \
	do {                                   \
		if (!(cond))                   \
			return fail(__VA_ARGS__); \
	} while (0)

/* Nanoseconds between two timespecs. */
long long ns_between(struct timespec a, struct timespec b);

/* Flushes stdio before a fork so the child cannot repeat buffered output. */
pid_t fork_flushed(void);

/* Waits for `pid` and returns its raw wait status, or -1. */
int wait_status(pid_t pid);

/* readiness.c: epoll and eventfd. */
const char *check_epoll_level(void);
const char *check_epoll_edge(void);
const char *check_epoll_oneshot(void);
const char *check_epoll_ctl(void);
const char *check_epoll_pwait(void);
const char *check_epoll_nested(void);
const char *check_eventfd_counter(void);
const char *check_eventfd_semaphore(void);
const char *check_eventfd_epoll(void);

/* `c-probe smp-stress`: threads of one process on several CPUs (smp.c). */
int smp_stress_mode(void);

/* `c-probe where`: the CPU it runs on and its affinity mask (smp.c). */
int where_mode(void);

#endif
