/*
 * crash: deliberately misbehaving programs for berth's isolation tests.
 *
 * `crash MODE [ARG]`; see usage() for the modes. The faulting modes must kill only
 * this process; the others must be contained (errors, not crashes) by the kernel.
 *
 * Build: musl-gcc -static -O2 -o crash crash.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: crash MODE\n"
			"  null              read through a NULL pointer (dies by SIGSEGV)\n"
			"  kernel-write      write to 0xffffffff80200000 (dies by SIGSEGV)\n"
			"  illegal           execute ud2 (dies by SIGILL)\n"
			"  divide            integer divide by zero (dies by SIGFPE)\n"
			"  syscall-garbage   system calls with bad pointers and arguments; exits 0 if all\n"
			"                    failed with Linux's errno\n"
			"  oom [MAX_MIB]     malloc and touch 1 MiB chunks until malloc fails\n"
			"  oom-touch         touch 1 GiB reserved with MAP_NORESERVE (killed under a limit)\n"
			"  spin              loop forever\n"
			"  fork-bomb [MAX]   fork children that pause until fork fails (or MAX children),\n"
			"                    then kill them and exit 0\n"
			"  exit N            exit with status N\n"
			"  print-loop N      print `tick 1` .. `tick N`, one every 100 ms\n"
			"  bad-frame KIND    return from a signal handler into something invalid: KIND is\n"
			"                    handler (a non-canonical handler address), rip (a forged\n"
			"                    non-canonical return address) or mxcsr (reserved MXCSR bits);\n"
			"                    dies by SIGSEGV, as on Linux\n"
			"  hog KIND          work the kernel hard: sendfile (2 GiB from /dev/zero to\n"
			"                    /dev/null in one call) or itimer (20 processes with 1 us\n"
			"                    interval timers for 2 s); exits 0 when done. Or make it\n"
			"                    hold memory until refused (forks stop 2 MiB short of the\n"
			"                    limit), print `hog: KIND holding N (ERRNO)`\n"
			"                    and hold it 3 s: fork (sleeping children), sockets (full\n"
			"                    socket pairs), pipes (full pipes), maps (one-page mappings),\n"
			"                    sparse-maps (mappings of a 1 GiB sparse file), log (1-byte\n"
			"                    writes, 300000; never refused), fork-spin (children that\n"
			"                    all spin once forked, until fork fails or 1000 of them)\n"
			"  fds               open /dev/null until refused; exits 0 if that was EMFILE\n"
			"  init-signals      as a container's pid 1: a child's SIGTERM, SIGINT and SIGKILL\n"
			"                    do not reach it, a signal it handles does; exits 0 if so\n");
	return 2;
}

/* Parses a non-negative decimal number; returns -1 if `s` is not one. */
static long number(const char *s)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	return (errno || end == s || *end || n < 0) ? -1 : n;
}

/* The symbolic name of an errno value, for the errnos these modes can see. */
static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOBUFS: return "ENOBUFS";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ENOTSOCK: return "ENOTSOCK";
	default: return "E?";
	}
}

/* ---- faults ------------------------------------------------------------------------- */

static int crash_null(void)
{
	int *volatile p = NULL;
	printf("crash: reading through NULL\n");
	fflush(stdout);
	return *p;
}

static int crash_kernel_write(void)
{
	volatile uintptr_t address = 0xffffffff80200000UL;
	printf("crash: writing to %#lx\n", (unsigned long)address);
	fflush(stdout);
	*(volatile int *)address = 1;
	return 0;
}

static int crash_illegal(void)
{
	printf("crash: executing ud2\n");
	fflush(stdout);
	__asm__ volatile("ud2");
	return 0;
}

static int crash_divide(void)
{
	volatile int numerator = 1, denominator = 0;
	printf("crash: dividing by zero\n");
	fflush(stdout);
	return numerator / denominator;
}

/* ---- syscall-garbage ---------------------------------------------------------------- */

static int garbage_ok, garbage_wrong;

/* Records one raw system call's result against the errno Linux gives. */
static void expect(const char *name, long ret, int want)
{
	int got = ret < 0 ? errno : 0;
	int ok = ret == -1 && got == want;
	if (ok)
		garbage_ok++;
	else
		garbage_wrong++;
	printf("syscall %s: %ld errno=%s%s%s\n", name, ret, errno_name(got), ok ? "" : " WRONG, want ",
	       ok ? "" : errno_name(want));
	fflush(stdout);
}

