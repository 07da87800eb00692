/*
 * readiness.c: the c-probe's epoll and eventfd checks (see probe.h for the protocol).
 *
 * Every expectation is Linux's: pipes as epoll sees them (level- and edge-triggered,
 * one-shot), epoll_ctl's errnos, epoll_pwait/epoll_pwait2 timeouts and signal masks,
 * an epoll instance watched by poll and by another epoll instance, and eventfd's
 * counter, semaphore mode, limits and readiness.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

/* The largest value an eventfd counter holds. */
#define EVENTFD_MAX 0xfffffffffffffffeULL

/* The raw epoll_wait system call (musl's epoll_wait calls epoll_pwait). */
static int raw_epoll_wait(int ep, struct epoll_event *events, int max, int timeout_ms)
{
	return (int)syscall(SYS_epoll_wait, ep, events, max, timeout_ms);
}

/* epoll_ctl with an event built from `events` and `data`. */
static int watch(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, op, fd, &ev);
}

/* Waits on `ep` for up to `timeout_ms` and returns the number of events; stores the
 * first one's events and data. */
static int wait_one(int ep, int timeout_ms, uint32_t *events, uint64_t *data)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, timeout_ms);
	*events = n > 0 ? ev[0].events : 0;
	*data = n > 0 ? ev[0].data.u64 : 0;
	return n;
}

/* The time on the monotonic clock. */
static struct timespec now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

/* Forks a child that sleeps `ms` milliseconds, writes `len` bytes of `data` to `fd`
 * and exits; returns its pid. */
static pid_t write_later(int fd, const void *data, size_t len, int ms)
{
	pid_t child = fork_flushed();
	if (child == 0) {
		struct timespec pause = {0, ms * 1000000L};
		nanosleep(&pause, NULL);
		_exit(write(fd, data, len) == (ssize_t)len ? 0 : 1);
	}
	return child;
}

/* ---- epoll -------------------------------------------------------------------------- */

