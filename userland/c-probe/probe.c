/*
 * c-probe: checks berth's Linux ABI from a static musl C program.
 *
 * Runs every check in `checks[]` and prints one line per check, `PASS <name>` or
 * `FAIL <name>: <detail>`, then `c-probe: N passed, M failed`, and exits 0 only if
 * every check passed. Every check compares against values computed in the process
 * itself, so the same binary passes on Linux and must pass on berth.
 *
 * `c-probe child-mode` exits 3 (the exec check runs it through /proc/self/exe).
 * The epoll and eventfd checks are in readiness.c; probe.h is what the files share.
 *
 * Build: musl-gcc -static -O2 -Wall -Wextra -Werror -o c-probe probe.c readiness.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

/* ---- output protocol and helpers ---------------------------------------------------- */

static char detail[512];

const char *fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return detail;
}

/* The scratch directory the file checks work in: /tmp/c-probe-<pid>. */
static char scratch[64];

/* Builds `scratch/name` into `buf`. */
static const char *in_scratch(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", scratch, name);
	return buf;
}

long long ns_between(struct timespec a, struct timespec b)
{
	return (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

pid_t fork_flushed(void)
{
	fflush(NULL);
	return fork();
}

int wait_status(pid_t pid)
{
	int status;
	pid_t got;
	do
		got = waitpid(pid, &status, 0);
	while (got < 0 && errno == EINTR);
	return got == pid ? status : -1;
}

/* ---- files -------------------------------------------------------------------------- */

/* open with O_CREAT|O_EXCL, write, pread/pwrite, lseek, fstat, ftruncate. */
static const char *check_files_rw(void)
{
	char path[128];
	in_scratch(path, sizeof path, "rw.txt");
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	TRY(fd);
	int again = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ENSURE(again < 0 && errno == EEXIST, "second O_EXCL open gave %d (%s), want EEXIST", again,
	       strerror(errno));
	ENSURE(write(fd, "hello world\n", 12) == 12, "write: %s", strerror(errno));
	ENSURE(lseek(fd, 0, SEEK_CUR) == 12, "offset after write is not 12");
	ENSURE(pwrite(fd, "HELLO", 5, 0) == 5, "pwrite: %s", strerror(errno));
	ENSURE(lseek(fd, 0, SEEK_CUR) == 12, "pwrite moved the file offset");
	char buf[32] = {0};
	ENSURE(pread(fd, buf, 5, 6) == 5 && memcmp(buf, "world", 5) == 0, "pread at 6 gave \"%.5s\"", buf);
	ENSURE(lseek(fd, 0, SEEK_SET) == 0, "lseek to 0: %s", strerror(errno));
	ENSURE(read(fd, buf, sizeof buf) == 12 && memcmp(buf, "HELLO world\n", 12) == 0, "read back \"%.12s\"",
	       buf);
	ENSURE(read(fd, buf, sizeof buf) == 0, "read at end of file did not return 0");
	ENSURE(lseek(fd, -6, SEEK_END) == 6, "lseek -6 from end did not give 6");
	ENSURE(lseek(fd, 100, SEEK_SET) == 100, "lseek past end: %s", strerror(errno));
	ENSURE(write(fd, "!", 1) == 1, "write past end: %s", strerror(errno));

	struct stat st;
	TRY(fstat(fd, &st));
	ENSURE(S_ISREG(st.st_mode) && st.st_size == 101, "fstat: mode %o size %lld, want regular file of 101",
	       (unsigned)st.st_mode, (long long)st.st_size);
	ENSURE(pread(fd, buf, 4, 50) == 4 && memcmp(buf, "\0\0\0\0", 4) == 0, "hole does not read as zeros");
	TRY(ftruncate(fd, 5));
	TRY(fstat(fd, &st));
	ENSURE(st.st_size == 5, "size %lld after ftruncate 5", (long long)st.st_size);
	TRY(ftruncate(fd, 4096));
	ENSURE(pread(fd, buf, 8, 4000) == 8 && memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0,
	       "extended file does not read as zeros");
	TRY(close(fd));
	TRY(unlink(path));
	return NULL;
}

/* A trailing slash means a directory: O_CREAT of "name/" is EISDIR whatever is there
 * (Python's shutil relies on it), as is O_CREAT of a directory; opening a file named
 * with a slash is ENOTDIR. */
static const char *check_files_slash(void)
{
	char path[128], file[128], slashed[140];
	in_scratch(path, sizeof path, "missing/");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ENSURE(fd < 0 && errno == EISDIR, "O_CREAT of \"missing/\" gave %d (%s), want EISDIR", fd, strerror(errno));
	path[strlen(path) - 1] = 0;
	ENSURE(access(path, F_OK) < 0 && errno == ENOENT, "O_CREAT of \"missing/\" made \"missing\"");
	fd = open(scratch, O_RDONLY | O_CREAT, 0644);
	ENSURE(fd < 0 && errno == EISDIR, "O_CREAT of a directory gave %d (%s), want EISDIR", fd, strerror(errno));
	char link[128];
	in_scratch(link, sizeof link, "to-dir");
	TRY(symlink(scratch, link));
	fd = open(link, O_RDONLY | O_CREAT, 0644);
	ENSURE(fd < 0 && errno == EISDIR, "O_CREAT through a link to a directory gave %d (%s), want EISDIR", fd,
	       strerror(errno));
	TRY(unlink(link));
	in_scratch(file, sizeof file, "plain");
	TRY(fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	close(fd);
	snprintf(slashed, sizeof slashed, "%s/", file);
	fd = open(slashed, O_RDONLY);
	ENSURE(fd < 0 && errno == ENOTDIR, "open of \"plain/\" gave %d (%s), want ENOTDIR", fd, strerror(errno));
	fd = open(slashed, O_WRONLY | O_CREAT, 0644);
	ENSURE(fd < 0 && errno == EISDIR, "O_CREAT of \"plain/\" gave %d (%s), want EISDIR", fd, strerror(errno));
	TRY(unlink(file));
	return NULL;
}

/* readv/writev and O_APPEND. */
static const char *check_files_vector(void)
{
	char path[128];
	in_scratch(path, sizeof path, "vec.txt");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	TRY(fd);
	struct iovec out[3] = {{"one ", 4}, {"", 0}, {"two\n", 4}};
	ENSURE(writev(fd, out, 3) == 8, "writev did not write 8 bytes: %s", strerror(errno));
	char a[3], b[5];
	struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
	ENSURE(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	ENSURE(readv(fd, in, 2) == 8, "readv did not read 8 bytes");
	ENSURE(memcmp(a, "one", 3) == 0 && memcmp(b, " two\n", 5) == 0, "readv scattered \"%.3s\" \"%.5s\"", a, b);
	TRY(close(fd));

	fd = open(path, O_WRONLY | O_APPEND);
	TRY(fd);
	ENSURE(lseek(fd, 0, SEEK_SET) == 0, "lseek on O_APPEND fd: %s", strerror(errno));
	ENSURE(write(fd, "three\n", 6) == 6, "append write: %s", strerror(errno));
	ENSURE(lseek(fd, 0, SEEK_CUR) == 14, "offset after O_APPEND write is not the end");
	ENSURE((fcntl(fd, F_GETFL) & O_APPEND) != 0, "F_GETFL lost O_APPEND");
	TRY(close(fd));
	char all[32] = {0};
	fd = open(path, O_RDONLY);
	TRY(fd);
	ENSURE(read(fd, all, sizeof all) == 14 && strcmp(all, "one two\nthree\n") == 0,
	       "after O_APPEND the file holds \"%s\"", all);
	TRY(close(fd));
	TRY(unlink(path));
	return NULL;
}

/* mkdir/rmdir, rename, opendir/readdir, unlink. */
static const char *check_files_dir(void)
{
	char dir[128], path[192], to[192];
	in_scratch(dir, sizeof dir, "dir");
	TRY(mkdir(dir, 0755));
	ENSURE(mkdir(dir, 0755) < 0 && errno == EEXIST, "mkdir of an existing dir: %s", strerror(errno));
	const char *names[] = {"a", "b", "c"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		TRY(fd);
		TRY(close(fd));
	}
	snprintf(path, sizeof path, "%s/a", dir);
	snprintf(to, sizeof to, "%s/d", dir);
	TRY(rename(path, to));
	ENSURE(access(path, F_OK) < 0 && errno == ENOENT, "old name exists after rename");

	DIR *d = opendir(dir);
	ENSURE(d != NULL, "opendir: %s", strerror(errno));
	int seen = 0, dots = 0, other = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			dots++;
		else if (strcmp(e->d_name, "b") == 0 || strcmp(e->d_name, "c") == 0 || strcmp(e->d_name, "d") == 0)
			seen++;
		else
			other++;
	}
	closedir(d);
	ENSURE(seen == 3 && dots == 2 && other == 0, "readdir saw %d of b,c,d, %d dot entries, %d others", seen,
	       dots, other);

	ENSURE(rmdir(dir) < 0 && errno == ENOTEMPTY, "rmdir of a non-empty dir: %s", strerror(errno));
	const char *left[] = {"b", "c", "d"};
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, left[i]);
		TRY(unlink(path));
	}
	ENSURE(unlink(path) < 0 && errno == ENOENT, "second unlink: %s", strerror(errno));
	TRY(rmdir(dir));
	ENSURE(access(dir, F_OK) < 0 && errno == ENOENT, "directory exists after rmdir");
	return NULL;
}

/* symlink/readlink, link, access. */
static const char *check_files_links(void)
{
	char target[128], soft[128], hard[128], buf[128];
	in_scratch(target, sizeof target, "target");
	in_scratch(soft, sizeof soft, "soft");
	in_scratch(hard, sizeof hard, "hard");
	int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	TRY(fd);
	ENSURE(write(fd, "data", 4) == 4, "write: %s", strerror(errno));
	TRY(close(fd));

	TRY(symlink("target", soft));
	ssize_t n = readlink(soft, buf, sizeof buf);
	ENSURE(n == 6 && memcmp(buf, "target", 6) == 0, "readlink gave %zd \"%.*s\"", n, n > 0 ? (int)n : 0, buf);
	struct stat lst, st;
	TRY(lstat(soft, &lst));
	TRY(stat(soft, &st));
	ENSURE(S_ISLNK(lst.st_mode) && S_ISREG(st.st_mode), "lstat/stat of a symlink: modes %o %o",
	       (unsigned)lst.st_mode, (unsigned)st.st_mode);
	ENSURE(readlink(target, buf, sizeof buf) < 0 && errno == EINVAL, "readlink of a file: %s",
	       strerror(errno));

	TRY(link(target, hard));
	struct stat a, b;
	TRY(stat(target, &a));
	TRY(stat(hard, &b));
	ENSURE(a.st_ino == b.st_ino && a.st_nlink == 2, "hard link: inodes %llu %llu, nlink %llu",
	       (unsigned long long)a.st_ino, (unsigned long long)b.st_ino, (unsigned long long)a.st_nlink);
	ENSURE(link(target, hard) < 0 && errno == EEXIST, "link onto an existing name: %s", strerror(errno));

	TRY(access(target, F_OK));
	TRY(access(target, R_OK | W_OK));
	ENSURE(access(target, X_OK) < 0 && errno == EACCES, "access X_OK on a 0640 file: %s", strerror(errno));
	TRY(unlink(soft));
	TRY(unlink(target));
	TRY(stat(hard, &b));
	ENSURE(b.st_nlink == 1, "nlink %llu after unlinking one name", (unsigned long long)b.st_nlink);
	TRY(unlink(hard));
	return NULL;
}

/* getcwd/chdir. */
static const char *check_files_cwd(void)
{
	char old[PATH_MAX], now[PATH_MAX], want[PATH_MAX];
	ENSURE(getcwd(old, sizeof old) != NULL, "getcwd: %s", strerror(errno));
	ENSURE(realpath(scratch, want) != NULL, "realpath: %s", strerror(errno));
	TRY(chdir(scratch));
	ENSURE(getcwd(now, sizeof now) != NULL, "getcwd after chdir: %s", strerror(errno));
	ENSURE(strcmp(now, want) == 0, "getcwd gave %s after chdir to %s", now, want);
	int fd = open("relative", O_WRONLY | O_CREAT | O_EXCL, 0644);
	TRY(fd);
	TRY(close(fd));
	char path[128];
	TRY(access(in_scratch(path, sizeof path, "relative"), F_OK));
	TRY(unlink("relative"));
	char tiny[2];
	ENSURE(getcwd(tiny, sizeof tiny) == NULL && errno == ERANGE, "getcwd into 2 bytes: %s", strerror(errno));
	TRY(chdir(old));
	ENSURE(chdir(path) < 0 && errno == ENOENT, "chdir to a missing dir: %s", strerror(errno));
	return NULL;
}

/* dup/dup2/fcntl F_GETFD/F_SETFD/F_GETFL. */
static const char *check_files_fd(void)
{
	char path[128];
	in_scratch(path, sizeof path, "fd.txt");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	TRY(fd);
	ENSURE(fcntl(fd, F_GETFD) == FD_CLOEXEC, "F_GETFD of an O_CLOEXEC fd is %d", fcntl(fd, F_GETFD));
	ENSURE((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL access mode is not O_RDWR");
	int copy = dup(fd);
	TRY(copy);
	ENSURE(copy != fd && fcntl(copy, F_GETFD) == 0, "dup: fd %d, F_GETFD %d", copy, fcntl(copy, F_GETFD));
	ENSURE(write(fd, "abc", 3) == 3, "write: %s", strerror(errno));
	ENSURE(lseek(copy, 0, SEEK_CUR) == 3, "a dup does not share the file offset");
	TRY(fcntl(copy, F_SETFD, FD_CLOEXEC));
	ENSURE(fcntl(copy, F_GETFD) == FD_CLOEXEC, "F_SETFD FD_CLOEXEC did not stick");
	TRY(fcntl(copy, F_SETFD, 0));
	ENSURE(fcntl(copy, F_GETFD) == 0, "F_SETFD 0 did not clear FD_CLOEXEC");
	int target = 100;
	ENSURE(dup2(fd, target) == target, "dup2 to %d: %s", target, strerror(errno));
	ENSURE(fcntl(target, F_GETFD) == 0, "dup2 copied FD_CLOEXEC");
	ENSURE(dup2(target, target) == target, "dup2 onto itself: %s", strerror(errno));
	int low = fcntl(fd, F_DUPFD, 50);
	ENSURE(low >= 50, "F_DUPFD 50 gave %d", low);
	TRY(close(low));
	TRY(close(target));
	ENSURE(fcntl(target, F_GETFD) < 0 && errno == EBADF, "closed fd still valid");
	TRY(close(copy));
	TRY(close(fd));
	TRY(unlink(path));
	return NULL;
}

/* ---- memory ------------------------------------------------------------------------- */

/* 10000 malloc'd blocks of varied sizes, each filled and checked, then freed. */
static const char *check_memory_malloc(void)
{
	enum { BLOCKS = 10000 };
	static unsigned char *blocks[BLOCKS];
	for (size_t i = 0; i < BLOCKS; i++) {
		size_t size = 1 + (i * 7919) % 70000;
		blocks[i] = malloc(size);
		ENSURE(blocks[i] != NULL, "malloc(%zu) failed after %zu blocks", size, i);
		memset(blocks[i], (int)(i & 0xff), size);
	}
	for (size_t i = 0; i < BLOCKS; i += 2) {
		free(blocks[i]);
		blocks[i] = NULL;
	}
	for (size_t i = 1; i < BLOCKS; i += 2) {
		size_t size = 1 + (i * 7919) % 70000;
		for (size_t j = 0; j < size; j += 97)
			ENSURE(blocks[i][j] == (i & 0xff), "block %zu byte %zu changed", i, j);
		unsigned char *grown = realloc(blocks[i], size + 5000);
		ENSURE(grown != NULL, "realloc failed");
		ENSURE(grown[0] == (i & 0xff) && grown[size - 1] == (i & 0xff), "realloc lost block %zu", i);
		free(grown);
		blocks[i] = NULL;
	}
	unsigned char *zeroed = calloc(1 << 20, 1);
	ENSURE(zeroed != NULL, "calloc 1 MiB failed");
	for (size_t i = 0; i < 1 << 20; i++)
		ENSURE(zeroed[i] == 0, "calloc memory not zero at %zu", i);
	free(zeroed);
	return NULL;
}

/* 16 MiB anonymous mmap: zero-filled, writable, unmapped. */
static const char *check_memory_mmap(void)
{
	size_t size = 16 << 20;
	long page = sysconf(_SC_PAGESIZE);
	ENSURE(page == 4096, "page size is %ld", page);
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ENSURE(p != MAP_FAILED, "mmap 16 MiB: %s", strerror(errno));
	ENSURE(((uintptr_t)p & 4095) == 0, "mmap returned unaligned %p", (void *)p);
	for (size_t i = 0; i < size; i += 4096)
		ENSURE(p[i] == 0 && p[i + 4095] == 0, "fresh anonymous page %zu is not zero", i / 4096);
	for (size_t i = 0; i < size; i++)
		p[i] = (unsigned char)(i * 31 + (i >> 12));
	for (size_t i = 0; i < size; i++)
		ENSURE(p[i] == (unsigned char)(i * 31 + (i >> 12)), "byte %zu lost its value", i);
	TRY(munmap(p + 4096, 4096));
	unsigned char *again = mmap(p + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				    -1, 0);
	ENSURE(again == p + 4096, "MAP_FIXED remap of an unmapped hole: %s", strerror(errno));
	ENSURE(again[0] == 0 && p[0] == (unsigned char)0 && p[8192] == (unsigned char)(8192 * 31 + 2),
	       "MAP_FIXED hole is not fresh or neighbours changed");
	TRY(munmap(p, size));
	ENSURE(munmap(p, 0) < 0 && errno == EINVAL, "munmap of length 0: %s", strerror(errno));
	return NULL;
}

/* A shared anonymous mapping is one memory for parent and child after fork. */
static const char *check_memory_shared(void)
{
	volatile unsigned *shared =
		mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ENSURE(shared != MAP_FAILED, "mmap MAP_SHARED|MAP_ANONYMOUS: %s", strerror(errno));
	shared[0] = 1; /* touched before the fork */
	pid_t child = fork();
	ENSURE(child >= 0, "fork: %s", strerror(errno));
	if (child == 0) {
		shared[0] = 2;
		shared[1024] = 3; /* a page first touched in the child */
		_exit(0);
	}
	int status;
	TRY(waitpid(child, &status, 0));
	ENSURE(shared[0] == 2 && shared[1024] == 3, "the parent sees %u and %u, not the child's 2 and 3", shared[0],
	       shared[1024]);
	TRY(munmap((void *)shared, 8192));
	return NULL;
}

/*
 * Two processes that map one file MAP_SHARED on their own (after the fork) see one
 * memory, and a futex in it meets across them: the child sleeps on a word until the
 * parent changes it and wakes it (what a POSIX semaphore from sem_open does).
 */
static const char *check_file_shared_between_processes(void)
{
	const char *path = "/tmp/probe-shared-file";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	TRY(fd);
	TRY(ftruncate(fd, 8192));
	pid_t child = fork_flushed();
	ENSURE(child >= 0, "fork: %s", strerror(errno));
	if (child == 0) {
		volatile int *word = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (word == MAP_FAILED)
			_exit(1);
		struct timespec limit = {5, 0};
		while (word[0] == 0) {
			/* FUTEX_WAIT, not private: the waker is another process. */
			long r = syscall(SYS_futex, word, 0, 0, &limit, NULL, 0);
			if (r < 0 && errno == ETIMEDOUT)
				_exit(2);
		}
		word[1024] = 42; /* on the second page */
		_exit(0);
	}
	volatile int *word = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ENSURE(word != MAP_FAILED, "mmap MAP_SHARED of a file: %s", strerror(errno));
	struct timespec pause = {0, 50 * 1000 * 1000};
	nanosleep(&pause, NULL); /* let the child go to sleep on the word */
	word[0] = 1;
	syscall(SYS_futex, word, 1, 1, NULL, NULL, 0); /* FUTEX_WAKE */
	int status = wait_status(child);
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the child ended with status %#x (2: never woken by the other process's FUTEX_WAKE)", status);
	ENSURE(word[1024] == 42, "the parent's mapping reads %d, not the child's 42", word[1024]);
	TRY(munmap((void *)word, 8192));
	TRY(close(fd));
	TRY(unlink(path));
	return NULL;
}

/* ---- futex requeue ------------------------------------------------------------------- */

/* From <linux/futex.h>, which musl does not ship. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_CMP_REQUEUE_PRIVATE 132

static int futex_a, futex_b;
static volatile int waiter_result = 1; /* 1: not finished */

static void *futex_waiter(void *timeout)
{
	long r = syscall(SYS_futex, &futex_a, FUTEX_WAIT_PRIVATE, 0, timeout, NULL, 0);
	waiter_result = r == 0 ? 0 : errno;
	return NULL;
}

/* Requeues the one waiter on futex_a to futex_b (retrying until it is there). */
static long requeue_waiter(void)
{
	long r = 0;
	for (int i = 0; i < 2000 && r == 0; i++) {
		r = syscall(SYS_futex, &futex_a, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)1L, &futex_b, 0);
		if (r == 0)
			usleep(1000);
	}
	return r;
}

/*
 * A waiter moved to another futex is woken there (not on its first), and one that
 * times out after being moved leaves nothing behind.
 */
static const char *check_futex_requeue(void)
{
	pthread_t t;
	waiter_result = 1;
	ENSURE(pthread_create(&t, NULL, futex_waiter, NULL) == 0, "pthread_create");
	long moved = requeue_waiter();
	ENSURE(moved == 1, "FUTEX_CMP_REQUEUE moved %ld waiters, want 1", moved);
	ENSURE(syscall(SYS_futex, &futex_a, FUTEX_WAKE_PRIVATE, 1) == 0, "a wake of the first futex found a waiter");
	ENSURE(syscall(SYS_futex, &futex_b, FUTEX_WAKE_PRIVATE, 1) == 1, "the moved waiter was not on the second");
	pthread_join(t, NULL);
	ENSURE(waiter_result == 0, "the moved waiter's wait returned %s", strerror(waiter_result));

	struct timespec brief = {0, 200 * 1000 * 1000};
	waiter_result = 1;
	ENSURE(pthread_create(&t, NULL, futex_waiter, &brief) == 0, "pthread_create");
	ENSURE(requeue_waiter() == 1, "the second waiter was never requeued");
	pthread_join(t, NULL);
	ENSURE(waiter_result == ETIMEDOUT, "the moved waiter's timed wait returned %s", strerror(waiter_result));
	long left = syscall(SYS_futex, &futex_b, FUTEX_WAKE_PRIVATE, 1);
	ENSURE(left == 0, "a waiter that timed out is still on the futex it was moved to (%ld woken)", left);
	return NULL;
}

static sigjmp_buf fault_jump;
static volatile sig_atomic_t fault_signal;
static volatile uintptr_t fault_addr;

static void on_fault(int sig, siginfo_t *info, void *context)
{
	(void)context;
	fault_signal = sig;
	fault_addr = (uintptr_t)info->si_addr;
	siglongjmp(fault_jump, 1);
}

/* mprotect a page read-only (a write faults with SIGSEGV at that address), then back. */
static const char *check_memory_mprotect(void)
{
	volatile unsigned char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ENSURE(p != MAP_FAILED, "mmap: %s", strerror(errno));
	p[0] = 42;
	p[4096] = 43;
	TRY(mprotect((void *)p, 4096, PROT_READ));
	ENSURE(p[0] == 42, "read-only page lost its contents");

	struct sigaction sa = {0}, old_segv;
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	TRY(sigaction(SIGSEGV, &sa, &old_segv));
	fault_signal = 0;
	if (sigsetjmp(fault_jump, 1) == 0)
		p[100] = 1;
	sigaction(SIGSEGV, &old_segv, NULL);
	ENSURE(fault_signal == SIGSEGV, "writing a read-only page did not raise SIGSEGV");
	ENSURE(fault_addr == (uintptr_t)(p + 100), "fault address %#lx, wrote to %p", (unsigned long)fault_addr,
	       (void *)(p + 100));
	ENSURE(p[100] == 0, "the faulting write landed");
	p[4096] = 44; /* the neighbouring page is still writable */

	TRY(mprotect((void *)p, 4096, PROT_READ | PROT_WRITE));
	p[100] = 7;
	ENSURE(p[100] == 7 && p[0] == 42 && p[4096] == 44, "page contents wrong after mprotect back");
	/* musl's mprotect() rounds the address down, so ask the kernel directly. */
	errno = 0;
	ENSURE(syscall(SYS_mprotect, p + 1, 4096, PROT_READ) < 0 && errno == EINVAL,
	       "mprotect of an unaligned address: %s", strerror(errno));
	TRY(munmap((void *)p, 8192));
	return NULL;
}

/* brk through the raw system call (musl's sbrk only supports an increment of 0). */
static const char *check_memory_brk(void)
{
	uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
	ENSURE(start != 0 && start == (uintptr_t)sbrk(0), "brk(0) %#lx and sbrk(0) disagree", (unsigned long)start);
	uintptr_t base = (start + 4095) & ~(uintptr_t)4095;
	uintptr_t want = base + (256 << 10);
	uintptr_t got = (uintptr_t)syscall(SYS_brk, want);
	ENSURE(got == want, "brk(%#lx) returned %#lx", (unsigned long)want, (unsigned long)got);
	volatile unsigned char *heap = (unsigned char *)start;
	for (uintptr_t a = base; a < want; a += 512)
		ENSURE(heap[a - start] == 0, "new break memory at %#lx is not zero", (unsigned long)a);
	for (uintptr_t a = start; a < want; a++)
		heap[a - start] = (unsigned char)a;
	for (uintptr_t a = start; a < want; a++)
		ENSURE(heap[a - start] == (unsigned char)a, "break memory at %#lx lost its value", (unsigned long)a);
	got = (uintptr_t)syscall(SYS_brk, start);
	ENSURE(got == start, "shrinking brk to %#lx returned %#lx", (unsigned long)start, (unsigned long)got);
	return NULL;
}

/* ---- time --------------------------------------------------------------------------- */

/* CLOCK_MONOTONIC advances across a 20 ms nanosleep, by at least 20 ms and under 5 s. */
static const char *check_time_monotonic(void)
{
	struct timespec a, b, nap = {0, 20 * 1000 * 1000};
	TRY(clock_gettime(CLOCK_MONOTONIC, &a));
	TRY(nanosleep(&nap, NULL));
	TRY(clock_gettime(CLOCK_MONOTONIC, &b));
	long long ns = ns_between(a, b);
	ENSURE(ns >= 20000000LL && ns < 5000000000LL, "a 20 ms nanosleep took %lld ns", ns);
	struct timespec last = b, now;
	for (int i = 0; i < 1000; i++) {
		TRY(clock_gettime(CLOCK_MONOTONIC, &now));
		ENSURE(ns_between(last, now) >= 0, "CLOCK_MONOTONIC went backwards");
		ENSURE(now.tv_nsec >= 0 && now.tv_nsec < 1000000000L, "tv_nsec %ld out of range", now.tv_nsec);
		last = now;
	}
	TRY(clock_gettime(CLOCK_MONOTONIC, &a));
	TRY(clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL));
	TRY(clock_gettime(CLOCK_MONOTONIC, &b));
	ns = ns_between(a, b);
	ENSURE(ns >= 20000000LL && ns < 5000000000LL, "a 20 ms clock_nanosleep took %lld ns", ns);
	struct timespec res;
	TRY(clock_getres(CLOCK_MONOTONIC, &res));
	ENSURE(res.tv_sec == 0 && res.tv_nsec > 0, "clock_getres gave %lld.%09ld", (long long)res.tv_sec,
	       res.tv_nsec);
	return NULL;
}

/* CLOCK_REALTIME is after 2020 and agrees with gettimeofday and time() within 1 s. */
static const char *check_time_realtime(void)
{
	struct timespec ts;
	struct timeval tv;
	TRY(clock_gettime(CLOCK_REALTIME, &ts));
	TRY(gettimeofday(&tv, NULL));
	time_t t = time(NULL);
	ENSURE(ts.tv_sec > 1577836800, "CLOCK_REALTIME %lld is before 2020", (long long)ts.tv_sec);
	long long diff_us = (tv.tv_sec - ts.tv_sec) * 1000000LL + (tv.tv_usec - ts.tv_nsec / 1000);
	ENSURE(diff_us >= 0 && diff_us < 1000000, "gettimeofday is %lld us from CLOCK_REALTIME", diff_us);
	ENSURE(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec %ld out of range", (long)tv.tv_usec);
	ENSURE(t >= ts.tv_sec && t - ts.tv_sec <= 1, "time() %lld vs CLOCK_REALTIME %lld", (long long)t,
	       (long long)ts.tv_sec);
	return NULL;
}

/* ---- randomness --------------------------------------------------------------------- */

/* Two buffers of random bytes are not all zero and differ. */
static const char *check_random_pair(const unsigned char *a, const unsigned char *b, size_t n)
{
	int nonzero = 0;
	for (size_t i = 0; i < n; i++)
		nonzero |= a[i];
	ENSURE(nonzero, "%zu random bytes are all zero", n);
	ENSURE(memcmp(a, b, n) != 0, "two random reads returned the same bytes");
	return NULL;
}

static const char *check_random_getrandom(void)
{
	unsigned char a[32], b[32];
	ENSURE(getrandom(a, sizeof a, 0) == sizeof a, "getrandom: %s", strerror(errno));
	ENSURE(getrandom(b, sizeof b, GRND_NONBLOCK) == sizeof b, "getrandom GRND_NONBLOCK: %s", strerror(errno));
	return check_random_pair(a, b, sizeof a);
}

static const char *check_random_urandom(void)
{
	unsigned char a[32], b[32];
	int fd = open("/dev/urandom", O_RDONLY);
	TRY(fd);
	ENSURE(read(fd, a, sizeof a) == sizeof a, "read /dev/urandom: %s", strerror(errno));
	ENSURE(read(fd, b, sizeof b) == sizeof b, "second read /dev/urandom: %s", strerror(errno));
	TRY(close(fd));
	return check_random_pair(a, b, sizeof a);
}

/* ---- identity ----------------------------------------------------------------------- */

/* pid/tid/ppid consistency (checked in a child too) and user/group ids. */
static const char *check_identity(void)
{
	pid_t pid = getpid();
	ENSURE(pid > 0, "getpid gave %d", pid);
	ENSURE(syscall(SYS_gettid) == pid, "gettid %ld differs from getpid %d in the main thread",
	       syscall(SYS_gettid), pid);
	ENSURE(getppid() >= 0, "getppid gave %d", getppid());

	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	TRY(getresuid(&ruid, &euid, &suid));
	TRY(getresgid(&rgid, &egid, &sgid));
	ENSURE(getuid() == ruid && geteuid() == euid, "getuid/geteuid %u/%u, getresuid %u/%u", getuid(), geteuid(),
	       ruid, euid);
	ENSURE(getgid() == rgid && getegid() == egid, "getgid/getegid %u/%u, getresgid %u/%u", getgid(), getegid(),
	       rgid, egid);

	int fds[2];
	TRY(pipe(fds));
	pid_t child = fork_flushed();
	TRY(child);
	if (child == 0) {
		pid_t ids[3] = {getpid(), getppid(), (pid_t)syscall(SYS_gettid)};
		_exit(write(fds[1], ids, sizeof ids) == sizeof ids ? 0 : 1);
	}
	close(fds[1]);
	pid_t ids[3];
	ssize_t n = read(fds[0], ids, sizeof ids);
	close(fds[0]);
	int status = wait_status(child);
	ENSURE(n == sizeof ids && status == 0, "child did not report its ids (status %#x)", status);
	ENSURE(ids[0] == child, "child's getpid %d, fork returned %d", ids[0], child);
	ENSURE(ids[1] == pid, "child's getppid %d, parent is %d", ids[1], pid);
	ENSURE(ids[2] == child, "child's gettid %d, its pid is %d", ids[2], child);
	return NULL;
}

/* mincore: touched pages are in memory, untouched anonymous ones are not; an unaligned
 * address is EINVAL, a range with an unmapped page ENOMEM. */
static const char *check_memory_mincore(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ENSURE(p != MAP_FAILED, "mmap: %s", strerror(errno));
	p[0] = 1;
	p[2 * page] = 1;
	unsigned char vec[4] = {9, 9, 9, 9};
	TRY(mincore(p, 4 * page, vec));
	ENSURE((vec[0] & 1) && !(vec[1] & 1) && (vec[2] & 1) && !(vec[3] & 1), "mincore gave %d %d %d %d, want 1 0 1 0",
	       vec[0], vec[1], vec[2], vec[3]);
	ENSURE(mincore(p + 1, page, vec) < 0 && errno == EINVAL, "mincore of an unaligned address did not fail with EINVAL");
	TRY(munmap(p + 3 * page, page));
	ENSURE(mincore(p, 4 * page, vec) < 0 && errno == ENOMEM, "mincore over an unmapped page did not fail with ENOMEM");
	TRY(munmap(p, 3 * page));
	return NULL;
}

/* The scheduling calls programs make: SCHED_OTHER with priority 0, nice 0. */
static const char *check_sched_params(void)
{
	/* The system calls themselves: musl's wrappers answer ENOSYS without asking. */
	struct sched_param param = {.sched_priority = 77};
	TRY(syscall(SYS_sched_getparam, 0, &param));
	ENSURE(param.sched_priority == 0, "sched_getparam gave priority %d, want 0", param.sched_priority);
	long policy = syscall(SYS_sched_getscheduler, 0);
	ENSURE(policy == SCHED_OTHER, "sched_getscheduler gave %ld, want SCHED_OTHER", policy);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	ENSURE(nice == 0 && errno == 0, "getpriority gave %d (%s), want 0", nice, strerror(errno));
	return NULL;
}

/* Reads a /proc/sys file into buf (NUL-terminated, trailing newline kept); 0 or -1. */
static int read_sysctl(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* The /proc/sys values programs read are there, and are what the uname and limits say. */
static const char *check_proc_sys(void)
{
	char buf[128];
	ENSURE(read_sysctl("/proc/sys/kernel/ostype", buf, sizeof buf) == 0 && strcmp(buf, "Linux\n") == 0,
	       "kernel/ostype: \"%s\" (%s)", buf, strerror(errno));
	struct utsname u;
	TRY(uname(&u));
	ENSURE(read_sysctl("/proc/sys/kernel/osrelease", buf, sizeof buf) == 0 && strncmp(buf, u.release, strlen(u.release)) == 0,
	       "kernel/osrelease \"%s\" is not uname's %s", buf, u.release);
	ENSURE(read_sysctl("/proc/sys/net/core/somaxconn", buf, sizeof buf) == 0 && atoi(buf) >= 128,
	       "net/core/somaxconn: \"%s\"", buf);
	ENSURE(read_sysctl("/proc/sys/vm/overcommit_memory", buf, sizeof buf) == 0 && buf[0] >= '0' && buf[0] <= '2',
	       "vm/overcommit_memory: \"%s\"", buf);
	ENSURE(read_sysctl("/proc/sys/kernel/pid_max", buf, sizeof buf) == 0 && atoi(buf) >= 32768,
	       "kernel/pid_max: \"%s\"", buf);
	ENSURE(read_sysctl("/proc/sys/fs/nr_open", buf, sizeof buf) == 0 && atoi(buf) >= 1024, "fs/nr_open: \"%s\"",
	       buf);
	DIR *d = opendir("/proc/sys/net");
	ENSURE(d != NULL, "opendir /proc/sys/net: %s", strerror(errno));
	int core = 0;
	for (struct dirent *e; (e = readdir(d));)
		core |= strcmp(e->d_name, "core") == 0 && e->d_type == DT_DIR;
	closedir(d);
	ENSURE(core, "/proc/sys/net has no directory core");
	/* readdir and stat agree on inode numbers. */
	d = opendir("/proc/sys/net/core");
	ENSURE(d != NULL, "opendir /proc/sys/net/core: %s", strerror(errno));
	ino_t listed = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, "somaxconn") == 0)
			listed = e->d_ino;
	closedir(d);
	struct stat st;
	TRY(stat("/proc/sys/net/core/somaxconn", &st));
	ENSURE(listed != 0 && listed == st.st_ino, "somaxconn: readdir gives inode %llu, stat %llu",
	       (unsigned long long)listed, (unsigned long long)st.st_ino);
	int fd = open("/proc/sys/kernel/no-such-tunable", O_RDONLY);
	ENSURE(fd < 0 && errno == ENOENT, "a missing tunable opened (%d, %s)", fd, strerror(errno));
	return NULL;
}

/* uname fields are filled in; prints `uname: <sysname> <release> <machine>` as information. */
static const char *check_uname(void)
{
	struct utsname u;
	TRY(uname(&u));
	printf("uname: %s %s %s\n", u.sysname, u.release, u.machine);
	ENSURE(u.sysname[0] != '\0', "sysname is empty");
	ENSURE(u.release[0] != '\0', "release is empty");
	ENSURE(strcmp(u.machine, "x86_64") == 0, "machine is \"%s\"", u.machine);
	return NULL;
}

/* ---- devices ------------------------------------------------------------------------ */

static const char *check_devices(void)
{
	char buf[4096];
	int null = open("/dev/null", O_RDWR);
	TRY(null);
	ENSURE(read(null, buf, sizeof buf) == 0, "read /dev/null did not return 0");
	memset(buf, 'x', sizeof buf);
	ENSURE(write(null, buf, sizeof buf) == sizeof buf, "write /dev/null: %s", strerror(errno));
	struct stat st;
	TRY(fstat(null, &st));
	ENSURE(S_ISCHR(st.st_mode), "/dev/null is not a character device (mode %o)", (unsigned)st.st_mode);
	TRY(close(null));

	int zero = open("/dev/zero", O_RDONLY);
	TRY(zero);
	memset(buf, 0xaa, sizeof buf);
	ENSURE(read(zero, buf, sizeof buf) == sizeof buf, "read /dev/zero: %s", strerror(errno));
	for (size_t i = 0; i < sizeof buf; i++)
		ENSURE(buf[i] == 0, "/dev/zero gave %#x at %zu", (unsigned char)buf[i], i);
	/* As in Linux, a large read is filled whole (dd bs=1M counts on it). */
	static char big[1 << 20];
	memset(big, 0xaa, sizeof big);
	ENSURE(read(zero, big, sizeof big) == sizeof big, "a 1 MiB read of /dev/zero was short");
	ENSURE(big[sizeof big - 1] == 0, "a 1 MiB read of /dev/zero left its end unwritten");
	TRY(close(zero));
	return NULL;
}

/* ---- pipes and processes ------------------------------------------------------------ */

/* pipe2 + fork: the child writes and exits 7; the parent reads to EOF and reaps it. */
static const char *check_pipes_fork(void)
{
	static const char message[] = "message from the child\n";
	int fds[2];
	TRY(pipe2(fds, O_CLOEXEC));
	ENSURE(fcntl(fds[0], F_GETFD) == FD_CLOEXEC, "pipe2 O_CLOEXEC not set");
	pid_t child = fork_flushed();
	TRY(child);
	if (child == 0) {
		close(fds[0]);
		for (int i = 0; i < 100; i++)
			if (write(fds[1], message, sizeof message - 1) != sizeof message - 1)
				_exit(1);
		_exit(7);
	}
	close(fds[1]);
	char buf[256];
	size_t total = 0, wrong = 0;
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			wrong += buf[i] != message[(total + (size_t)i) % (sizeof message - 1)];
		total += (size_t)n;
	}
	close(fds[0]);
	int status = wait_status(child);
	ENSURE(n == 0, "read from pipe: %s", strerror(errno));
	ENSURE(total == 100 * (sizeof message - 1) && wrong == 0, "read %zu bytes (%zu wrong), want %zu", total,
	       wrong, 100 * (sizeof message - 1));
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 7, "child status %#x, want exit 7", status);
	ENSURE(waitpid(child, NULL, WNOHANG) < 0 && errno == ECHILD, "reaped child still waitable");
	return NULL;
}

