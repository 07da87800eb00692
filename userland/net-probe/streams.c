/*
 * net-probe checks of readiness and Unix sockets, loopback only: epoll over a listening
 * and a connected TCP socket, Unix stream sockets bound to a name, and socketpair.
 */
#include "probe.h"

#include <stdio.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <unistd.h>

/* Waits up to `ms` for one event on `ep`; returns its events for `fd` (0 if none came). */
static unsigned wait_one(int ep, int fd, int ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, ms);
	for (int i = 0; i < n; i++)
		if (ev[i].data.fd == fd)
			return ev[i].events;
	return 0;
}

/* epoll reports a connection on a listener, data on the accepted socket once per edge
 * (EPOLLET), and the peer's half-close as EPOLLRDHUP. */
const char *check_epoll_sockets(void)
{
	int lfd = tcp_socket(SOCK_NONBLOCK), client = tcp_socket(0), ep = track(epoll_create1(EPOLL_CLOEXEC));
	TRY(lfd);
	TRY(client);
	TRY(ep);
	struct sockaddr_in at = loopback(0);
	TRY(bind(lfd, (struct sockaddr *)&at, sizeof at));
	TRY(listen(lfd, 4));
	at = name_of(lfd);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	TRY(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev));
	ENSURE(wait_one(ep, lfd, 0) == 0, "an idle listener was reported ready");
	TRY(connect(client, (struct sockaddr *)&at, sizeof at));
	ENSURE(wait_one(ep, lfd, 2000) & EPOLLIN, "a pending connection did not make the listener readable");
	int conn = track(accept4(lfd, NULL, NULL, SOCK_NONBLOCK));
	TRY(conn);
	ev = (struct epoll_event){.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = conn};
	TRY(epoll_ctl(ep, EPOLL_CTL_ADD, conn, &ev));
	ENSURE(write(client, "ping", 4) == 4, "write: %s", errname(errno));
	unsigned got = wait_one(ep, conn, 2000);
	ENSURE(got & EPOLLIN, "data did not make the connection readable (events %#x)", got);
	/* Edge-triggered: nothing new has happened, so no second report. */
	ENSURE(wait_one(ep, conn, 0) == 0, "an edge-triggered interest was reported twice for one arrival");
	char buf[8];
	ENSURE(read(conn, buf, sizeof buf) == 4, "read: %s", errname(errno));
	TRY(shutdown(client, SHUT_WR));
	got = wait_one(ep, conn, 2000);
	ENSURE((got & (EPOLLIN | EPOLLRDHUP)) == (EPOLLIN | EPOLLRDHUP),
	       "the peer's half-close gave events %#x, want EPOLLIN|EPOLLRDHUP", got);
	ENSURE(read(conn, buf, sizeof buf) == 0, "read after the peer's FIN did not give end of file");
	return NULL;
}

/* A Unix stream socket at a path (or an abstract name): listen, connect, accept, data
 * both ways, the names each side sees, SO_PEERCRED, and ECONNREFUSED once closed. */
const char *check_unix_stream(void)
{
	for (int abstract = 0; abstract < 2; abstract++) {
		struct sockaddr_un addr = {.sun_family = AF_UNIX};
		snprintf(addr.sun_path + abstract, sizeof addr.sun_path - 1, "/tmp/net-probe-%d.sock", (int)getpid());
		socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract +
					    strlen(addr.sun_path + abstract) + !abstract);
		if (!abstract)
			unlink(addr.sun_path);
		int lfd = track(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)), client = track(socket(AF_UNIX, SOCK_STREAM, 0));
		TRY(lfd);
		TRY(client);
		TRY(bind(lfd, (struct sockaddr *)&addr, len));
		EXPECT_ERR(connect(client, (struct sockaddr *)&addr, len), ECONNREFUSED);
		close(client);
		client = track(socket(AF_UNIX, SOCK_STREAM, 0));
		TRY(listen(lfd, 4));
		TRY(connect(client, (struct sockaddr *)&addr, len));
		int conn = track(accept(lfd, NULL, NULL));
		TRY(conn);
		ENSURE(write(client, "hello", 5) == 5 && write(conn, "there", 5) == 5, "write: %s", errname(errno));
		char buf[8] = {0};
		ENSURE(read(conn, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0, "server read \"%.5s\"", buf);
		ENSURE(read(client, buf, sizeof buf) == 5 && memcmp(buf, "there", 5) == 0, "client read \"%.5s\"", buf);
		struct sockaddr_un seen = {0};
		socklen_t seen_len = sizeof seen;
		TRY(getsockname(lfd, (struct sockaddr *)&seen, &seen_len));
		ENSURE(seen_len == len && memcmp(&seen, &addr, len) == 0, "getsockname of the listener differs (length %u, want %u)",
		       (unsigned)seen_len, (unsigned)len);
		seen_len = sizeof seen;
		TRY(getpeername(client, (struct sockaddr *)&seen, &seen_len));
		ENSURE(seen_len == len && memcmp(&seen, &addr, len) == 0, "getpeername of the client differs");
		struct ucred cred;
		socklen_t cred_len = sizeof cred;
		TRY(getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len));
		ENSURE(cred.pid == getpid(), "SO_PEERCRED gave pid %d, want %d", (int)cred.pid, (int)getpid());
		ENSURE(get_int_opt(conn, SOL_SOCKET, SO_DOMAIN) == AF_UNIX, "SO_DOMAIN is not AF_UNIX");
		TRY(shutdown(client, SHUT_WR));
		ENSURE(read(conn, buf, sizeof buf) == 0, "read after the peer's shutdown did not give end of file");
		close(lfd);
		close(conn);
		close(client);
		close_tracked();
		if (!abstract)
			unlink(addr.sun_path);
		client = track(socket(AF_UNIX, SOCK_STREAM, 0));
		EXPECT_ERR(connect(client, (struct sockaddr *)&addr, len), abstract ? ECONNREFUSED : ENOENT);
	}
	return NULL;
}

/* socketpair: a connected pair; closing one end gives the other end of file, and a write
 * to a closed peer EPIPE (with MSG_NOSIGNAL, no signal). */
const char *check_socketpair(void)
{
	int sv[2];
	TRY(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	track(sv[0]);
	track(sv[1]);
	char buf[8];
	EXPECT_ERR(read(sv[0], buf, sizeof buf), EAGAIN);
	ENSURE(write(sv[1], "abc", 3) == 3, "write: %s", errname(errno));
	ENSURE(read(sv[0], buf, sizeof buf) == 3, "read: %s", errname(errno));
	int other[2];
	EXPECT_ERR(socketpair(AF_INET, SOCK_STREAM, 0, other), EOPNOTSUPP);
	close(sv[1]);
	ENSURE(read(sv[0], buf, sizeof buf) == 0, "read after the peer closed did not give end of file");
	int before = sigpipes;
	EXPECT_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	ENSURE(sigpipes == before, "MSG_NOSIGNAL still raised SIGPIPE");
	return NULL;
}