/* Level-triggered pipes: reported while ready, EPOLLHUP on close; epoll_wait's errnos. */
const char *check_epoll_level(void)
{
	int fds[2];
	uint32_t events;
	uint64_t data;
	TRY(pipe(fds));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	TRY(ep);
	ENSURE(fcntl(ep, F_GETFD) == FD_CLOEXEC, "epoll_create1(EPOLL_CLOEXEC) did not set FD_CLOEXEC");
	TRY(watch(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN, 0x1122334455667788ULL));
	TRY(watch(ep, EPOLL_CTL_ADD, fds[1], EPOLLOUT, 7));
	int n = wait_one(ep, 0, &events, &data);
	ENSURE(n == 1 && events == EPOLLOUT && data == 7, "empty pipe: %d events (%#x, data %llu), want the write end's EPOLLOUT", n,
	       events, (unsigned long long)data);
	TRY(epoll_ctl(ep, EPOLL_CTL_DEL, fds[1], NULL));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "nothing ready, yet reported %#x", events);

	ENSURE(write(fds[1], "ab", 2) == 2, "write: %s", strerror(errno));
	for (int round = 1; round <= 2; round++) {
		n = raw_epoll_wait(ep, (struct epoll_event[1]){0}, 1, 0);
		ENSURE(n == 1, "readable pipe, wait %d: %d events, want 1 (level-triggered)", round, n);
	}
	n = wait_one(ep, 0, &events, &data);
	ENSURE(n == 1 && events == EPOLLIN && data == 0x1122334455667788ULL, "readable pipe: events %#x data %#llx",
	       events, (unsigned long long)data);
	char c;
	ENSURE(read(fds[0], &c, 1) == 1, "read: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1, "one byte left, not reported");
	ENSURE(read(fds[0], &c, 1) == 1, "read: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "drained pipe still reported (%#x)", events);
	TRY(close(fds[1]));
	n = wait_one(ep, 0, &events, &data);
	ENSURE(n == 1 && (events & EPOLLHUP), "write end closed: %d events (%#x), want EPOLLHUP", n, events);

	struct epoll_event ev[2];
	errno = 0;
	ENSURE(raw_epoll_wait(ep, ev, 0, 0) < 0 && errno == EINVAL, "maxevents 0: %s, want EINVAL", strerror(errno));
	errno = 0;
	ENSURE(raw_epoll_wait(ep, ev, -1, 0) < 0 && errno == EINVAL, "maxevents -1: %s, want EINVAL", strerror(errno));
	errno = 0;
	ENSURE(raw_epoll_wait(fds[0], ev, 2, 0) < 0 && errno == EINVAL, "epoll_wait on a pipe: %s, want EINVAL",
	       strerror(errno));
	errno = 0;
	ENSURE(raw_epoll_wait(1000, ev, 2, 0) < 0 && errno == EBADF, "epoll_wait on fd 1000: %s, want EBADF",
	       strerror(errno));
	errno = 0;
	ENSURE(raw_epoll_wait(ep, (void *)8, 2, 0) < 0 && errno == EFAULT, "events at (void *)8: %s, want EFAULT",
	       strerror(errno));
	errno = 0;
	ENSURE(syscall(SYS_epoll_create, 0) < 0 && errno == EINVAL, "epoll_create(0): %s, want EINVAL", strerror(errno));
	errno = 0;
	ENSURE(epoll_create1(0x10) < 0 && errno == EINVAL, "epoll_create1(0x10): %s, want EINVAL", strerror(errno));
	int old = (int)syscall(SYS_epoll_create, 1);
	TRY(old);
	ENSURE(fcntl(old, F_GETFD) == 0, "epoll_create set FD_CLOEXEC");
	close(old);
	close(fds[0]);

	/* With more ready files than maxevents, consecutive waits take turns. */
	int a[2], b[2];
	TRY(pipe(a));
	TRY(pipe(b));
	TRY(watch(ep, EPOLL_CTL_ADD, a[0], EPOLLIN, 'a'));
	TRY(watch(ep, EPOLL_CTL_ADD, b[0], EPOLLIN, 'b'));
	ENSURE(write(a[1], "x", 1) == 1 && write(b[1], "x", 1) == 1, "write: %s", strerror(errno));
	struct epoll_event first, second;
	ENSURE(epoll_wait(ep, &first, 1, 0) == 1 && epoll_wait(ep, &second, 1, 0) == 1, "ready pipes not reported");
	ENSURE(first.data.u64 != second.data.u64, "maxevents 1: pipe '%c' reported twice in a row while another was ready",
	       (int)first.data.u64);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(ep);
	return NULL;
}

/* Edge-triggered: one report per write, none for a partial read; MOD reports again. */
const char *check_epoll_edge(void)
{
	int fds[2];
	uint32_t events;
	uint64_t data;
	char buf[8];
	TRY(pipe(fds));
	int ep = epoll_create1(0);
	TRY(ep);
	TRY(watch(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN | EPOLLET, 1));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "empty pipe reported (%#x)", events);
	ENSURE(write(fds[1], "ab", 2) == 2, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLIN, "after a write: no EPOLLIN (%#x)", events);
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "one write reported twice");
	ENSURE(read(fds[0], buf, 1) == 1, "read: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "a partial read was reported as a new edge");
	ENSURE(write(fds[1], "c", 1) == 1, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1, "a second write into a readable pipe was not reported");
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "the second write reported twice");
	ENSURE(read(fds[0], buf, sizeof buf) == 2, "read: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "drained pipe reported");
	ENSURE(write(fds[1], "d", 1) == 1, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && data == 1, "third write not reported");
	TRY(watch(ep, EPOLL_CTL_MOD, fds[0], EPOLLIN | EPOLLET, 2));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && data == 2, "EPOLL_CTL_MOD of a readable pipe: not reported");
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "reported twice after EPOLL_CTL_MOD");
	close(fds[0]);
	close(fds[1]);
	close(ep);
	return NULL;
}