/* Records a check that must simply hold. */
static void expect_true(const char *name, int holds)
{
	if (holds)
		garbage_ok++;
	else
		garbage_wrong++;
	printf("check %s: %s\n", name, holds ? "ok" : "WRONG");
	fflush(stdout);
}

/*
 * Signal numbers out of range where they enter. A legacy clone's exit signal (the low
 * byte of its flags) may be any number: Linux accepts 65 and sends nothing when the
 * child exits (berth once panicked there).
 */
static void survive_bad_signals(void)
{
	for (long sig = 65; sig <= 255; sig += 190) {
		pid_t child = syscall(SYS_clone, sig, NULL, NULL, NULL, NULL);
		if (child == 0)
			_exit(7);
		int status = 0;
		char name[64];
		snprintf(name, sizeof name, "clone(exit signal %ld), child exits 7", sig);
		expect_true(name, child > 0 && waitpid(child, &status, __WALL) == child && WIFEXITED(status) &&
					  WEXITSTATUS(status) == 7);
	}
	/* Linux ignores a tid it cannot write: the child exists (berth once leaked its pid). */
	for (int i = 0; i < 2; i++) {
		long flags = (i ? CLONE_CHILD_SETTID : CLONE_PARENT_SETTID) | SIGCHLD;
		pid_t child = syscall(SYS_clone, flags, NULL, i ? NULL : (void *)1, i ? (void *)1 : NULL, NULL);
		if (child == 0)
			_exit(3);
		int status = 0;
		expect_true(i ? "clone(CLONE_CHILD_SETTID, 0x1)" : "clone(CLONE_PARENT_SETTID, 0x1)",
			    child > 0 && waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 3);
	}
	expect("kill(self, 65)", syscall(SYS_kill, getpid(), 65), EINVAL);
	expect("tgkill(self, self, 65)", syscall(SYS_tgkill, getpid(), getpid(), 65), EINVAL);
	expect("tkill(self, -1)", syscall(SYS_tkill, getpid(), -1), EINVAL);
	expect("rt_sigaction(65)", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
	expect("rt_sigaction(0)", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8), EINVAL);
}

/*
 * Raw system calls (no libc wrapper that might touch the pointers first, or use the
 * vDSO) with bad pointers and arguments. Pipes stand in for stdin/stdout so the
 * results do not depend on what the harness connects them to (/dev/null ignores a
 * bad buffer pointer).
 */