/* fork + execve of /proc/self/exe in child mode: exits 3. */
static const char *check_pipes_exec(void)
{
	pid_t child = fork_flushed();
	TRY(child);
	if (child == 0) {
		char *argv[] = {"c-probe", "child-mode", NULL};
		execve("/proc/self/exe", argv, environ);
		_exit(126);
	}
	int status = wait_status(child);
	ENSURE(!(WIFEXITED(status) && WEXITSTATUS(status) == 126), "execve /proc/self/exe failed in the child");
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 3, "child-mode status %#x, want exit 3", status);
	return NULL;
}

/* Arguments and environment are bytes, not text: Python's test runner passes Latin-1. */
static const char bytes_arg[] = "caf\xe9-\xff\x80";
static const char bytes_env[] = "BERTH_BYTES=\xc3\x28\xfe";

/* The child side of check_exec_bytes: exits 4 when both byte strings arrived intact. */
static int bytes_mode(char **argv)
{
	const char *env = getenv("BERTH_BYTES");
	int arg_ok = strcmp(argv[2], bytes_arg) == 0;
	int env_ok = env && strcmp(env, bytes_env + strlen("BERTH_BYTES=")) == 0;
	return arg_ok && env_ok ? 4 : 5;
}

/* execve passes argument and environment strings that are not UTF-8 unchanged. */
static const char *check_exec_bytes(void)
{
	pid_t child = fork_flushed();
	TRY(child);
	if (child == 0) {
		char *argv[] = {"c-probe", "bytes-mode", (char *)bytes_arg, NULL};
		char *envp[] = {(char *)bytes_env, NULL};
		execve("/proc/self/exe", argv, envp);
		_exit(126);
	}
	int status = wait_status(child);
	ENSURE(!(WIFEXITED(status) && WEXITSTATUS(status) == 126), "execve with non-UTF-8 bytes failed: %#x", status);
	ENSURE(WIFEXITED(status) && WEXITSTATUS(status) == 4, "bytes-mode status %#x, want exit 4", status);
	return NULL;
}

