/*
 * net-probe checks that need no server: TCP and UDP on 127.0.0.1 within this process,
 * socket creation flags, options, and the errors for bad arguments.
 */
#include "probe.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Binds `fd` to 127.0.0.1 on a free port and returns the address (port 0 on failure). */
static struct sockaddr_in bind_loopback(int fd)
{
	struct sockaddr_in any = loopback(0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof any) < 0)
		return any;
	return name_of(fd);
}

/* A TCP listener on 127.0.0.1 (type flags added) and its address (port 0 on failure). */
static int listener(int flags, struct sockaddr_in *addr)
{
	int fd = tcp_socket(flags);
	*addr = bind_loopback(fd);
	if (fd < 0 || addr->sin_port == 0 || listen(fd, 8) < 0)
		return -1;
	return fd;
}

/* A second bind to a port in use is EADDRINUSE; binding a bound socket again is EINVAL. */
static const char *check_bind_in_use(void)
{
	int a = tcp_socket(0), b = tcp_socket(0);
	TRY(a);
	TRY(b);
	struct sockaddr_in first = bind_loopback(a);
	ENSURE(first.sin_port != 0, "bind to 127.0.0.1:0: %s", errname(errno));
	EXPECT_ERR(bind(b, (struct sockaddr *)&first, sizeof first), EADDRINUSE);
	struct sockaddr_in other = loopback(0);
	EXPECT_ERR(bind(a, (struct sockaddr *)&other, sizeof other), EINVAL);
	TRY(listen(a, 1));
	EXPECT_ERR(bind(b, (struct sockaddr *)&first, sizeof first), EADDRINUSE);
	return NULL;
}