/* EPOLLONESHOT: one report, then nothing (not even EPOLLHUP) until EPOLL_CTL_MOD. */
const char *check_epoll_oneshot(void)
{
	int fds[2];
	uint32_t events;
	uint64_t data;
	TRY(pipe(fds));
	int ep = epoll_create1(0);
	TRY(ep);
	TRY(watch(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN | EPOLLONESHOT, 5));
	ENSURE(write(fds[1], "x", 1) == 1, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLIN && data == 5, "first report: %#x data %llu",
	       events, (unsigned long long)data);
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "one-shot interest reported twice");
	ENSURE(write(fds[1], "y", 1) == 1, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "disarmed interest reported after a new write");
	TRY(watch(ep, EPOLL_CTL_MOD, fds[0], EPOLLIN | EPOLLONESHOT, 6));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && data == 6, "re-armed interest not reported (data %llu)",
	       (unsigned long long)data);
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "re-armed one-shot interest reported twice");
	TRY(close(fds[1]));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "disarmed interest reported the hang-up (%#x)", events);
	close(fds[0]);
	close(ep);
	return NULL;
}

/* epoll_ctl's errnos, and an interest leaving with the last reference to its file. */
const char *check_epoll_ctl(void)
{
	int fds[2];
	uint32_t events;
	uint64_t data;
	TRY(pipe(fds));
	int ep = epoll_create1(0), ep2 = epoll_create1(0);
	TRY(ep);
	TRY(ep2);
	TRY(watch(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN, 0));
	struct {
		const char *what;
		int epfd, op, fd;
		uint32_t events;
		int want;
	} cases[] = {
		{"ADD twice", ep, EPOLL_CTL_ADD, fds[0], EPOLLIN, EEXIST},
		{"MOD of an fd not added", ep, EPOLL_CTL_MOD, fds[1], EPOLLOUT, ENOENT},
		{"DEL of an fd not added", ep, EPOLL_CTL_DEL, fds[1], 0, ENOENT},
		{"ADD of fd 1000", ep, EPOLL_CTL_ADD, 1000, EPOLLIN, EBADF},
		{"ADD to epfd 1000", 1000, EPOLL_CTL_ADD, fds[1], EPOLLOUT, EBADF},
		{"ADD to a pipe", fds[0], EPOLL_CTL_ADD, fds[1], EPOLLOUT, EINVAL},
		{"ADD to itself", ep, EPOLL_CTL_ADD, ep, EPOLLIN, EINVAL},
		{"op 99", ep, 99, fds[1], EPOLLOUT, EINVAL},
		{"MOD with EPOLLEXCLUSIVE", ep, EPOLL_CTL_MOD, fds[0], EPOLLIN | EPOLLEXCLUSIVE, EINVAL},
		{"ADD EPOLLEXCLUSIVE|EPOLLONESHOT", ep, EPOLL_CTL_ADD, fds[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT,
		 EINVAL},
		{"ADD of an epoll fd with EPOLLEXCLUSIVE", ep, EPOLL_CTL_ADD, ep2, EPOLLIN | EPOLLEXCLUSIVE, EINVAL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		errno = 0;
		int r = watch(cases[i].epfd, cases[i].op, cases[i].fd, cases[i].events, 0);
		ENSURE(r < 0 && errno == cases[i].want, "%s: %d (%s), want %s", cases[i].what, r, strerror(errno),
		       strerror(cases[i].want));
	}
	const char *unpollable[] = {"/proc/self/exe", "/", "/dev/null"};
	for (size_t i = 0; i < sizeof unpollable / sizeof unpollable[0]; i++) {
		int fd = open(unpollable[i], O_RDONLY);
		TRY(fd);
		errno = 0;
		int r = watch(ep, EPOLL_CTL_ADD, fd, EPOLLIN, 0);
		close(fd);
		ENSURE(r < 0 && errno == EPERM, "ADD of %s: %s, want EPERM", unpollable[i], strerror(errno));
	}
	errno = 0;
	ENSURE(epoll_ctl(ep, EPOLL_CTL_ADD, fds[1], NULL) < 0 && errno == EFAULT, "ADD with a null event: %s, want EFAULT",
	       strerror(errno));
	ENSURE(epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL) == 0, "DEL with a null event: %s", strerror(errno));
	errno = 0;
	ENSURE(epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL) < 0 && errno == ENOENT, "DEL twice: %s, want ENOENT",
	       strerror(errno));
	TRY(watch(ep, EPOLL_CTL_ADD, ep2, EPOLLIN, 0));
	errno = 0;
	ENSURE(watch(ep2, EPOLL_CTL_ADD, ep, EPOLLIN, 0) < 0 && errno == ELOOP,
	       "ADD of an epoll fd that watches this one: %s, want ELOOP", strerror(errno));

	/* The only reference to the watched file is fd 90: closing it ends the interest. */
	TRY(dup2(fds[0], 90));
	TRY(watch(ep, EPOLL_CTL_ADD, 90, EPOLLIN, 90));
	TRY(close(fds[0]));
	ENSURE(write(fds[1], "x", 1) == 1, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && data == 90, "fd 90 not reported (data %llu)",
	       (unsigned long long)data);
	TRY(close(90));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "a closed file is still reported (data %llu)",
	       (unsigned long long)data);
	errno = 0;
	ENSURE(epoll_ctl(ep, EPOLL_CTL_DEL, 90, NULL) < 0 && errno == EBADF, "DEL of a closed fd: %s, want EBADF",
	       strerror(errno));
	close(fds[1]);
	close(ep2);
	close(ep);
	return NULL;
}

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

