/*
 * fuzz: random system calls with random arguments, to find what brings a kernel down.
 *
 *   fuzz [-t SECONDS] [-s SEED] [-w WORKERS] [-q]
 *   fuzz replay SEED [CALLS]
 *
 * It must run as a container's first process (pid 1): it kills its strays with
 * kill(-1, SIGKILL), which anywhere else would reach the rest of the machine, and it
 * relies on pid 1 being safe from its own children's signals. Never run it on a host.
 *
 * The supervisor (pid 1) keeps WORKERS children fuzzing (default 4) for SECONDS
 * (default 60). Each worker gets a seed of its own, opens a few files of every kind,
 * and makes system calls numbered 0-460 (now and then any number) whose arguments mix
 * small numbers, -1, huge values, powers of two, valid and invalid pointers, open
 * descriptors and path names. A fork that succeeds leaves two fuzzers: the child
 * reseeds and goes on. A worker whose calls (its descendants' included) stand still
 * for 100 ms is killed and replaced; every second the supervisor kills every other
 * process in the container (strays) and starts fresh workers.
 *
 * Before each call a worker writes it to standard output (kept as descriptor 1000,
 * where the fuzzed calls rarely reach): `<seed> #<n> <nr>(<args>)`. The supervisor
 * reports on standard error (so a container can echo that alone): without -q
 * `fuzz: N calls, T s` every 10 s, and at the end always
 * `fuzz: done, N calls in T s by K workers (seed S)`; then it exits 0.
 *
 * `fuzz replay SEED` runs one worker's sequence in the foreground (still as pid 1).
 *
 * Build: musl-gcc -static -O2 -Wall -Wextra -Werror -o fuzz fuzz.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_FD 1000
#define HIGHEST_NR 460
#define ROUND_MS 1000
#define BUFFER_SIZE (64 * 1024)

#define MAX_WORKERS 64
#define STALL_MS 100

/* What the supervisor and every worker share (a MAP_SHARED page). */
struct shared {
	volatile uint64_t calls;
	/* Calls made by each worker and its descendants: the supervisor kills a worker
	 * whose count stands still (a call that blocks). */
	volatile uint64_t progress[MAX_WORKERS];
};

static struct shared *shared;
static unsigned char *buffer; /* what valid pointers point into */
static int fds[16];
static int nfds;
static uint64_t rng;
static uint64_t seed;
static int slot; /* this worker's index in shared->progress */

static const char *paths[] = {
	"/tmp/fuzz-file", "/tmp", "/", ".", "..", "/proc/self/maps", "/proc/self/status", "/dev/null",
	"/dev/zero", "/nonexistent", "", "/tmp/fuzz-dir/a/b", "/bin/busybox", "/etc/passwd", "/tmp/fuzz-link",
	"/proc/self/fd/0", "/dev/tty", "/tmp/fuzz-sock",
};

static const uint64_t bad_pointers[] = {
	0, 1, 0xfff, 0x1000, 0xdead000, 0x7ffffffff000, 0x7fffffffffff, 0x800000000000,
	0xffff800000000000, 0xffffffff80000000, 0xffffffffffffffff, 0xffffffffffffe000,
};

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void reseed(uint64_t s)
{
	seed = s;
	rng = s * 0x9e3779b97f4a7c15ULL + 1;
	for (int i = 0; i < 4; i++)
		next();
}