/* ---- signals ------------------------------------------------------------------------ */

static volatile sig_atomic_t caught_signal, caught_code, caught_pid, caught_count;

static void on_signal(int sig, siginfo_t *info, void *context)
{
	(void)context;
	caught_signal = sig;
	caught_code = info->si_code;
	caught_pid = info->si_pid;
	caught_count++;
}

/* Installs on_signal for `sig`, saving the old action in `old`. */
static int catch_signal(int sig, struct sigaction *old)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	caught_signal = caught_code = caught_pid = caught_count = 0;
	return sigaction(sig, &sa, old);
}

/* sigaction + raise runs the handler with the right siginfo. */
static const char *check_signals_raise(void)
{
	struct sigaction old;
	TRY(catch_signal(SIGUSR1, &old));
	TRY(raise(SIGUSR1));
	sigaction(SIGUSR1, &old, NULL);
	ENSURE(caught_count == 1 && caught_signal == SIGUSR1, "handler ran %d times, signal %d", (int)caught_count,
	       (int)caught_signal);
	ENSURE(caught_code == SI_TKILL, "si_code %d, want SI_TKILL (raise uses tkill)", (int)caught_code);
	ENSURE(caught_pid == getpid(), "si_pid %d, want %d", (int)caught_pid, getpid());
	struct sigaction now;
	TRY(sigaction(SIGUSR1, NULL, &now));
	ENSURE(now.sa_handler == SIG_DFL, "restoring the old action did not stick");
	return NULL;
}