/* epoll_pwait and epoll_pwait2 timeouts, and epoll_pwait's signal mask. */
const char *check_epoll_pwait(void)
{
	int fds[2];
	struct epoll_event ev[2];
	TRY(pipe(fds));
	int ep = epoll_create1(0);
	TRY(ep);
	TRY(watch(ep, EPOLL_CTL_ADD, fds[0], EPOLLIN, 0));

	struct timespec t0 = now();
	ENSURE(epoll_pwait(ep, ev, 2, 0, NULL) == 0, "timeout 0: %s", strerror(errno));
	long long took = ns_between(t0, now());
	ENSURE(took < 1000000000LL, "timeout 0 took %lld ns", took);
	t0 = now();
	ENSURE(epoll_pwait(ep, ev, 2, 50, NULL) == 0, "timeout 50 ms: %s", strerror(errno));
	took = ns_between(t0, now());
	ENSURE(took >= 50000000LL && took < 5000000000LL, "timeout 50 ms took %lld ns", took);
	struct timespec ts = {0, 30000000};
	t0 = now();
	ENSURE(syscall(SYS_epoll_pwait2, ep, ev, 2, &ts, NULL, 8) == 0, "epoll_pwait2 30 ms: %s", strerror(errno));
	took = ns_between(t0, now());
	ENSURE(took >= 30000000LL && took < 5000000000LL, "epoll_pwait2 timeout 30 ms took %lld ns", took);
	ts.tv_nsec = 2000000000;
	errno = 0;
	ENSURE(syscall(SYS_epoll_pwait2, ep, ev, 2, &ts, NULL, 8) < 0 && errno == EINVAL,
	       "epoll_pwait2 with tv_nsec 2e9: %s, want EINVAL", strerror(errno));
	ENSURE(write(fds[1], "x", 1) == 1, "write: %s", strerror(errno));
	ENSURE(syscall(SYS_epoll_pwait2, ep, ev, 2, NULL, NULL, 8) == 1, "epoll_pwait2 without a timeout: %s",
	       strerror(errno));

	/* SIGUSR1 is blocked; epoll_pwait unblocks it while waiting, so a signal from a
	 * child interrupts the wait, runs the handler and leaves SIGUSR1 blocked after. */
	char c;
	ENSURE(read(fds[0], &c, 1) == 1, "read: %s", strerror(errno));
	struct sigaction sa = {0}, old_action;
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	TRY(sigaction(SIGUSR1, &sa, &old_action));
	sigset_t block, old_mask, during, after;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	TRY(sigprocmask(SIG_BLOCK, &block, &old_mask));
	usr1_count = 0;
	during = old_mask;
	sigdelset(&during, SIGUSR1);
	errno = 0;
	ENSURE(syscall(SYS_epoll_pwait, ep, ev, 2, 0, &during, 4) < 0 && errno == EINVAL,
	       "epoll_pwait with sigsetsize 4: %s, want EINVAL", strerror(errno));
	pid_t child = fork_flushed();
	if (child == 0) {
		struct timespec pause = {0, 50000000};
		nanosleep(&pause, NULL);
		_exit(kill(getppid(), SIGUSR1) == 0 ? 0 : 1);
	}
	TRY(child);
	t0 = now();
	int n = epoll_pwait(ep, ev, 2, 5000, &during);
	int err = errno, ran = usr1_count;
	took = ns_between(t0, now());
	sigprocmask(SIG_BLOCK, NULL, &after);
	int status = wait_status(child);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGUSR1, &old_action, NULL);
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child could not signal (status %#x)", status);
	ENSURE(n < 0 && err == EINTR, "epoll_pwait interrupted by a signal gave %d (%s), want EINTR", n, strerror(err));
	ENSURE(took < 4000000000LL, "the signal did not end the wait (%lld ns)", took);
	ENSURE(ran == 1, "handler ran %d times on the way out of epoll_pwait, want 1", ran);
	ENSURE(sigismember(&after, SIGUSR1), "SIGUSR1 not blocked again after epoll_pwait");
	close(fds[0]);
	close(fds[1]);
	close(ep);
	return NULL;
}

