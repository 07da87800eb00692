/*
 * net-probe checks against the host test server: connecting (refused and accepted),
 * a peer's reset and half-close, our own shutdown, non-blocking and vectored I/O,
 * receive timeouts, and 1 MiB echoed back intact. The server's protocol is documented
 * in tests/src/netserver.rs: one command line per connection.
 */
#include "probe.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* A blocking connect to the closed port is refused, and the error is not left pending. */
static const char *check_connect_refused(void)
{
	int fd = tcp_socket(0);
	TRY(fd);
	struct sockaddr_in to = server_addr(closed_port);
	EXPECT_ERR(connect(fd, (struct sockaddr *)&to, sizeof to), ECONNREFUSED);
	int err = so_error(fd);
	ENSURE(err == 0, "SO_ERROR after the refused connect is %s, want 0", errname(err));
	return NULL;
}

/* A non-blocking connect to the closed port: EINPROGRESS, then poll and SO_ERROR say refused. */
static const char *check_connect_refused_nonblock(void)
{
	int fd = tcp_socket(SOCK_NONBLOCK);
	TRY(fd);
	struct sockaddr_in to = server_addr(closed_port);
	EXPECT_ERR(connect(fd, (struct sockaddr *)&to, sizeof to), EINPROGRESS);
	int rev = wait_events(fd, POLLOUT, IO_TIMEOUT_MS);
	ENSURE(rev > 0, "poll for POLLOUT: %s", rev == 0 ? "timed out" : errname(errno));
	ENSURE((rev & POLLOUT) && (rev & (POLLERR | POLLHUP)), "poll gave %s, want POLLOUT with POLLERR or POLLHUP",
	       events_name(rev));
	int err = so_error(fd);
	ENSURE(err == ECONNREFUSED, "SO_ERROR is %s, want ECONNREFUSED", errname(err));
	err = so_error(fd);
	ENSURE(err == 0, "SO_ERROR read a second time is %s, want 0 (reading clears it)", errname(err));
	return NULL;
}

/* A non-blocking connect to the server completes; both ends' addresses are right. */
static const char *check_connect_nonblock(void)
{
	int fd = tcp_socket(SOCK_NONBLOCK);
	TRY(fd);
	struct sockaddr_in to = server_addr(ctrl_port);
	EXPECT_ERR(connect(fd, (struct sockaddr *)&to, sizeof to), EINPROGRESS);
	int rev = wait_events(fd, POLLOUT, IO_TIMEOUT_MS);
	ENSURE(rev == POLLOUT, "poll gave %s, want POLLOUT", rev < 0 ? errname(errno) : events_name(rev));
	int err = so_error(fd);
	ENSURE(err == 0, "SO_ERROR after connecting is %s, want 0", errname(err));
	/* Linux: the first connect after completion reports success, later ones EISCONN. */
	TRY(connect(fd, (struct sockaddr *)&to, sizeof to));
	EXPECT_ERR(connect(fd, (struct sockaddr *)&to, sizeof to), EISCONN);

	struct sockaddr_in peer = {0}, self = {0};
	socklen_t peer_len = sizeof peer, self_len = sizeof self;
	TRY(getpeername(fd, (struct sockaddr *)&peer, &peer_len));
	TRY(getsockname(fd, (struct sockaddr *)&self, &self_len));
	ENSURE(peer_len == sizeof peer && same_addr(&peer, &to), "getpeername gave %s (length %u), want %s",
	       addr_name(&peer), (unsigned)peer_len, addr_name(&to));
	ENSURE(self_len == sizeof self && self.sin_family == AF_INET && self.sin_port != 0 &&
		       self.sin_addr.s_addr != htonl(INADDR_ANY),
	       "getsockname gave %s (length %u), want a real address and port", addr_name(&self),
	       (unsigned)self_len);

	ENSURE(write_all(fd, "echo\nx", 6) == 6, "send: %s", errname(errno));
	char c = 0;
	rev = wait_events(fd, POLLIN, IO_TIMEOUT_MS);
	ENSURE(rev == POLLIN, "waiting for the echo: poll gave %s", rev < 0 ? errname(errno) : events_name(rev));
	ssize_t n = recv(fd, &c, 1, 0);
	ENSURE(n == 1 && c == 'x', "the echo came back as %zd (%s)", n, n < 0 ? errname(errno) : "no error");
	return NULL;
}

/*
 * The server resets the connection (SO_LINGER {1, 0}) while we wait in read. Linux: that
 * read fails with ECONNRESET, which clears the error, so the next read returns 0; writes
 * then fail with EPIPE, raising SIGPIPE unless MSG_NOSIGNAL; poll reports POLLHUP.
 */
