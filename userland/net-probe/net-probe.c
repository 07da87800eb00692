/*
 * net-probe: checks that sockets give Linux's results and errno values.
 *
 * Usage: net-probe [--only NAME] HOST CTRL_PORT CLOSED_PORT
 *        net-probe --list
 *        net-probe fetch NAME PORT PATH   (fetch.c)
 *
 * HOST runs the test server (berth's tests crate, `netserver.rs`) on CTRL_PORT, and
 * nothing listens on CLOSED_PORT. Runs every check (remote.c against the server, local.c
 * on 127.0.0.1 only) and prints one line per check, `PASS <name>` or `FAIL <name>:
 * <detail>`, then `net-probe: N passed, M failed`, and exits 0 only if every check
 * passed (2 for a bad command line). Every expectation was checked on Linux.
 *
 * Each check has its own sockets, closed after it whatever happened, and every socket
 * has 5 s I/O timeouts. The checks run in a child process watched by the parent: if a
 * check is still running after CHECK_SECONDS, or the child dies, the parent prints a FAIL
 * line for that check and `net-probe: stopped by the watchdog` and exits 1. (Not the other
 * way round, a child watching the probe: Linux ignores SIGKILL sent to a pid namespace's
 * init from inside it. Not `alarm` either: it needs setitimer, which a young kernel may lack.)
 *
 * Build: musl-gcc -static -O2 -Wall -Wextra -Werror -o net-probe *.c
 */
#include "probe.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The longest one check may run before the watchdog ends the program. */
enum { CHECK_SECONDS = 60 };

/* One message from the checks to the watchdog: the running check's name, "" between checks. */
struct running {
	char name[64];
};

/* The pipe the checks report to the watchdog on (-1 in the watchdog itself). */
static int watchdog_pipe = -1;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* Tells the watchdog which check runs now ("" for none). A dead watchdog is no error. */
static void announce(const char *name)
{
	struct running r = {{0}};
	snprintf(r.name, sizeof r.name, "%s", name);
	if (write(watchdog_pipe, &r, sizeof r) != sizeof r)
		return;
}

/* Runs one check and prints its line; returns 1 if it passed. */
static int run_one(const struct check *c)
{
	announce(c->name);
	const char *problem = c->run();
	close_tracked();
	announce("");
	if (problem)
		printf("FAIL %s: %s\n", c->name, problem);
	else
		printf("PASS %s\n", c->name);
	fflush(stdout);
	return problem == NULL;
}

/* Runs the checks named `only` (all if NULL) and prints the summary; the exit status. */
static int run_checks(const char *only)
{
	const struct {
		const struct check *checks;
		int count;
	} groups[] = {{remote_checks, remote_check_count}, {local_checks, local_check_count}};
	struct sigaction sa = {0};
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigpipe;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		fprintf(stderr, "net-probe: cannot count SIGPIPE: %s\n", errname(errno));
		return 1;
	}
	int passed = 0, failed = 0;
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (int i = 0; i < groups[g].count; i++) {
			if (only && strcmp(only, groups[g].checks[i].name) != 0)
				continue;
			if (run_one(&groups[g].checks[i]))
				passed++;
			else
				failed++;
		}
	printf("net-probe: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

/* Waits for `pid` and returns its raw wait status, or -1. */
static int wait_status(pid_t pid)
{
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	return got == pid ? status : -1;
}

/* Follows the checks in `child` through `in`; ends them if one hangs. The exit status. */
static int watch(pid_t child, int in)
{
	struct running now = {{0}};
	for (;;) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		int r = poll(&p, 1, now.name[0] ? CHECK_SECONDS * 1000 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			printf("FAIL %s: watchdog: no result after %d s, the check hung\n", now.name, CHECK_SECONDS);
			printf("net-probe: stopped by the watchdog\n");
			fflush(stdout);
			kill(child, SIGKILL);
			wait_status(child);
			return 1;
		}
		if (r < 0 || read(in, &now, sizeof now) != sizeof now)
			break; /* EOF: the checks are done (or gone) */
		now.name[sizeof now.name - 1] = 0;
	}
	int status = wait_status(child);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (now.name[0])
		printf("FAIL %s: watchdog: the checks died (wait status %#x)\n", now.name, (unsigned)status);
	printf("net-probe: stopped by the watchdog: the checks died (wait status %#x)\n", (unsigned)status);
	return 1;
}

/* Runs the checks in a child process under the watchdog; the exit status. */
static int run(const char *only)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "net-probe: pipe: %s\n", errname(errno));
		return 1;
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		fprintf(stderr, "net-probe: fork: %s\n", errname(errno));
		return 1;
	}
	if (child == 0) {
		close(fds[0]);
		watchdog_pipe = fds[1];
		int status = run_checks(only);
		fflush(NULL);
		_exit(status);
	}
	close(fds[1]);
	return watch(child, fds[0]);
}

/* Whether `name` is a check. */
static int known(const char *name)
{
	for (int i = 0; i < remote_check_count; i++)
		if (strcmp(name, remote_checks[i].name) == 0)
			return 1;
	for (int i = 0; i < local_check_count; i++)
		if (strcmp(name, local_checks[i].name) == 0)
			return 1;
	return 0;
}

/* Parses a port number 1-65535 into `port`; returns 0, or -1. */
static int parse_port(const char *text, unsigned short *port)
{
	char *end;
	long value = strtol(text, &end, 10);
	if (*text == 0 || *end != 0 || value < 1 || value > 65535)
		return -1;
	*port = (unsigned short)value;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: net-probe [--only NAME] HOST CTRL_PORT CLOSED_PORT\n       net-probe --list\n"
			"       net-probe fetch NAME PORT PATH\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	if (argc == 5 && strcmp(argv[1], "fetch") == 0)
		return fetch_mode(argv[2], argv[3], argv[4]);
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < remote_check_count; i++)
			puts(remote_checks[i].name);
		for (int i = 0; i < local_check_count; i++)
			puts(local_checks[i].name);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "--only") == 0) {
		only = argv[2];
		if (!known(only)) {
			fprintf(stderr, "net-probe: no check named \"%s\" (see --list)\n", only);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 4)
		return usage();
	if (inet_pton(AF_INET, argv[1], &server_host) != 1) {
		fprintf(stderr, "net-probe: HOST must be an IPv4 address, not \"%s\"\n", argv[1]);
		return usage();
	}
	if (parse_port(argv[2], &ctrl_port) < 0 || parse_port(argv[3], &closed_port) < 0) {
		fprintf(stderr, "net-probe: ports must be numbers from 1 to 65535\n");
		return usage();
	}
	return run(only);
}
