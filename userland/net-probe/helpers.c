/*
 * net-probe helpers: failure details, errno and poll names, and the socket calls the
 * checks share (sockets with timeouts that are closed after each check, addresses,
 * talking to the test server).
 */
#include "probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The most fds one check may have open at once (track() refuses more). */
enum { MAX_TRACKED = 32 };

struct in_addr server_host;
unsigned short ctrl_port, closed_port;
volatile sig_atomic_t sigpipes;

static char detail[512];
static int tracked[MAX_TRACKED];
static int tracked_count;

/* ---- reporting ---------------------------------------------------------------------- */

const char *fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return detail;
}

const char *errname(int err)
{
	static const struct {
		int value;
		const char *name;
	} names[] = {
		{0, "0"},
		{EPERM, "EPERM"},
		{ENOENT, "ENOENT"},
		{EINTR, "EINTR"},
		{EBADF, "EBADF"},
		{EAGAIN, "EAGAIN"},
		{ENOMEM, "ENOMEM"},
		{EACCES, "EACCES"},
		{EFAULT, "EFAULT"},
		{EINVAL, "EINVAL"},
		{EMFILE, "EMFILE"},
		{EPIPE, "EPIPE"},
		{ENOSYS, "ENOSYS"},
		{ENOTSOCK, "ENOTSOCK"},
		{EDESTADDRREQ, "EDESTADDRREQ"},
		{EMSGSIZE, "EMSGSIZE"},
		{EPROTOTYPE, "EPROTOTYPE"},
		{ENOPROTOOPT, "ENOPROTOOPT"},
		{EPROTONOSUPPORT, "EPROTONOSUPPORT"},
		{ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
		{EOPNOTSUPP, "EOPNOTSUPP"},
		{EAFNOSUPPORT, "EAFNOSUPPORT"},
		{EADDRINUSE, "EADDRINUSE"},
		{EADDRNOTAVAIL, "EADDRNOTAVAIL"},
		{ENETUNREACH, "ENETUNREACH"},
		{ECONNABORTED, "ECONNABORTED"},
		{ECONNRESET, "ECONNRESET"},
		{ENOBUFS, "ENOBUFS"},
		{EISCONN, "EISCONN"},
		{ENOTCONN, "ENOTCONN"},
		{ETIMEDOUT, "ETIMEDOUT"},
		{ECONNREFUSED, "ECONNREFUSED"},
		{EHOSTUNREACH, "EHOSTUNREACH"},
		{EALREADY, "EALREADY"},
		{EINPROGRESS, "EINPROGRESS"},
	};
	static char other[32];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].value == err)
			return names[i].name;
	snprintf(other, sizeof other, "errno %d", err);
	return other;
}

const char *events_name(int revents)
{
	static const struct {
		int bit;
		const char *name;
	} bits[] = {{POLLIN, "POLLIN"},   {POLLPRI, "POLLPRI"}, {POLLOUT, "POLLOUT"},     {POLLERR, "POLLERR"},
		    {POLLHUP, "POLLHUP"}, {POLLNVAL, "POLLNVAL"}, {POLLRDHUP, "POLLRDHUP"}};
	static char out[96];
	out[0] = 0;
	for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (revents & bits[i].bit)
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? "|" : "", bits[i].name);
	return out[0] ? out : "nothing (timed out)";
}

const char *addr_name(const struct sockaddr_in *addr)
{
	/* Two buffers, so one detail line can name two addresses. */
	static char out[2][40];
	static int next;
	char *buf = out[next++ % 2];
	char ip[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &addr->sin_addr, ip, sizeof ip);
	snprintf(buf, sizeof out[0], "%s:%u (family %d)", ip, ntohs(addr->sin_port), addr->sin_family);
	return buf;
}

/* ---- socket helpers ----------------------------------------------------------------- */

int track(int fd)
{
	if (fd >= 0 && tracked_count == MAX_TRACKED) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	if (fd >= 0)
		tracked[tracked_count++] = fd;
	return fd;
}

void close_tracked(void)
{
	while (tracked_count > 0)
		close(tracked[--tracked_count]);
}

/* Sets SO_RCVTIMEO and SO_SNDTIMEO to IO_TIMEOUT_MS; returns fd, or -1. */
static int with_timeouts(int fd)
{
	struct timeval tv = {IO_TIMEOUT_MS / 1000, (IO_TIMEOUT_MS % 1000) * 1000};
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		return -1;
	return fd;
}

int tcp_socket(int flags)
{
	return with_timeouts(track(socket(AF_INET, SOCK_STREAM | flags, 0)));
}

int udp_socket(void)
{
	return with_timeouts(track(socket(AF_INET, SOCK_DGRAM, 0)));
}

struct sockaddr_in server_addr(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = server_host};
	return a;
}

struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

struct sockaddr_in name_of(int fd)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		memset(&a, 0, sizeof a);
	return a;
}

struct sockaddr_in peer_of(int fd)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof a;
	if (getpeername(fd, (struct sockaddr *)&a, &len) < 0)
		memset(&a, 0, sizeof a);
	return a;
}

int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == b->sin_family && a->sin_port == b->sin_port &&
	       a->sin_addr.s_addr == b->sin_addr.s_addr;
}

int open_command(const char *command)
{
	int fd = tcp_socket(0);
	struct sockaddr_in to = server_addr(ctrl_port);
	char line[128];
	int n = snprintf(line, sizeof line, "%s\n", command);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0 || write_all(fd, line, (size_t)n) < 0)
		return -1;
	return fd;
}

ssize_t write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)n;
}

ssize_t read_to_eof(int fd, char *buf, size_t size)
{
	size_t done = 0;
	while (done < size) {
		ssize_t r = read(fd, buf + done, size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int wait_events(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r = poll(&p, 1, ms);
	return r <= 0 ? r : p.revents;
}

int wait_unread(int fd, int n, int ms)
{
	struct timespec start = now();
	for (;;) {
		int unread = 0;
		if (ioctl(fd, FIONREAD, &unread) < 0)
			return -1;
		if (unread >= n)
			return 0;
		if (elapsed_ms(start) > ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(2000);
	}
}

int so_error(int fd)
{
	return get_int_opt(fd, SOL_SOCKET, SO_ERROR);
}

int get_int_opt(int fd, int level, int name)
{
	int value = -1;
	socklen_t len = sizeof value;
	if (getsockopt(fd, level, name, &value, &len) < 0)
		return -1;
	if (len != sizeof value) {
		errno = EINVAL;
		return -1;
	}
	return value;
}

struct timespec now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

long elapsed_ms(struct timespec start)
{
	struct timespec t = now();
	return (long)((t.tv_sec - start.tv_sec) * 1000 + (t.tv_nsec - start.tv_nsec) / 1000000);
}