/* A blocked signal stays pending until unblocked, then the handler runs. */
static const char *check_signals_mask(void)
{
	struct sigaction old;
	sigset_t block, prev, pending;
	TRY(catch_signal(SIGUSR2, &old));
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	TRY(sigprocmask(SIG_BLOCK, &block, &prev));
	TRY(raise(SIGUSR2));
	int ran_while_blocked = caught_count;
	TRY(sigpending(&pending));
	int was_pending = sigismember(&pending, SIGUSR2);
	TRY(sigprocmask(SIG_SETMASK, &prev, NULL));
	int ran_after = caught_count;
	TRY(sigpending(&pending));
	int still_pending = sigismember(&pending, SIGUSR2);
	sigaction(SIGUSR2, &old, NULL);
	ENSURE(ran_while_blocked == 0, "handler ran while SIGUSR2 was blocked");
	ENSURE(was_pending == 1, "blocked SIGUSR2 is not in sigpending");
	ENSURE(ran_after == 1 && caught_signal == SIGUSR2, "handler ran %d times after unblocking", ran_after);
	ENSURE(still_pending == 0, "SIGUSR2 still pending after delivery");
	return NULL;
}

/* kill(getpid(), SIGTERM) with a handler installed runs the handler with SI_USER. */
static const char *check_signals_kill(void)
{
	struct sigaction old;
	TRY(catch_signal(SIGTERM, &old));
	TRY(kill(getpid(), SIGTERM));
	sigaction(SIGTERM, &old, NULL);
	ENSURE(caught_count == 1 && caught_signal == SIGTERM, "handler ran %d times, signal %d", (int)caught_count,
	       (int)caught_signal);
	ENSURE(caught_code == SI_USER, "si_code %d, want SI_USER", (int)caught_code);
	ENSURE(caught_pid == getpid(), "si_pid %d, want %d", (int)caught_pid, getpid());
	ENSURE(kill(getpid(), 0) == 0, "kill with signal 0: %s", strerror(errno));
	return NULL;
}