/* listen/connect/accept on 127.0.0.1: the four addresses agree and data flows both ways. */
static const char *check_accept(void)
{
	struct sockaddr_in at;
	int l = listener(0, &at);
	TRY(l);
	int c = tcp_socket(0);
	TRY(c);
	TRY(connect(c, (struct sockaddr *)&at, sizeof at));
	struct sockaddr_in from = {0};
	socklen_t len = sizeof from;
	int s = track(accept(l, (struct sockaddr *)&from, &len));
	TRY(s);
	struct sockaddr_in client = name_of(c), client_peer = peer_of(c);
	struct sockaddr_in server = name_of(s), server_peer = peer_of(s);
	ENSURE(len == sizeof from && same_addr(&from, &client), "accept gave %s, the client is %s",
	       addr_name(&from), addr_name(&client));
	ENSURE(same_addr(&server_peer, &client), "the accepted socket's peer is %s, the client is %s",
	       addr_name(&server_peer), addr_name(&client));
	ENSURE(same_addr(&server, &at), "the accepted socket's name is %s, want %s", addr_name(&server),
	       addr_name(&at));
	ENSURE(same_addr(&client_peer, &at), "the client's peer is %s, want %s", addr_name(&client_peer),
	       addr_name(&at));
	char buf[8] = {0};
	ENSURE(write_all(c, "ping", 4) == 4 && recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0,
	       "client to server: \"%.4s\" (%s)", buf, errname(errno));
	ENSURE(write_all(s, "pong", 4) == 4 && recv(c, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0,
	       "server to client: \"%.4s\" (%s)", buf, errname(errno));
	TRY(shutdown(c, SHUT_WR));
	ssize_t n = recv(s, buf, sizeof buf, 0);
	ENSURE(n == 0, "the server read %zd (%s) after the client's shutdown, want 0", n, errname(errno));
	return NULL;
}

/* connect to a port that is bound but not listening is ECONNREFUSED. */
static const char *check_refused(void)
{
	int reserved = tcp_socket(0), c = tcp_socket(0);
	TRY(reserved);
	TRY(c);
	struct sockaddr_in at = bind_loopback(reserved);
	ENSURE(at.sin_port != 0, "bind: %s", errname(errno));
	EXPECT_ERR(connect(c, (struct sockaddr *)&at, sizeof at), ECONNREFUSED);
	return NULL;
}

/* SOCK_NONBLOCK and SOCK_CLOEXEC show in F_GETFL and F_GETFD; F_SETFL O_NONBLOCK sticks. */
static const char *check_socket_flags(void)
{
	int both = tcp_socket(SOCK_NONBLOCK | SOCK_CLOEXEC), plain = tcp_socket(0);
	TRY(both);
	TRY(plain);
	ENSURE(fcntl(both, F_GETFL) & O_NONBLOCK, "SOCK_NONBLOCK: F_GETFL %#x lacks O_NONBLOCK", fcntl(both, F_GETFL));
	ENSURE(fcntl(both, F_GETFD) == FD_CLOEXEC, "SOCK_CLOEXEC: F_GETFD is %d", fcntl(both, F_GETFD));
	ENSURE((fcntl(plain, F_GETFL) & O_NONBLOCK) == 0, "a plain socket is non-blocking");
	ENSURE(fcntl(plain, F_GETFD) == 0, "a plain socket has F_GETFD %d", fcntl(plain, F_GETFD));
	ENSURE((fcntl(plain, F_GETFL) & O_ACCMODE) == O_RDWR, "a socket's access mode is not O_RDWR");
	TRY(fcntl(plain, F_SETFL, O_NONBLOCK));
	ENSURE(fcntl(plain, F_GETFL) & O_NONBLOCK, "F_SETFL O_NONBLOCK did not stick");
	char c;
	EXPECT_ERR(recv(plain, &c, 1, 0), ENOTCONN);
	return NULL;
}

/* accept on an empty non-blocking listener is EAGAIN; accept4 flags; plain accept inherits none. */
static const char *check_accept_nonblock(void)
{
	struct sockaddr_in at;
	int l = listener(SOCK_NONBLOCK, &at);
	TRY(l);
	EXPECT_ERR(accept(l, NULL, NULL), EAGAIN);
	int c1 = tcp_socket(0), c2 = tcp_socket(0);
	TRY(c1);
	TRY(c2);
	TRY(connect(c1, (struct sockaddr *)&at, sizeof at));
	int rev = wait_events(l, POLLIN, IO_TIMEOUT_MS);
	ENSURE(rev == POLLIN, "poll of the listener gave %s, want POLLIN", rev < 0 ? errname(errno) : events_name(rev));
	/* Raw: musl's accept4 retries a refused call as accept, hiding the kernel's EINVAL. */
	EXPECT_ERR(syscall(SYS_accept4, l, NULL, NULL, 0x4000000), EINVAL);
	int s1 = track(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
	TRY(s1);
	ENSURE(fcntl(s1, F_GETFL) & O_NONBLOCK, "accept4 SOCK_NONBLOCK: F_GETFL lacks O_NONBLOCK");
	ENSURE(fcntl(s1, F_GETFD) == FD_CLOEXEC, "accept4 SOCK_CLOEXEC: F_GETFD is %d", fcntl(s1, F_GETFD));
	char c;
	EXPECT_ERR(recv(s1, &c, 1, 0), EAGAIN);
	TRY(connect(c2, (struct sockaddr *)&at, sizeof at));
	ENSURE(wait_events(l, POLLIN, IO_TIMEOUT_MS) == POLLIN, "the second connection never showed");
	int s2 = track(accept(l, NULL, NULL));
	TRY(s2);
	ENSURE((fcntl(s2, F_GETFL) & O_NONBLOCK) == 0, "accept made a non-blocking socket (Linux does not inherit)");
	ENSURE(fcntl(s2, F_GETFD) == 0, "accept set FD_CLOEXEC");
	return NULL;
}

/* Boolean options read back as 0/1, buffer sizes, SO_TYPE, and unknown options. */
static const char *check_sockopts(void)
{
	static const struct {
		int level, name;
		const char *label;
	} flags[] = {
		{SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"},
		{SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"},
		{IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"},
	};
	int fd = tcp_socket(0), udp = udp_socket();
	TRY(fd);
	TRY(udp);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		int five = 5, zero = 0, v;
		v = get_int_opt(fd, flags[i].level, flags[i].name);
		ENSURE(v == 0, "%s starts as %d (%s), want 0", flags[i].label, v, errname(errno));
		TRY(setsockopt(fd, flags[i].level, flags[i].name, &five, sizeof five));
		v = get_int_opt(fd, flags[i].level, flags[i].name);
		ENSURE(v == 1, "%s set to 5 reads back as %d, want 1", flags[i].label, v);
		TRY(setsockopt(fd, flags[i].level, flags[i].name, &zero, sizeof zero));
		v = get_int_opt(fd, flags[i].level, flags[i].name);
		ENSURE(v == 0, "%s set to 0 reads back as %d", flags[i].label, v);
	}
	int rcv = get_int_opt(fd, SOL_SOCKET, SO_RCVBUF), snd = get_int_opt(fd, SOL_SOCKET, SO_SNDBUF);
	ENSURE(rcv > 0 && snd > 0, "SO_RCVBUF %d, SO_SNDBUF %d, want both positive", rcv, snd);
	int type = get_int_opt(fd, SOL_SOCKET, SO_TYPE), dgram = get_int_opt(udp, SOL_SOCKET, SO_TYPE);
	ENSURE(type == SOCK_STREAM && dgram == SOCK_DGRAM, "SO_TYPE %d and %d, want SOCK_STREAM and SOCK_DGRAM", type,
	       dgram);
	ENSURE(so_error(fd) == 0, "SO_ERROR of a new socket is not 0");
	int v, one = 1;
	socklen_t len = sizeof v;
	EXPECT_ERR(getsockopt(fd, SOL_SOCKET, 12345, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(getsockopt(fd, IPPROTO_TCP, 12345, &v, &len), ENOPROTOOPT);
	EXPECT_ERR(setsockopt(fd, SOL_SOCKET, 12345, &one, sizeof one), ENOPROTOOPT);
	EXPECT_ERR(setsockopt(fd, IPPROTO_TCP, 12345, &one, sizeof one), ENOPROTOOPT);
	EXPECT_ERR(getsockopt(fd, 12345, 1, &v, &len), EOPNOTSUPP);
	return NULL;
}

/* socket() with an unknown family, type or protocol. */
static const char *check_bad_socket(void)
{
	EXPECT_ERR(track(socket(12345, SOCK_STREAM, 0)), EAFNOSUPPORT);
	EXPECT_ERR(track(socket(AF_INET, 12345, 0)), EINVAL);
	EXPECT_ERR(track(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)), EPROTONOSUPPORT);
	EXPECT_ERR(track(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)), EPROTONOSUPPORT);
	return NULL;
}

/* Socket calls on a pipe are ENOTSOCK. */
static const char *check_not_socket(void)
{
	int fds[2];
	TRY(pipe(fds));
	track(fds[0]);
	track(fds[1]);
	int fd = fds[1], v;
	struct sockaddr_in a = loopback(1);
	socklen_t len = sizeof a;
	socklen_t vlen = sizeof v;
	EXPECT_ERR(bind(fd, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
	EXPECT_ERR(connect(fd, (struct sockaddr *)&a, sizeof a), ENOTSOCK);
	EXPECT_ERR(listen(fd, 1), ENOTSOCK);
	EXPECT_ERR(accept(fds[0], NULL, NULL), ENOTSOCK);
	EXPECT_ERR(getsockname(fd, (struct sockaddr *)&a, &len), ENOTSOCK);
	EXPECT_ERR(getpeername(fd, (struct sockaddr *)&a, &len), ENOTSOCK);
	EXPECT_ERR(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vlen), ENOTSOCK);
	EXPECT_ERR(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v), ENOTSOCK);
	EXPECT_ERR(shutdown(fd, SHUT_RDWR), ENOTSOCK);
	EXPECT_ERR(send(fd, "x", 1, MSG_NOSIGNAL), ENOTSOCK);
	EXPECT_ERR(recv(fds[0], &v, 1, MSG_DONTWAIT), ENOTSOCK);
	return NULL;
}

/* An unconnected TCP socket: send is EPIPE (SIGPIPE without MSG_NOSIGNAL), the rest ENOTCONN. */
static const char *check_unconnected(void)
{
	int fd = tcp_socket(0);
	TRY(fd);
	char c;
	int before = sigpipes;
	EXPECT_ERR(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE);
	ENSURE(sigpipes == before, "send with MSG_NOSIGNAL raised SIGPIPE");
	EXPECT_ERR(write(fd, "x", 1), EPIPE);
	ENSURE(sigpipes == before + 1, "write raised %d SIGPIPEs, want 1", (int)(sigpipes - before));
	EXPECT_ERR(recv(fd, &c, 1, 0), ENOTCONN);
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	EXPECT_ERR(getpeername(fd, (struct sockaddr *)&a, &len), ENOTCONN);
	EXPECT_ERR(shutdown(fd, SHUT_RDWR), ENOTCONN);
	TRY(getsockname(fd, (struct sockaddr *)&a, &len));
	ENSURE(len == sizeof a && a.sin_family == AF_INET && a.sin_port == 0 && a.sin_addr.s_addr == 0,
	       "getsockname of an unbound socket gave %s (length %u), want 0.0.0.0:0", addr_name(&a), (unsigned)len);
	return NULL;
}

/* Two UDP sockets exchange datagrams; sources are right; an empty datagram arrives as one. */
static const char *check_udp(void)
{
	int a = udp_socket(), b = udp_socket();
	TRY(a);
	TRY(b);
	struct sockaddr_in at_a = bind_loopback(a), at_b = bind_loopback(b);
	ENSURE(at_a.sin_port != 0 && at_b.sin_port != 0, "bind: %s", errname(errno));
	ENSURE(sendto(a, "datagram", 8, 0, (struct sockaddr *)&at_b, sizeof at_b) == 8, "sendto: %s",
	       errname(errno));
	char buf[32] = {0};
	struct sockaddr_in from = {0};
	socklen_t len = sizeof from;
	ssize_t n = recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
	ENSURE(n == 8 && memcmp(buf, "datagram", 8) == 0, "recvfrom gave %zd \"%.8s\" (%s)", n, buf, errname(errno));
	ENSURE(len == sizeof from && same_addr(&from, &at_a), "the datagram came from %s, sent from %s",
	       addr_name(&from), addr_name(&at_a));
	ENSURE(sendto(b, "", 0, 0, (struct sockaddr *)&from, len) == 0, "empty sendto: %s", errname(errno));
	n = recv(a, buf, sizeof buf, 0);
	ENSURE(n == 0, "an empty datagram was received as %zd (%s), want 0", n, errname(errno));
	EXPECT_ERR(send(a, "x", 1, 0), EDESTADDRREQ);
	TRY(connect(a, (struct sockaddr *)&at_b, sizeof at_b));
	struct sockaddr_in peer = peer_of(a);
	ENSURE(same_addr(&peer, &at_b), "a connected UDP socket's peer is %s, want %s", addr_name(&peer),
	       addr_name(&at_b));
	ENSURE(send(a, "connected", 9, 0) == 9, "send on a connected UDP socket: %s", errname(errno));
	n = recv(b, buf, sizeof buf, 0);
	ENSURE(n == 9 && memcmp(buf, "connected", 9) == 0, "recv gave %zd \"%.9s\"", n, buf);
	EXPECT_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
	return NULL;
}

/* A datagram longer than the buffer is truncated, the rest dropped, MSG_TRUNC reported. */
static const char *check_udp_truncate(void)
{
	int a = udp_socket(), b = udp_socket();
	TRY(a);
	TRY(b);
	struct sockaddr_in at_b = bind_loopback(b);
	ENSURE(at_b.sin_port != 0, "bind: %s", errname(errno));
	char big[100], small[10];
	for (int i = 0; i < 100; i++)
		big[i] = (char)('a' + i % 26);
	for (int round = 0; round < 2; round++)
		ENSURE(sendto(a, big, sizeof big, 0, (struct sockaddr *)&at_b, sizeof at_b) == sizeof big, "sendto: %s",
		       errname(errno));
	struct iovec iov = {small, sizeof small};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(b, &msg, 0);
	ENSURE(n == 10 && memcmp(small, big, 10) == 0, "recvmsg into 10 bytes gave %zd", n);
	ENSURE(msg.msg_flags & MSG_TRUNC, "recvmsg of a truncated datagram: msg_flags %#x lacks MSG_TRUNC",
	       msg.msg_flags);
	n = recv(b, small, sizeof small, MSG_TRUNC);
	ENSURE(n == 100 && memcmp(small, big, 10) == 0, "recv with MSG_TRUNC gave %zd, want the real length 100", n);
	EXPECT_ERR(recv(b, small, sizeof small, MSG_DONTWAIT), EAGAIN);
	return NULL;
}

const struct check local_checks[] = {
	{"local-bind-in-use", check_bind_in_use},
	{"local-accept", check_accept},
	{"local-refused", check_refused},
	{"local-socket-flags", check_socket_flags},
	{"local-accept-nonblock", check_accept_nonblock},
	{"local-sockopts", check_sockopts},
	{"local-bad-socket", check_bad_socket},
	{"local-not-socket", check_not_socket},
	{"local-unconnected", check_unconnected},
	{"local-udp", check_udp},
	{"local-udp-truncate", check_udp_truncate},
	{"local-epoll", check_epoll_sockets},
	{"local-unix-stream", check_unix_stream},
	{"local-socketpair", check_socketpair},
};

const int local_check_count = sizeof local_checks / sizeof local_checks[0];
