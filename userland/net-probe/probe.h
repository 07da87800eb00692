/*
 * net-probe: declarations shared by the driver (net-probe.c), the helpers (helpers.c) and
 * the checks (remote.c: against the host test server; local.c: loopback only).
 */
#ifndef NET_PROBE_H
#define NET_PROBE_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

/* A check returns NULL when it passed, or a description of what went wrong. */
typedef const char *(*check_fn)(void);

/* A named check. */
struct check {
	const char *name;
	check_fn run;
};

/* The checks that need the host test server, and the loopback-only ones. */
extern const struct check remote_checks[];
extern const int remote_check_count;
extern const struct check local_checks[];
extern const int local_check_count;

/* How long a blocking socket call may take before it fails (SO_RCVTIMEO/SO_SNDTIMEO). */
enum { IO_TIMEOUT_MS = 5000 };

/* The host test server: its address and a port where nothing listens. */
extern struct in_addr server_host;
extern unsigned short ctrl_port, closed_port;

/* SIGPIPEs delivered so far (a handler counts them for the whole run). */
extern volatile sig_atomic_t sigpipes;

/* Formats a failure detail; checks `return fail(...)`. */
__attribute__((format(printf, 1, 2))) const char *fail(const char *fmt, ...);

/* Linux's name for an errno value ("ECONNRESET"), or a number for unusual ones. */
const char *errname(int err);

/* "POLLIN|POLLOUT" for a poll revents value; 0 (wait_events timed out) is "nothing". */
const char *events_name(int revents);

/* "a.b.c.d:port" for an address. */
const char *addr_name(const struct sockaddr_in *addr);

/* Fails with the call and its errno when a system call reported an error. */
#define TRY(call)                                                                               \
	do {                                                                                    \
		if ((call) < 0)                                                                 \
			return fail("%s: %s (line %d)", #call, errname(errno), __LINE__);       \
	} while (0)

/* Fails with a formatted detail unless `cond` holds. */
#define ENSURE(cond, ...)                      \
	do {                                   \
		if (!(cond))                   \
			return fail(__VA_ARGS__); \
	} while (0)

/* Fails unless `call` returns -1 with errno `want`. */
#define EXPECT_ERR(call, want)                                                                       \
	do {                                                                                         \
		errno = 0;                                                                           \
		long got_ = (long)(call);                                                            \
		int err_ = errno;                                                                    \
		if (got_ != -1 || err_ != (want))                                                    \
			return fail("%s gave %ld (%s), want -1 (%s) (line %d)", #call, got_,       \
				    got_ == -1 ? errname(err_) : "no error", errname(want), __LINE__); \
	} while (0)

/* Remembers `fd` so the driver closes it after the current check; returns `fd`. */
int track(int fd);

/* Closes every fd track() remembered (the driver calls it after each check). */
void close_tracked(void);

/* A tracked TCP socket (type flags such as SOCK_NONBLOCK added) with I/O timeouts, or -1. */
int tcp_socket(int flags);

/* A tracked UDP socket with I/O timeouts, or -1. */
int udp_socket(void);

/* The test server's address with `port`. */
struct sockaddr_in server_addr(unsigned short port);

/* 127.0.0.1 with `port`. */
struct sockaddr_in loopback(unsigned short port);

/* The local address of `fd` (zeroed if getsockname fails). */
struct sockaddr_in name_of(int fd);

/* The peer address of `fd` (zeroed if getpeername fails). */
struct sockaddr_in peer_of(int fd);

/* Whether two IPv4 addresses and ports are equal. */
int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b);

/* Connects to the control port and sends `command` and a newline; the socket, or -1. */
int open_command(const char *command);

/* Writes all `n` bytes; returns n, or -1. */
ssize_t write_all(int fd, const void *buf, size_t n);

/* Reads until EOF or `size` bytes; returns the count, or -1 on an error. */
ssize_t read_to_eof(int fd, char *buf, size_t size);

/* Polls one fd for `events` up to `ms`; returns revents, 0 on timeout, -1 on error. */
int wait_events(int fd, short events, int ms);

/* Waits up to `ms` until FIONREAD shows at least `n` bytes; returns 0, or -1. */
int wait_unread(int fd, int n, int ms);

/* The socket's pending error (SO_ERROR), or -1 if getsockopt fails. */
int so_error(int fd);

/* An int socket option's value, or -1 (with errno) if getsockopt fails or its size is not 4. */
int get_int_opt(int fd, int level, int name);

/* Checks in streams.c, listed among the local checks. */
const char *check_epoll_sockets(void);
const char *check_unix_stream(void);
const char *check_socketpair(void);

/* Milliseconds since `start` on CLOCK_MONOTONIC. */
long elapsed_ms(struct timespec start);

/* The current CLOCK_MONOTONIC time. */
struct timespec now(void);

/* `net-probe fetch NAME PORT PATH` (fetch.c): an HTTP GET by name; its exit status. */
int fetch_mode(const char *name, const char *port, const char *path);

#endif