static const char *check_peer_reset(void)
{
	int fd = open_command("reset 200");
	TRY(fd);
	char buf[16];
	EXPECT_ERR(read(fd, buf, sizeof buf), ECONNRESET);
	ssize_t n = read(fd, buf, sizeof buf);
	ENSURE(n == 0, "read after ECONNRESET gave %zd (%s), want 0", n, n < 0 ? errname(errno) : "data");
	int rev = wait_events(fd, POLLIN | POLLOUT, 0);
	ENSURE(rev == (POLLIN | POLLOUT | POLLHUP), "poll after the reset gave %s, want POLLIN|POLLOUT|POLLHUP",
	       rev < 0 ? errname(errno) : events_name(rev));
	int before = sigpipes;
	EXPECT_ERR(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE);
	ENSURE(sigpipes == before, "send with MSG_NOSIGNAL raised SIGPIPE");
	EXPECT_ERR(write(fd, "x", 1), EPIPE);
	ENSURE(sigpipes == before + 1, "write after the reset raised %d SIGPIPEs, want 1", (int)(sigpipes - before));
	int err = so_error(fd);
	ENSURE(err == 0, "SO_ERROR after the reset was reported is %s, want 0", errname(err));
	return NULL;
}

/*
 * The reset arrives while we are not reading. Linux: poll reports POLLERR|POLLHUP, the
 * first call to notice it (here a send) fails with ECONNRESET and no SIGPIPE, and after
 * that reads return 0 and sends EPIPE.
 */
static const char *check_peer_reset_send(void)
{
	int fd = open_command("reset 0");
	TRY(fd);
	int rev = wait_events(fd, POLLIN, IO_TIMEOUT_MS);
	ENSURE(rev == (POLLIN | POLLERR | POLLHUP), "poll after the reset gave %s, want POLLIN|POLLERR|POLLHUP",
	       rev < 0 ? errname(errno) : events_name(rev));
	int before = sigpipes;
	EXPECT_ERR(send(fd, "x", 1, 0), ECONNRESET);
	ENSURE(sigpipes == before, "a send failing with ECONNRESET raised SIGPIPE");
	char buf[4];
	ssize_t n = read(fd, buf, sizeof buf);
	ENSURE(n == 0, "read after the reset was reported gave %zd (%s), want 0", n, n < 0 ? errname(errno) : "data");
	EXPECT_ERR(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE);
	ENSURE(sigpipes == before, "send with MSG_NOSIGNAL raised SIGPIPE");
	return NULL;
}

/* The server shuts its side (FIN): we read EOF, can still send, and the server gets it all. */
static const char *check_peer_half_close(void)
{
	static const char first[] = "sent after the server's FIN, ", second[] = "in two writes\n";
	int fd = open_command("halfclose");
	TRY(fd);
	char reply[64];
	ssize_t n = read_to_eof(fd, reply, sizeof reply - 1);
	ENSURE(n > 0, "reading the server's id line: %s", n < 0 ? errname(errno) : "EOF at once");
	reply[n] = 0;
	unsigned long id;
	ENSURE(sscanf(reply, "id %lu", &id) == 1, "the server sent \"%s\", want \"id N\"", reply);
	n = read(fd, reply, sizeof reply);
	ENSURE(n == 0, "a second read after EOF gave %zd (%s), want 0 again", n, n < 0 ? errname(errno) : "data");
	int rev = wait_events(fd, POLLIN | POLLOUT | POLLRDHUP, 0);
	ENSURE(rev == (POLLIN | POLLOUT | POLLRDHUP), "poll after EOF gave %s, want POLLIN|POLLOUT|POLLRDHUP",
	       rev < 0 ? errname(errno) : events_name(rev));
	ENSURE(write(fd, first, sizeof first - 1) == sizeof first - 1, "write after EOF: %s", errname(errno));
	ENSURE(write(fd, second, sizeof second - 1) == sizeof second - 1, "second write: %s", errname(errno));
	TRY(shutdown(fd, SHUT_WR));
	rev = wait_events(fd, POLLIN | POLLOUT, 0);
	ENSURE(rev == (POLLIN | POLLOUT | POLLHUP), "poll with both sides shut gave %s, want POLLIN|POLLOUT|POLLHUP",
	       rev < 0 ? errname(errno) : events_name(rev));

	char command[32], got[128];
	snprintf(command, sizeof command, "report %lu", id);
	int report = open_command(command);
	TRY(report);
	n = read_to_eof(report, got, sizeof got - 1);
	ENSURE(n >= 0, "reading the report: %s", errname(errno));
	got[n] = 0;
	ENSURE(strcmp(got, "sent after the server's FIN, in two writes\n") == 0, "the server received \"%s\"", got);
	return NULL;
}