static long raw_syscall(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* One argument, from a mix of what kernels get wrong. */
static uint64_t argument(void)
{
	switch (next() % 13) {
	case 0: return next() % 16;
	case 1: return (uint64_t)-1;
	case 2: return next();
	case 3: return 1ULL << (next() % 64);
	case 4: return (uint64_t)(buffer + next() % BUFFER_SIZE);
	case 5: return (uint64_t)buffer;
	case 6: return bad_pointers[next() % (sizeof bad_pointers / sizeof *bad_pointers)];
	case 7: return nfds ? (uint64_t)fds[next() % nfds] : 0;
	case 8: return (uint64_t)paths[next() % (sizeof paths / sizeof *paths)];
	case 9: return 4096 * (next() % 64);
	case 10: return next() & 0xffffffff;
	case 11: return (uint64_t)(int64_t)((int)(next() % 200) - 100);
	default: return (uint64_t)(buffer + BUFFER_SIZE - 8 * (1 + next() % 8)); /* near the end */
	}
}

static void interrupt_blocking_calls(void);

static void add_fd(int fd)
{
	if (fd >= 0 && nfds < (int)(sizeof fds / sizeof *fds))
		fds[nfds++] = fd;
}

/* Opens one descriptor of each kind the calls can then work on. */
static void open_files(void)
{
	int pair[2];
	nfds = 0;
	add_fd(open("/tmp/fuzz-file", O_RDWR | O_CREAT, 0644));
	add_fd(open("/", O_RDONLY | O_DIRECTORY));
	add_fd(open("/dev/null", O_RDWR));
	if (pipe(pair) == 0) {
		add_fd(pair[0]);
		add_fd(pair[1]);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0) {
		add_fd(pair[0]);
		add_fd(pair[1]);
	}
	add_fd(socket(AF_INET, SOCK_STREAM, 0));
	add_fd(socket(AF_INET, SOCK_DGRAM, 0));
	add_fd(eventfd(0, 0));
	add_fd(epoll_create1(0));
	for (int i = 0; i < 3; i++)
		add_fd(i);
	for (int i = 0; i < nfds; i++)
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * A timer interrupts calls that would block (a read of an empty pipe, a long sleep)
 * every 20 ms, so a worker keeps calling; a call that cannot be interrupted waits
 * for the supervisor's next round.
 */
static void interrupt_blocking_calls(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval every = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &every, NULL);
}

/* Makes `calls` calls (forever if 0), logging each first. */
static void fuzz(uint64_t calls)
{
	char line[256];
	for (uint64_t n = 0; calls == 0 || n < calls; n++) {
		if (n % 256 == 0)
			for (int i = 0; i < BUFFER_SIZE; i += 8)
				*(uint64_t *)(buffer + i) = next() % 4 ? next() : 0;
		long nr = next() % 64 ? (long)(next() % (HIGHEST_NR + 1)) : (long)next();
		uint64_t a[6];
		for (int i = 0; i < 6; i++)
			a[i] = argument();
		int len = snprintf(line, sizeof line, "%llu #%llu %ld(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n",
				   (unsigned long long)seed, (unsigned long long)n, nr, (unsigned long long)a[0],
				   (unsigned long long)a[1], (unsigned long long)a[2], (unsigned long long)a[3],
				   (unsigned long long)a[4], (unsigned long long)a[5]);
		raw_syscall(SYS_write, LOG_FD, (long)line, len, 0, 0, 0);
		__atomic_fetch_add(&shared->calls, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&shared->progress[slot], 1, __ATOMIC_RELAXED);
		long ret = raw_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		int forked = nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3;
		if (forked && ret == 0) {
			/* A child: a fuzzer of its own (timers are not inherited). */
			reseed(seed * 31 + n + 1);
			interrupt_blocking_calls();
		}
	}
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static pid_t start_worker(int index, uint64_t worker_seed)
{
	pid_t pid = fork();
	if (pid == 0) {
		slot = index;
		reseed(worker_seed);
		open_files();
		interrupt_blocking_calls();
		fuzz(0);
		_exit(0);
	}
	return pid;
}

/* Kills every process but this one (pid 1) and reaps them all. */
static void kill_all(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
}

static int usage(void)
{
	fprintf(stderr, "usage: fuzz [-t SECONDS] [-s SEED] [-w WORKERS] [-q] | fuzz replay SEED [CALLS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t seconds = 60, base = 0, workers = 4, replay_calls = 0;
	int quiet = 0, replay = 0;
	for (int i = 1; i < argc; i++) {
		char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "-q")) {
			quiet = 1;
		} else if (!strcmp(argv[i], "replay") && v) {
			replay = 1;
			base = strtoull(v, NULL, 0);
			i++;
			if (i + 1 < argc)
				replay_calls = strtoull(argv[++i], NULL, 0);
		} else if (v && (!strcmp(argv[i], "-t") || !strcmp(argv[i], "-s") || !strcmp(argv[i], "-w"))) {
			uint64_t n = strtoull(v, NULL, 0);
			*(argv[i][1] == 't' ? &seconds : argv[i][1] == 's' ? &base : &workers) = n;
			i++;
		} else {
			return usage();
		}
	}
	if (getpid() != 1) {
		fprintf(stderr, "fuzz: must run as a container's first process (pid 1)\n");
		return 2;
	}
	if (dup2(1, LOG_FD) < 0) {
		perror("fuzz: dup2");
		return 1;
	}
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/* The buffer has an inaccessible page on each side, so a call writing past it
	 * faults instead of reaching the shared page. */
	buffer = mmap(NULL, BUFFER_SIZE + 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || buffer == MAP_FAILED ||
	    mprotect(buffer + 4096, BUFFER_SIZE, PROT_READ | PROT_WRITE) < 0) {
		perror("fuzz: mmap");
		return 1;
	}
	buffer += 4096;
	if (!base)
		base = now_ms() ^ ((uint64_t)time(NULL) << 20);
	mkdir("/tmp/fuzz-dir", 0755);
	symlink("/tmp/fuzz-file", "/tmp/fuzz-link");
	if (replay) {
		reseed(base);
		open_files();
		interrupt_blocking_calls();
		fuzz(replay_calls);
		return 0;
	}
	fprintf(stderr, "\nfuzz: seed %llu, %llu workers, %llu s\n", (unsigned long long)base,
		(unsigned long long)workers, (unsigned long long)seconds);

	uint64_t start = now_ms(), round = start, report = start, started = 0;
	pid_t live[MAX_WORKERS] = {0};
	uint64_t seen[MAX_WORKERS] = {0}, moved[MAX_WORKERS] = {0};
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	while (now_ms() - start < seconds * 1000) {
		uint64_t now = now_ms();
		for (uint64_t w = 0; w < workers; w++) {
			if (live[w] > 0 && waitpid(live[w], NULL, WNOHANG | __WALL) == 0) {
				if (shared->progress[w] != seen[w]) {
					seen[w] = shared->progress[w];
					moved[w] = now;
				} else if (now - moved[w] > STALL_MS) {
					kill(live[w], SIGKILL); /* stuck in a call: reaped next time */
				}
				continue;
			}
			live[w] = start_worker((int)w, base * 1000003 + started++);
			seen[w] = shared->progress[w];
			moved[w] = now;
		}
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			; /* strays reparented to us */
		usleep(10000);
		if (now_ms() - round >= ROUND_MS) {
			kill_all();
			memset(live, 0, sizeof live);
			round = now_ms();
		}
		if (!quiet && now_ms() - report >= 10000) {
			report = now_ms();
			fprintf(stderr, "\nfuzz: %llu calls, %llu s\n", (unsigned long long)shared->calls,
				(unsigned long long)(report - start) / 1000);
		}
	}
	kill_all();
	fprintf(stderr, "\nfuzz: done, %llu calls in %llu s by %llu workers (seed %llu)\n",
		(unsigned long long)shared->calls, (unsigned long long)(now_ms() - start) / 1000,
		(unsigned long long)started, (unsigned long long)base);
	return 0;
}