static int syscall_garbage(void)
{
	void *low = (void *)0x1, *kernel = (void *)0xffffffff80000000UL;
	void *noncanonical = (void *)0x0000800000000000UL, *dead = (void *)0xdead;
	int fds[2];
	if (pipe(fds) < 0 || write(fds[1], "0123456789", 10) != 10) {
		perror("crash: pipe");
		return 1;
	}

	expect("write(pipe, 0x1, 10)", syscall(SYS_write, fds[1], low, 10), EFAULT);
	expect("write(pipe, kernel, 10)", syscall(SYS_write, fds[1], kernel, 10), EFAULT);
	expect("read(pipe, kernel, 10)", syscall(SYS_read, fds[0], kernel, 10), EFAULT);
	expect("read(pipe, noncanonical, 10)", syscall(SYS_read, fds[0], noncanonical, 10), EFAULT);
	expect("read(pipe, 0x1, 10)", syscall(SYS_read, fds[0], low, 10), EFAULT);
	expect("pread64(pipe, buf, 10, 0)", syscall(SYS_pread64, fds[0], dead, 10, 0), ESPIPE);
	expect("writev(pipe, 0x1, 1)", syscall(SYS_writev, fds[1], low, 1), EFAULT);
	expect("readv(pipe, kernel, 1)", syscall(SYS_readv, fds[0], kernel, 1), EFAULT);
	expect("open(0x10, 0)", syscall(SYS_open, (void *)0x10, O_RDONLY), EFAULT);
	expect("open(kernel, O_CREAT)", syscall(SYS_open, kernel, O_CREAT | O_WRONLY, 0644), EFAULT);
	expect("openat(AT_FDCWD, 0x10, 0)", syscall(SYS_openat, AT_FDCWD, (void *)0x10, O_RDONLY), EFAULT);
	expect("stat(0x10, buf)", syscall(SYS_stat, (void *)0x10, dead), EFAULT);
	expect("stat(\"/\", 0x10)", syscall(SYS_stat, "/", (void *)0x10), EFAULT);
	expect("fstat(pipe, kernel)", syscall(SYS_fstat, fds[0], kernel), EFAULT);
	expect("newfstatat(\"/\", 0x1)", syscall(SYS_newfstatat, AT_FDCWD, "/", low, 0), EFAULT);
	expect("statx(\"/\", 0x1)", syscall(SYS_statx, AT_FDCWD, "/", 0, 0x7ff, low), EFAULT);
	expect("clock_gettime(0, 0x1)", syscall(SYS_clock_gettime, CLOCK_REALTIME, low), EFAULT);
	expect("clock_gettime(MONOTONIC, kernel)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, kernel), EFAULT);
	expect("clock_gettime(12345, buf)", syscall(SYS_clock_gettime, 12345, dead), EINVAL);
	expect("gettimeofday(0x1, 0)", syscall(SYS_gettimeofday, low, NULL), EFAULT);
	expect("nanosleep(0x1, 0)", syscall(SYS_nanosleep, low, NULL), EFAULT);
	expect("uname(0x8)", syscall(SYS_uname, (void *)8), EFAULT);
	expect("getrandom(0xdead, 10, 0)", syscall(SYS_getrandom, dead, 10, 0), EFAULT);
	expect("getrandom(buf, 10, 0xffff)", syscall(SYS_getrandom, dead, 10, 0xffff), EINVAL);
	expect("pipe(0x1)", syscall(SYS_pipe, low), EFAULT);
	expect("pipe2(kernel, 0)", syscall(SYS_pipe2, kernel, 0), EFAULT);
	expect("getcwd(0x1, 100)", syscall(SYS_getcwd, low, 100), EFAULT);
	expect("readlink(\"/proc/self/exe\", 0x1)", syscall(SYS_readlink, "/proc/self/exe", low, 100), EFAULT);
	expect("chdir(0x1)", syscall(SYS_chdir, low), EFAULT);
	expect("mkdir(kernel)", syscall(SYS_mkdir, kernel, 0755), EFAULT);
	expect("unlink(0x1)", syscall(SYS_unlink, low), EFAULT);
	expect("execve(0x1, 0, 0)", syscall(SYS_execve, low, NULL, NULL), EFAULT);
	expect("rt_sigaction(SIGUSR1, 0x1)", syscall(SYS_rt_sigaction, SIGUSR1, low, NULL, 8), EFAULT);
	expect("rt_sigaction(SIGUSR1, 0, 0x1)", syscall(SYS_rt_sigaction, SIGUSR1, NULL, low, 8), EFAULT);
	expect("rt_sigprocmask(SIG_BLOCK, 0x1)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, low, NULL, 8), EFAULT);
	expect("sched_getaffinity(0, 128, 0x1)", syscall(SYS_sched_getaffinity, 0, 128, low), EFAULT);
	expect("wait4(-1, 0x1, 0, 0)", syscall(SYS_wait4, -1, low, 0, NULL), ECHILD);
	expect("futex(0x1000, WAIT, 0)", syscall(SYS_futex, (void *)0x1000, 0 /* FUTEX_WAIT */, 0, NULL), EFAULT);
	expect("futex(0x1, WAIT, 0)", syscall(SYS_futex, low, 0 /* FUTEX_WAIT */, 0, NULL), EINVAL);
	expect("close(12345)", syscall(SYS_close, 12345), EBADF);
	expect("write(-1, buf, 1)", syscall(SYS_write, -1, "x", 1), EBADF);
	expect("dup2(pipe, -1)", syscall(SYS_dup2, fds[0], -1), EBADF);
	expect("lseek(pipe, 0, 0)", syscall(SYS_lseek, fds[0], 0, SEEK_SET), ESPIPE);
	expect("mmap(len 0)", syscall(SYS_mmap, NULL, 0, 3, 0x22, -1, 0), EINVAL);
	expect("mmap(no MAP_PRIVATE/SHARED)", syscall(SYS_mmap, NULL, 4096, 3, 0x20, -1, 0), EINVAL);
	expect("munmap(0x1, 4096)", syscall(SYS_munmap, low, 4096), EINVAL);
	expect("mprotect(0x1, 4096)", syscall(SYS_mprotect, low, 4096, 1), EINVAL);
	expect("kill(self, 999)", syscall(SYS_kill, getpid(), 999), EINVAL);
	expect("kill(-2^31, 0)", syscall(SYS_kill, INT32_MIN, 0), ESRCH);
	expect("socket(12345, 1, 0)", syscall(SYS_socket, 12345, 1, 0), EAFNOSUPPORT);
	char name[32];
	for (long nr = 1000; nr <= 1010; nr++) {
		snprintf(name, sizeof name, "%ld", nr);
		expect(name, syscall(nr, low, kernel, dead, 0, 0, 0), ENOSYS);
	}
	expect("-1", syscall(-1L), ENOSYS);
	survive_bad_signals();

	close(fds[0]);
	close(fds[1]);
	printf("garbage: %d ok, %d wrong\n", garbage_ok, garbage_wrong);
	printf("survived\n");
	return garbage_wrong == 0 ? 0 : 1;
}

/* ---- bad-frame ---------------------------------------------------------------------- */

static void forge_rip(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)info;
	((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP] = 0x800000000000;
}

static void forge_mxcsr(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	(void)info;
	ucontext_t *uc = context;
	uc->uc_mcontext.fpregs->mxcsr = 0xffffffff;
	uc->uc_mcontext.fpregs->mxcr_mask = 0xffffffff;
}

/* Signal frames a kernel must refuse: the process dies by SIGSEGV, the kernel lives. */
static int bad_frame(const char *kind)
{
	struct sigaction sa = {0};
	sa.sa_flags = SA_SIGINFO;
	if (!strcmp(kind, "handler")) {
		sa.sa_handler = (void (*)(int))0x800000000000UL;
		sa.sa_flags = 0;
	} else if (!strcmp(kind, "rip")) {
		sa.sa_sigaction = forge_rip;
	} else if (!strcmp(kind, "mxcsr")) {
		sa.sa_sigaction = forge_mxcsr;
	} else {
		return usage();
	}
	printf("bad-frame: %s\n", kind);
	fflush(stdout);
	if (sigaction(SIGUSR1, &sa, NULL) < 0) {
		perror("crash: sigaction");
		return 1;
	}
	raise(SIGUSR1);
	printf("bad-frame: survived the %s frame\n", kind);
	return 1;
}

/* ---- hog ---------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

#define HOLD_SECONDS 3

/* Reports what a holding hog got, holds it, and returns 0. */
static int holding(const char *kind, long n, int e)
{
	printf("hog: %s holding %ld (%s)\n", kind, n, errno_name(e));
	fflush(stdout);
	sleep(HOLD_SECONDS);
	return 0;
}

/* KiB the container may still use (`MemAvailable` of its /proc/meminfo), or -1. */
static long available_kib(void)
{
	char buf[512];
	int fd = open("/proc/meminfo", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *at = strstr(buf, "MemAvailable:");
	return at ? strtol(at + strlen("MemAvailable:"), NULL, 10) : -1;
}

/* Forking stops this far from the limit: children that have not run yet still copy a
 * stack page or two each, and the parent's own next write copies a page shared with
 * them; were that what ran the memory out, the parent would be the one killed. */
#define FORK_HEADROOM_KIB 2048

/* Takes kernel memory of one kind until the kernel refuses (the container's limit). */
static int hold(const char *kind)
{
	long n = 0;
	if (!strcmp(kind, "fork")) {
		for (;; n++) {
			long left = available_kib();
			if (left >= 0 && left < FORK_HEADROOM_KIB) {
				errno = ENOMEM;
				break;
			}
			pid_t pid = fork();
			if (pid < 0)
				break;
			if (pid == 0) {
				for (;;)
					pause();
			}
		}
		int e = errno;
		holding(kind, n, e);
		kill(0, SIGKILL); /* the children, and this process */
		return 0;
	}
	if (!strcmp(kind, "fork-spin")) {
		/* The children wait for the last fork, then all spin until killed. */
		int gate[2];
		if (pipe(gate) < 0)
			return holding(kind, 0, errno);
		for (; n < 1000; n++) {
			long left = available_kib();
			if (left >= 0 && left < FORK_HEADROOM_KIB) {
				errno = ENOMEM;
				break;
			}
			pid_t pid = fork();
			if (pid < 0)
				break;
			if (pid == 0) {
				char c;
				close(gate[1]);
				read(gate[0], &c, 1);
				for (;;)
					;
			}
		}
		int e = n < 1000 ? errno : 0;
		close(gate[1]);
		holding(kind, n, e);
		kill(0, SIGKILL); /* the children, and this process unless it is pid 1 */
		return 0;
	}
	if (!strcmp(kind, "sockets") || !strcmp(kind, "pipes")) {
		static char chunk[65536];
		for (;; n++) {
			int fds[2];
			int r = !strcmp(kind, "pipes") ? pipe2(fds, O_NONBLOCK)
						       : socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds);
			if (r < 0)
				return holding(kind, n, errno);
			ssize_t w;
			while ((w = write(fds[1], chunk, sizeof chunk)) > 0)
				;
			if (errno != EAGAIN)
				return holding(kind, n, errno);
		}
	}
	if (!strcmp(kind, "maps")) {
		for (char *at = (char *)0x10000000000UL;; n++, at += 8192)
			if (mmap(at, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED)
				return holding(kind, n, errno);
	}
	if (!strcmp(kind, "sparse-maps")) {
		int fd = open("/tmp/sparse", O_RDWR | O_CREAT, 0600);
		if (fd < 0 || ftruncate(fd, 1L << 30) < 0)
			return holding(kind, 0, errno);
		for (;; n++)
			if (mmap(NULL, 1L << 30, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
				return holding(kind, n, errno);
	}
	if (!strcmp(kind, "log")) {
		for (; n < 300000; n++)
			if (write(1, "x", 1) != 1)
				return holding(kind, n, errno);
		printf("\n");
		return holding(kind, n, 0);
	}
	return usage();
}

/* Calls that make the kernel work long for little effort; neighbours must keep going. */
static int hog(const char *kind)
{
	if (!strcmp(kind, "sendfile")) {
		int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
		long n = syscall(SYS_sendfile, out, in, NULL, SIZE_MAX >> 1);
		printf("hog: sendfile moved %#lx bytes\n", n);
		return n == 0x7ffff000 ? 0 : 1;
	}
	if (!strcmp(kind, "itimer")) {
		for (int i = 0; i < 20; i++) {
			if (fork() == 0) {
				signal(SIGALRM, SIG_IGN);
				struct itimerval fast = {{0, 1}, {0, 1}};
				setitimer(ITIMER_REAL, &fast, NULL);
				for (uint64_t end = now_ms() + 2000; now_ms() < end;)
					;
				_exit(0);
			}
		}
		while (wait(NULL) > 0)
			;
		printf("hog: itimer children done\n");
		return 0;
	}
	return hold(kind);
}

/* ---- init-signals ------------------------------------------------------------------- */

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* Runs `sig` from a child at pid 1; returns 0 if the child ran and exited 0. */
static int child_signals_init(int sig)
{
	pid_t child = fork();
	if (child == 0)
		_exit(kill(1, sig) == 0 ? 0 : 1);
	int status = 0;
	return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/*
 * A pid namespace's init gets only the signals it has a handler for from inside its
 * namespace; SIGKILL never reaches it (pid_namespaces(7)). Containers run this as pid 1.
 */
static int init_signals(void)
{
	if (getpid() != 1) {
		fprintf(stderr, "crash: init-signals must run as pid 1\n");
		return 2;
	}
	if (child_signals_init(SIGTERM) || child_signals_init(SIGINT) || child_signals_init(SIGKILL)) {
		printf("init-signals: kill(1, ...) failed in a child\n");
		return 1;
	}
	printf("init-signals: survived SIGTERM, SIGINT and SIGKILL from inside\n");
	fflush(stdout);
	signal(SIGUSR1, on_usr1);
	if (child_signals_init(SIGUSR1))
		return 1;
	for (int i = 0; i < 100 && !got_usr1; i++)
		usleep(10000);
	printf("init-signals: %s\n", got_usr1 ? "received the SIGUSR1 it handles" : "SIGUSR1 never arrived");
	return got_usr1 ? 0 : 1;
}

/* ---- resource exhaustion ------------------------------------------------------------ */

/* Allocates and touches 1 MiB chunks until malloc fails (or `max` MiB), then frees them. */
static int oom(long max)
{
	void **chunks = NULL; /* a linked list threaded through the chunks themselves */
	long mib = 0;
	printf("oom: allocating 1 MiB chunks\n");
	fflush(stdout);
	for (; max < 0 || mib < max; mib++) {
		void **chunk = malloc(1 << 20);
		if (chunk == NULL)
			break;
		for (size_t i = 0; i < (1 << 20) / sizeof *chunk; i += 4096 / sizeof *chunk)
			chunk[i] = chunk; /* touch every page */
		chunk[0] = chunks;
		chunks = chunk;
		if (mib % 64 == 63) {
			printf("oom: %ld MiB\n", mib + 1);
			fflush(stdout);
		}
	}
	int e = errno;
	if (max >= 0 && mib == max)
		printf("oom: stopped at the cap after %ld MiB\n", mib);
	else
		printf("oom: allocation failed after %ld MiB (%s)\n", mib, errno_name(e));
	while (chunks) {
		void **next = chunks[0];
		free(chunks);
		chunks = next;
	}
	return 0;
}

/* Reserves 1 GiB without committing it (MAP_NORESERVE) and touches every page: under a
 * memory limit no allocation fails, so the kernel must kill the process. */
static int oom_touch(void)
{
	size_t len = (size_t)1 << 30;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		printf("oom-touch: mmap failed (%s)\n", errno_name(errno));
		return 1;
	}
	printf("oom-touch: touching 1 GiB\n");
	fflush(stdout);
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	printf("oom-touch: touched all of it\n");
	return 0;
}

static _Noreturn void spin(void)
{
	volatile unsigned long counter = 0;
	printf("spin: spinning\n");
	fflush(stdout);
	for (;;)
		counter++;
}

/* Forks children that pause until fork fails (or `max` children), then kills them all. */
static int fork_bomb(long max)
{
	size_t count = 0, capacity = 1024;
	pid_t *children = malloc(capacity * sizeof *children);
	if (children == NULL)
		return 1;
	int e = 0;
	fflush(stdout);
	while (max < 0 || count < (size_t)max) {
		if (count == capacity) {
			pid_t *grown = realloc(children, 2 * capacity * sizeof *children);
			if (grown == NULL) {
				e = ENOMEM;
				break;
			}
			children = grown;
			capacity *= 2;
		}
		pid_t pid = fork();
		if (pid < 0) {
			e = errno;
			break;
		}
		if (pid == 0) {
			for (;;)
				pause();
		}
		children[count++] = pid;
	}
	if (e)
		printf("fork failed: %s after %zu children\n", errno_name(e), count);
	else
		printf("fork-bomb: stopped at the cap after %zu children\n", count);
	fflush(stdout);
	for (size_t i = 0; i < count; i++)
		kill(children[i], SIGKILL);
	size_t reaped = 0;
	for (size_t i = 0; i < count; i++)
		reaped += waitpid(children[i], NULL, 0) == children[i];
	printf("fork-bomb: killed and reaped %zu children\n", reaped);
	free(children);
	return reaped == count ? 0 : 1;
}

static int print_loop(long n)
{
	struct timespec tick = {0, 100 * 1000 * 1000};
	for (long i = 1; i <= n; i++) {
		printf("tick %ld\n", i);
		fflush(stdout);
		if (i < n)
			nanosleep(&tick, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return usage();
	const char *mode = argv[1];
	if (argc == 3 && !strcmp(mode, "bad-frame"))
		return bad_frame(argv[2]);
	if (argc == 3 && !strcmp(mode, "hog"))
		return hog(argv[2]);
	long arg = argc == 3 ? number(argv[2]) : -1;
	if (argc == 3 && arg < 0)
		return usage();
	int takes_arg = !strcmp(mode, "oom") || !strcmp(mode, "fork-bomb");
	int needs_arg = !strcmp(mode, "exit") || !strcmp(mode, "print-loop") || !strcmp(mode, "bad-frame") ||
			!strcmp(mode, "hog");
	if ((argc == 3 && !takes_arg && !needs_arg) || (argc == 2 && needs_arg))
		return usage();

	if (!strcmp(mode, "null"))
		return crash_null();
	if (!strcmp(mode, "kernel-write"))
		return crash_kernel_write();
	if (!strcmp(mode, "illegal"))
		return crash_illegal();
	if (!strcmp(mode, "divide"))
		return crash_divide();
	if (!strcmp(mode, "syscall-garbage"))
		return syscall_garbage();
	if (!strcmp(mode, "oom"))
		return oom(arg);
	if (!strcmp(mode, "oom-touch"))
		return oom_touch();
	if (!strcmp(mode, "spin"))
		spin();
	if (!strcmp(mode, "fork-bomb"))
		return fork_bomb(arg);
	if (!strcmp(mode, "exit"))
		return (int)(arg & 0xff);
	if (!strcmp(mode, "init-signals"))
		return init_signals();
	if (!strcmp(mode, "fds")) {
		long n = 0;
		while (open("/dev/null", O_RDONLY) >= 0)
			n++;
		int e = errno;
		printf("fds: %ld opened, then %s\n", n, errno_name(e));
		return e == EMFILE ? 0 : 1;
	}
	if (!strcmp(mode, "print-loop"))
		return print_loop(arg);
	return usage();
}