/* We shut our side: the server sees EOF and answers; writes fail with EPIPE (+SIGPIPE). */
static const char *check_shutdown_write(void)
{
	static char payload[10000];
	memset(payload, 'p', sizeof payload);
	int fd = open_command("sink");
	TRY(fd);
	ENSURE(write_all(fd, payload, sizeof payload) == sizeof payload, "send: %s", errname(errno));
	TRY(shutdown(fd, SHUT_WR));
	int before = sigpipes;
	EXPECT_ERR(write(fd, "x", 1), EPIPE);
	ENSURE(sigpipes == before + 1, "write after SHUT_WR raised %d SIGPIPEs, want 1", (int)(sigpipes - before));
	EXPECT_ERR(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE);
	ENSURE(sigpipes == before + 1, "send with MSG_NOSIGNAL raised SIGPIPE");
	char reply[32];
	ssize_t n = read_to_eof(fd, reply, sizeof reply - 1);
	ENSURE(n >= 0, "reading the server's count: %s", errname(errno));
	reply[n] = 0;
	ENSURE(strcmp(reply, "10000\n") == 0, "the server counted \"%s\", want \"10000\\n\"", reply);
	return NULL;
}

/* Non-blocking reads of an idle connection, MSG_DONTWAIT, MSG_PEEK and FIONREAD. */
static const char *check_recv_nonblock(void)
{
	int fd = open_command("echo");
	TRY(fd);
	char buf[16];
	int flags = fcntl(fd, F_GETFL);
	TRY(flags);
	TRY(fcntl(fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_ERR(recv(fd, buf, sizeof buf, 0), EAGAIN);
	EXPECT_ERR(read(fd, buf, sizeof buf), EAGAIN);
	TRY(fcntl(fd, F_SETFL, flags));
	EXPECT_ERR(recv(fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

	ENSURE(write_all(fd, "peek-me", 7) == 7, "send: %s", errname(errno));
	TRY(wait_unread(fd, 7, IO_TIMEOUT_MS));
	int unread = -1;
	TRY(ioctl(fd, FIONREAD, &unread));
	ENSURE(unread == 7, "FIONREAD says %d bytes, want 7", unread);
	for (int round = 0; round < 2; round++) {
		memset(buf, 0, sizeof buf);
		ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK);
		ENSURE(n == 7 && memcmp(buf, "peek-me", 7) == 0, "MSG_PEEK %d gave %zd \"%.*s\"", round + 1, n,
		       n > 0 ? (int)n : 0, buf);
	}
	memset(buf, 0, sizeof buf);
	ssize_t n = recv(fd, buf, 4, MSG_DONTWAIT);
	ENSURE(n == 4 && memcmp(buf, "peek", 4) == 0, "recv of 4 after peeking gave %zd \"%.4s\"", n, buf);
	n = read(fd, buf, sizeof buf);
	ENSURE(n == 3 && memcmp(buf, "-me", 3) == 0, "read of the rest gave %zd \"%.3s\"", n, buf);
	EXPECT_ERR(recv(fd, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	return NULL;
}

/* writev/readv and sendmsg/recvmsg with two iovecs; recvfrom on TCP. */
static const char *check_vector_io(void)
{
	int fd = open_command("echo");
	TRY(fd);
	char a[5], b[7];
	struct iovec out[2] = {{"hello ", 6}, {"world\n", 6}};
	ENSURE(writev(fd, out, 2) == 12, "writev: %s", errname(errno));
	TRY(wait_unread(fd, 12, IO_TIMEOUT_MS));
	struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
	ssize_t n = readv(fd, in, 2);
	ENSURE(n == 12 && memcmp(a, "hello", 5) == 0 && memcmp(b, " world\n", 7) == 0,
	       "readv gave %zd: \"%.5s\" \"%.7s\"", n, a, b);

	struct iovec parts[2] = {{"send", 4}, {"msg!", 4}};
	struct msghdr msg = {.msg_iov = parts, .msg_iovlen = 2};
	ENSURE(sendmsg(fd, &msg, 0) == 8, "sendmsg: %s", errname(errno));
	TRY(wait_unread(fd, 8, IO_TIMEOUT_MS));
	char c[3], d[5];
	struct iovec into[2] = {{c, sizeof c}, {d, sizeof d}};
	struct sockaddr_in from;
	memset(&from, 0xaa, sizeof from);
	struct msghdr got = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = into, .msg_iovlen = 2};
	n = recvmsg(fd, &got, 0);
	ENSURE(n == 8 && memcmp(c, "sen", 3) == 0 && memcmp(d, "dmsg!", 5) == 0, "recvmsg gave %zd: \"%.3s\" \"%.5s\"",
	       n, c, d);
	ENSURE(got.msg_flags == 0, "recvmsg msg_flags %#x, want 0", got.msg_flags);
	ENSURE(got.msg_namelen == 0, "recvmsg on TCP set msg_namelen %u, want 0 (Linux gives no address)",
	       (unsigned)got.msg_namelen);

	ENSURE(write_all(fd, "from", 4) == 4, "send: %s", errname(errno));
	TRY(wait_unread(fd, 4, IO_TIMEOUT_MS));
	struct sockaddr_in untouched;
	memset(&from, 0xaa, sizeof from);
	memset(&untouched, 0xaa, sizeof untouched);
	socklen_t len = sizeof from;
	n = recvfrom(fd, a, sizeof a, 0, (struct sockaddr *)&from, &len);
	ENSURE(n == 4 && memcmp(a, "from", 4) == 0, "recvfrom gave %zd \"%.4s\"", n, a);
	struct sockaddr_in server = server_addr(ctrl_port);
	ENSURE((len == 0 && memcmp(&from, &untouched, sizeof from) == 0) ||
		       (len == sizeof from && same_addr(&from, &server)),
	       "recvfrom on TCP gave address length %u, %s; want none, or the server's", (unsigned)len,
	       addr_name(&from));
	return NULL;
}

/* SO_RCVTIMEO makes a read of an idle connection fail with EAGAIN after the timeout. */
static const char *check_recv_timeout(void)
{
	int fd = open_command("echo");
	TRY(fd);
	struct timeval tv = {0, 300000}, back = {0};
	socklen_t len = sizeof back;
	TRY(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	TRY(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &back, &len));
	ENSURE(len == sizeof back && back.tv_sec == 0 && back.tv_usec >= 290000 && back.tv_usec <= 310000,
	       "SO_RCVTIMEO reads back as %lld.%06lld s (length %u), want 0.3 s", (long long)back.tv_sec,
	       (long long)back.tv_usec, (unsigned)len);
	char buf[8];
	struct timespec start = now();
	EXPECT_ERR(read(fd, buf, sizeof buf), EAGAIN);
	long ms = elapsed_ms(start);
	ENSURE(ms >= 270 && ms < 3000, "the read timed out after %ld ms, want about 300", ms);
	return NULL;
}

/* The byte at offset `i` of the echo check's stream. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 13 ^ (uint32_t)(i >> 16));
}

/* 1 MiB of a known pattern sent to the echo server comes back intact and in order. */
static const char *check_echo_1mib(void)
{
	enum { TOTAL = 1 << 20, CHUNK = 16384, DEADLINE_MS = 30000 };
	static unsigned char out[CHUNK], in[CHUNK];
	int fd = open_command("echo");
	TRY(fd);
	TRY(fcntl(fd, F_SETFL, O_NONBLOCK));
	size_t sent = 0, got = 0;
	struct timespec start = now();
	for (;;) {
		long left = DEADLINE_MS - elapsed_ms(start);
		ENSURE(left > 0, "timed out: %zu bytes sent, %zu back", sent, got);
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < TOTAL ? POLLOUT : 0)};
		int r = poll(&p, 1, (int)left);
		TRY(r);
		if (p.revents & POLLOUT) {
			size_t n = TOTAL - sent < CHUNK ? TOTAL - sent : CHUNK;
			for (size_t i = 0; i < n; i++)
				out[i] = pattern(sent + i);
			ssize_t w = send(fd, out, n, MSG_NOSIGNAL);
			ENSURE(w > 0 || errno == EAGAIN, "send after %zu bytes: %s", sent, errname(errno));
			sent += w > 0 ? (size_t)w : 0;
			if (sent == TOTAL)
				TRY(shutdown(fd, SHUT_WR));
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, in, sizeof in, 0);
			ENSURE(n >= 0 || errno == EAGAIN, "recv after %zu bytes back: %s", got, errname(errno));
			if (n == 0)
				break;
			for (ssize_t i = 0; i < n; i++)
				ENSURE(in[i] == pattern(got + (size_t)i), "byte %zu came back as %#x, want %#x",
				       got + (size_t)i, in[i], pattern(got + (size_t)i));
			got += n > 0 ? (size_t)n : 0;
			ENSURE(got <= sent, "%zu bytes came back but only %zu were sent", got, sent);
		}
	}
	ENSURE(sent == TOTAL && got == TOTAL, "EOF after %zu of %d bytes back (%zu sent)", got, TOTAL, sent);
	return NULL;
}

const struct check remote_checks[] = {
	{"connect-refused", check_connect_refused},
	{"connect-refused-nonblock", check_connect_refused_nonblock},
	{"connect-nonblock", check_connect_nonblock},
	{"peer-reset", check_peer_reset},
	{"peer-reset-send", check_peer_reset_send},
	{"peer-half-close", check_peer_half_close},
	{"shutdown-write", check_shutdown_write},
	{"recv-nonblock", check_recv_nonblock},
	{"vector-io", check_vector_io},
	{"recv-timeout", check_recv_timeout},
	{"echo-1mib", check_echo_1mib},
};

const int remote_check_count = sizeof remote_checks / sizeof remote_checks[0];