/* A child killed with SIGKILL reports WIFSIGNALED with WTERMSIG 9. */
static const char *check_signals_sigkill(void)
{
	int fds[2];
	TRY(pipe(fds));
	pid_t child = fork_flushed();
	TRY(child);
	if (child == 0) {
		close(fds[0]);
		close(fds[1]); /* tells the parent the child is running */
		for (;;)
			pause();
	}
	close(fds[1]);
	char c;
	ENSURE(read(fds[0], &c, 1) == 0, "waiting for the child failed");
	close(fds[0]);
	TRY(kill(child, SIGKILL));
	int status = wait_status(child);
	ENSURE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %#x, want killed by signal 9",
	       status);
	return NULL;
}

/* ---- errors ------------------------------------------------------------------------- */

static const char *check_errors(void)
{
	char path[128];
	errno = 0;
	ENSURE(open(in_scratch(path, sizeof path, "missing/file"), O_RDONLY) < 0 && errno == ENOENT,
	       "open of a missing path: %s", strerror(errno));

	int fds[2];
	TRY(pipe(fds));
	ENSURE(write(fds[1], "data", 4) == 4, "write: %s", strerror(errno));
	errno = 0;
	ENSURE(read(fds[0], (void *)1, 4) < 0 && errno == EFAULT, "read into (void *)1: %s", strerror(errno));
	errno = 0;
	ENSURE(close(-1) < 0 && errno == EBADF, "close(-1): %s", strerror(errno));
	errno = 0;
	ENSURE(write(1000, "x", 1) < 0 && errno == EBADF, "write to fd 1000: %s", strerror(errno));
	/* A socket type with a flag bit Linux does not know: EINVAL before anything else. */
	int pair[2];
	errno = 0;
	ENSURE(socketpair(AF_UNIX, SOCK_STREAM | 0x100000, 0, pair) < 0 && errno == EINVAL,
	       "socketpair with an unknown type flag: %s", strerror(errno));
	errno = 0;
	ENSURE(socket(AF_INET, SOCK_STREAM | 0x100000, 0) < 0 && errno == EINVAL, "socket with an unknown type flag: %s",
	       strerror(errno));

	struct sigaction ign = {0}, old;
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	TRY(sigaction(SIGPIPE, &ign, &old));
	close(fds[0]);
	errno = 0;
	ssize_t n = write(fds[1], "x", 1);
	int err = errno;
	sigaction(SIGPIPE, &old, NULL);
	close(fds[1]);
	ENSURE(n < 0 && err == EPIPE, "write to a pipe with no reader gave %zd (%s), want EPIPE", n, strerror(err));
	return NULL;
}