/* An epoll instance watched by poll and by another instance, woken from another
 * process; nesting loops and depth are ELOOP. */
const char *check_epoll_nested(void)
{
	int fds[2];
	uint32_t events;
	uint64_t data;
	TRY(pipe(fds));
	int inner = epoll_create1(0), outer = epoll_create1(0);
	TRY(inner);
	TRY(outer);
	TRY(watch(inner, EPOLL_CTL_ADD, fds[0], EPOLLIN, 1));
	TRY(watch(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 2));
	struct pollfd pfd = {.fd = inner, .events = POLLIN};
	ENSURE(poll(&pfd, 1, 0) == 0, "idle epoll fd is readable to poll (revents %#x)", pfd.revents);
	ENSURE(wait_one(outer, 0, &events, &data) == 0, "outer instance reported an idle inner one");

	pid_t child = write_later(fds[1], "x", 1, 30);
	TRY(child);
	struct timespec t0 = now();
	int n = poll(&pfd, 1, 5000);
	long long took = ns_between(t0, now());
	int status = wait_status(child);
	ENSURE(took < 4000000000LL, "poll on the epoll fd was not woken by the write (%lld ns)", took);
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child could not write (status %#x)", status);
	ENSURE(n == 1 && pfd.revents == POLLIN, "poll on the epoll fd: %d, revents %#x, want POLLIN", n, pfd.revents);
	n = wait_one(outer, 0, &events, &data);
	ENSURE(n == 1 && events == EPOLLIN && data == 2, "outer instance: %d events (%#x, data %llu)", n, events,
	       (unsigned long long)data);
	char c;
	ENSURE(read(fds[0], &c, 1) == 1, "read: %s", strerror(errno));
	ENSURE(wait_one(outer, 0, &events, &data) == 0, "outer instance still reports a drained pipe");

	child = write_later(fds[1], "y", 1, 30);
	TRY(child);
	t0 = now();
	n = wait_one(outer, 5000, &events, &data);
	took = ns_between(t0, now());
	status = wait_status(child);
	ENSURE(took < 4000000000LL, "the outer instance was not woken by the write (%lld ns)", took);
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child could not write (status %#x)", status);
	ENSURE(n == 1 && data == 2, "blocking wait on the outer instance: %d events (data %llu)", n,
	       (unsigned long long)data);
	ENSURE(wait_one(inner, 0, &events, &data) == 1 && data == 1, "inner instance: data %llu",
	       (unsigned long long)data);
	errno = 0;
	ENSURE(watch(inner, EPOLL_CTL_ADD, outer, EPOLLIN, 0) < 0 && errno == ELOOP,
	       "inner watching outer: %s, want ELOOP", strerror(errno));

	/* A chain of 5 instances is allowed, a 6th on top is too deep. */
	int chain[6];
	for (int i = 0; i < 6; i++)
		TRY(chain[i] = epoll_create1(0));
	for (int i = 4; i >= 1; i--)
		TRY(watch(chain[i], EPOLL_CTL_ADD, chain[i + 1], EPOLLIN, 0));
	errno = 0;
	ENSURE(watch(chain[0], EPOLL_CTL_ADD, chain[1], EPOLLIN, 0) < 0 && errno == ELOOP,
	       "a 6-deep chain of epoll instances: %s, want ELOOP", strerror(errno));
	for (int i = 0; i < 6; i++)
		close(chain[i]);
	close(fds[0]);
	close(fds[1]);
	close(inner);
	close(outer);
	return NULL;
}

/* ---- eventfd ------------------------------------------------------------------------ */

/* Reads an eventfd's 8-byte value into `value`; returns read's result. */
static ssize_t read_count(int fd, uint64_t *value)
{
	return read(fd, value, sizeof *value);
}

/* Writes `value` to an eventfd; returns write's result. */
static ssize_t add_count(int fd, uint64_t value)
{
	return write(fd, &value, sizeof value);
}

/* The counter: initial value, sums, reset on read, limits, errnos, a blocking read. */
const char *check_eventfd_counter(void)
{
	uint64_t v = 0;
	int e = eventfd(5, EFD_CLOEXEC);
	TRY(e);
	ENSURE(fcntl(e, F_GETFD) == FD_CLOEXEC, "EFD_CLOEXEC did not set FD_CLOEXEC");
	ENSURE(read_count(e, &v) == 8 && v == 5, "initial value: read %llu, want 5", (unsigned long long)v);
	ENSURE(add_count(e, 3) == 8 && add_count(e, 4) == 8, "write: %s", strerror(errno));
	ENSURE(read_count(e, &v) == 8 && v == 7, "after writing 3 and 4: read %llu, want 7", (unsigned long long)v);
	char small[4] = {0};
	errno = 0;
	ENSURE(read(e, small, sizeof small) < 0 && errno == EINVAL, "4-byte read: %s, want EINVAL", strerror(errno));
	errno = 0;
	ENSURE(write(e, small, sizeof small) < 0 && errno == EINVAL, "4-byte write: %s, want EINVAL", strerror(errno));
	errno = 0;
	ENSURE(add_count(e, UINT64_MAX) < 0 && errno == EINVAL, "writing 2^64-1: %s, want EINVAL", strerror(errno));

	{
		pid_t child = fork_flushed();
		if (child == 0) {
			struct timespec pause = {0, 30000000};
			nanosleep(&pause, NULL);
			_exit(add_count(e, 9) == 8 ? 0 : 1);
		}
		TRY(child);
		v = 0;
		ssize_t r = read_count(e, &v);
		int status = wait_status(child);
		ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child could not write (status %#x)", status);
		ENSURE(r == 8 && v == 9, "blocking read woken by another process: %zd, %llu, want 9", r,
		       (unsigned long long)v);
	}
	close(e);

	int nb = eventfd(0, EFD_NONBLOCK);
	TRY(nb);
	ENSURE(fcntl(nb, F_GETFL) & O_NONBLOCK, "EFD_NONBLOCK did not set O_NONBLOCK");
	errno = 0;
	ENSURE(read_count(nb, &v) < 0 && errno == EAGAIN, "read of a zero counter: %s, want EAGAIN", strerror(errno));
	ENSURE(add_count(nb, EVENTFD_MAX) == 8, "writing the largest value: %s", strerror(errno));
	errno = 0;
	ENSURE(add_count(nb, 1) < 0 && errno == EAGAIN, "overflowing write: %s, want EAGAIN", strerror(errno));
	ENSURE(read_count(nb, &v) == 8 && v == EVENTFD_MAX, "full counter read %#llx", (unsigned long long)v);
	close(nb);

	int raw = (int)syscall(SYS_eventfd, 2);
	TRY(raw);
	ENSURE(read_count(raw, &v) == 8 && v == 2, "eventfd(2): read %llu", (unsigned long long)v);
	close(raw);
	errno = 0;
	ENSURE(syscall(SYS_eventfd2, 0, 0x10) < 0 && errno == EINVAL, "eventfd2 flags 0x10: %s, want EINVAL",
	       strerror(errno));
	return NULL;
}

/* EFD_SEMAPHORE: each read takes 1. */
const char *check_eventfd_semaphore(void)
{
	uint64_t v = 0;
	int e = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	TRY(e);
	for (int i = 0; i < 3; i++)
		ENSURE(read_count(e, &v) == 8 && v == 1, "read %d: %llu, want 1", i + 1, (unsigned long long)v);
	errno = 0;
	ENSURE(read_count(e, &v) < 0 && errno == EAGAIN, "fourth read: %s, want EAGAIN", strerror(errno));
	ENSURE(add_count(e, 2) == 8, "write: %s", strerror(errno));
	ENSURE(read_count(e, &v) == 8 && v == 1 && read_count(e, &v) == 8 && v == 1, "reads after writing 2");
	errno = 0;
	ENSURE(read_count(e, &v) < 0 && errno == EAGAIN, "read after taking 2: %s, want EAGAIN", strerror(errno));
	close(e);
	return NULL;
}

/* eventfd readiness in epoll (level- and edge-triggered) and poll. */
const char *check_eventfd_epoll(void)
{
	uint64_t v, data;
	uint32_t events;
	int e = eventfd(0, EFD_NONBLOCK);
	TRY(e);
	int ep = epoll_create1(0);
	TRY(ep);
	TRY(watch(ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLOUT, 1));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLOUT, "zero counter: %#x, want EPOLLOUT", events);
	ENSURE(add_count(e, 1) == 8, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == (EPOLLIN | EPOLLOUT),
	       "counter 1: %#x, want EPOLLIN|EPOLLOUT", events);
	ENSURE(add_count(e, EVENTFD_MAX - 1) == 8, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLIN, "full counter: %#x, want EPOLLIN", events);
	struct pollfd pfd = {.fd = e, .events = POLLIN | POLLOUT};
	ENSURE(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN, "poll of a full counter: revents %#x, want POLLIN",
	       pfd.revents);
	ENSURE(read_count(e, &v) == 8, "read: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLOUT, "read counter: %#x, want EPOLLOUT", events);
	close(ep);
	close(e);

	int s = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
	TRY(s);
	ep = epoll_create1(0);
	TRY(ep);
	TRY(watch(ep, EPOLL_CTL_ADD, s, EPOLLIN | EPOLLET, 2));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "zero counter reported (%#x)", events);
	ENSURE(add_count(s, 2) == 8, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLIN && data == 2, "edge after a write: %#x",
	       events);
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "one write reported twice");
	ENSURE(read_count(s, &v) == 8 && v == 1, "semaphore read: %llu", (unsigned long long)v);
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "a read was reported as a new EPOLLIN edge");
	ENSURE(add_count(s, 1) == 8, "write: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1, "a second write was not reported");
	close(ep);
	close(s);

	/* A writer refused with EAGAIN waits for EPOLLOUT; a read is its edge. */
	int w = eventfd(0, EFD_NONBLOCK);
	TRY(w);
	ep = epoll_create1(0);
	TRY(ep);
	ENSURE(add_count(w, EVENTFD_MAX - 1) == 8, "write: %s", strerror(errno));
	TRY(watch(ep, EPOLL_CTL_ADD, w, EPOLLOUT | EPOLLET, 3));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLOUT, "writable counter: %#x", events);
	errno = 0;
	ENSURE(add_count(w, 5) < 0 && errno == EAGAIN, "write past the limit: %s, want EAGAIN", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 0, "refused write reported as an edge (%#x)", events);
	ENSURE(read_count(w, &v) == 8, "read: %s", strerror(errno));
	ENSURE(wait_one(ep, 0, &events, &data) == 1 && events == EPOLLOUT, "a read making room was not reported (%#x)",
	       events);
	close(ep);
	close(w);
	return NULL;
}