/* ---- driver ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	check_fn run;
} checks[] = {
	{"files-rw", check_files_rw},
	{"files-slash", check_files_slash},
	{"files-vector", check_files_vector},
	{"files-dir", check_files_dir},
	{"files-links", check_files_links},
	{"files-cwd", check_files_cwd},
	{"files-fd", check_files_fd},
	{"memory-malloc", check_memory_malloc},
	{"memory-mmap", check_memory_mmap},
	{"memory-shared", check_memory_shared},
	{"file-shared-between-processes", check_file_shared_between_processes},
	{"futex-requeue", check_futex_requeue},
	{"memory-mprotect", check_memory_mprotect},
	{"memory-mincore", check_memory_mincore},
	{"memory-brk", check_memory_brk},
	{"time-monotonic", check_time_monotonic},
	{"time-realtime", check_time_realtime},
	{"random-getrandom", check_random_getrandom},
	{"random-urandom", check_random_urandom},
	{"identity", check_identity},
	{"uname", check_uname},
	{"proc-sys", check_proc_sys},
	{"sched-params", check_sched_params},
	{"devices", check_devices},
	{"pipes-fork", check_pipes_fork},
	{"pipes-exec", check_pipes_exec},
	{"exec-bytes", check_exec_bytes},
	{"signals-raise", check_signals_raise},
	{"signals-mask", check_signals_mask},
	{"signals-kill", check_signals_kill},
	{"signals-sigkill", check_signals_sigkill},
	{"errors", check_errors},
	{"epoll-level", check_epoll_level},
	{"epoll-edge", check_epoll_edge},
	{"epoll-oneshot", check_epoll_oneshot},
	{"epoll-ctl", check_epoll_ctl},
	{"epoll-pwait", check_epoll_pwait},
	{"epoll-nested", check_epoll_nested},
	{"eventfd-counter", check_eventfd_counter},
	{"eventfd-semaphore", check_eventfd_semaphore},
	{"eventfd-epoll", check_eventfd_epoll},
};

enum { CHECKS = sizeof checks / sizeof checks[0] };

/* Runs the checks whose name matches `only` (all if NULL); returns the exit status. */
static int run(const char *only)
{
	int passed = 0, failed = 0;
	snprintf(scratch, sizeof scratch, "/tmp/c-probe-%d", (int)getpid());
	mkdir("/tmp", 01777);
	if (mkdir(scratch, 0755) < 0) {
		fprintf(stderr, "c-probe: cannot create %s: %s\n", scratch, strerror(errno));
		return 1;
	}
	for (int i = 0; i < CHECKS; i++) {
		if (only && strcmp(only, checks[i].name) != 0)
			continue;
		const char *problem = checks[i].run();
		if (problem) {
			failed++;
			printf("FAIL %s: %s\n", checks[i].name, problem);
		} else {
			passed++;
			printf("PASS %s\n", checks[i].name);
		}
		fflush(stdout);
	}
	if (rmdir(scratch) < 0)
		fprintf(stderr, "c-probe: %s not empty after the checks: %s\n", scratch, strerror(errno));
	printf("c-probe: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "child-mode") == 0)
		return 3;
	if (argc == 3 && strcmp(argv[1], "bytes-mode") == 0)
		return bytes_mode(argv);
	if (argc == 2 && strcmp(argv[1], "smp-stress") == 0)
		return smp_stress_mode();
	if (argc == 2 && strcmp(argv[1], "where") == 0)
		return where_mode();
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < CHECKS; i++)
			puts(checks[i].name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--only") == 0) {
		for (int i = 0; i < CHECKS; i++)
			if (strcmp(argv[2], checks[i].name) == 0)
				return run(argv[2]);
		fprintf(stderr, "c-probe: no check named \"%s\" (see --list)\n", argv[2]);
		return 2;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: c-probe [--list | --only NAME | child-mode | smp-stress | where]\n");
		return 2;
	}
	return run(NULL);
}
