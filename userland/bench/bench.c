/* Micro-benchmarks of the system-call interface, run the same way in berth and in
 * Linux. Each mode prints one line: `bench <name>: <value> <unit> (<details>)`.
 *
 *   bench getpid N        N getpid() system calls: ns per call
 *   bench faults MIB      touch MIB of fresh anonymous memory: us per 4 KiB fault
 *   bench fork-exec N     fork + execve(/proc/self/exe true) + waitpid, N times: us each
 *   bench pipe N          N one-byte round trips between two processes over pipes: us each
 *   bench spin N          N million rounds of integer arithmetic in user mode: ms taken
 *   bench write-fsync PATH MIB
 *                         write MIB MiB to PATH in 1 MiB writes, then fsync: MiB/s of
 *                         the whole (what `dd conv=fsync` measures)
 *   bench read PATH MIB    read MIB MiB from PATH in 1 MiB reads: MiB/s
 *   bench true            exit at once (for start-up latency)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static long arg(int argc, char **argv, long fallback) {
    return argc > 2 ? strtol(argv[2], NULL, 10) : fallback;
}

static int bench_getpid(long n) {
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        syscall(SYS_getpid);
    }
    double ns = (now_ns() - start) / (double)n;
    printf("bench getpid: %.0f ns per call (%ld calls)\n", ns, n);
    return 0;
}

static int bench_faults(long mib) {
    size_t len = (size_t)mib << 20;
    double start = now_ns();
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t off = 0; off < len; off += 4096) {
        p[off] = 1;
    }
    double total = now_ns() - start;
    double faults = (double)(len / 4096);
    printf("bench faults: %.1f us per fault (%ld MiB in %.0f ms, %.0f faults/s)\n", total / faults / 1e3, mib,
           total / 1e6, faults / (total / 1e9));
    munmap((void *)p, len);
    return 0;
}

static int bench_fork_exec(long n) {
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *args[] = {"bench", "true", NULL};
            execv("/proc/self/exe", args);
            _exit(127);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("bench fork-exec: failed at iteration %ld\n", i);
            return 1;
        }
    }
    double us = (now_ns() - start) / (double)n / 1e3;
    printf("bench fork-exec: %.0f us per fork+execve+waitpid (%ld times)\n", us, n);
    return 0;
}

static int bench_pipe(long n) {
    int to_child[2], to_parent[2];
    if (pipe(to_child) || pipe(to_parent)) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    char c = 'x';
    if (pid == 0) {
        for (long i = 0; i < n; i++) {
            if (read(to_child[0], &c, 1) != 1 || write(to_parent[1], &c, 1) != 1) {
                _exit(1);
            }
        }
        _exit(0);
    }
    double start = now_ns();
    for (long i = 0; i < n; i++) {
        if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
            printf("bench pipe: failed at %ld\n", i);
            return 1;
        }
    }
    double us = (now_ns() - start) / (double)n / 1e3;
    waitpid(pid, NULL, 0);
    printf("bench pipe: %.1f us per round trip (%ld round trips)\n", us, n);
    return 0;
}

static int bench_spin(long millions) {
    double start = now_ns();
    volatile unsigned long x = 1;
    for (long i = 0; i < millions * 1000000; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    printf("bench spin: %.0f ms (%ld million rounds)\n", (now_ns() - start) / 1e6, millions);
    return 0;
}

static int bench_write_fsync(const char *path, long mib) {
    static char buf[1 << 20];
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (char)(i * 7);
    }
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    double start = now_ns();
    for (long i = 0; i < mib; i++) {
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
            perror("write");
            return 1;
        }
    }
    double written = now_ns();
    if (fsync(fd) != 0) {
        perror("fsync");
        return 1;
    }
    double synced = now_ns();
    close(fd);
    printf("bench write-fsync: %.1f MiB/s (%ld MiB: writes %.0f ms, fsync %.0f ms)\n",
           (double)mib / ((synced - start) / 1e9), mib, (written - start) / 1e6, (synced - written) / 1e6);
    return 0;
}

static int bench_read(const char *path, long mib) {
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    double start = now_ns();
    long total = 0;
    for (long i = 0; i < mib; i++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0) {
            break;
        }
        total += n;
    }
    double ms = (now_ns() - start) / 1e6;
    close(fd);
    printf("bench read: %.1f MiB/s (%.1f MiB in %.0f ms)\n", ((double)total / (1 << 20)) / (ms / 1e3),
           (double)total / (1 << 20), ms);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench getpid|faults|fork-exec|pipe|spin|true [N] | write-fsync|read PATH MIB\n");
        return 2;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "getpid") == 0) return bench_getpid(arg(argc, argv, 100000));
    if (strcmp(mode, "faults") == 0) return bench_faults(arg(argc, argv, 64));
    if (strcmp(mode, "fork-exec") == 0) return bench_fork_exec(arg(argc, argv, 100));
    if (strcmp(mode, "pipe") == 0) return bench_pipe(arg(argc, argv, 10000));
    if (strcmp(mode, "spin") == 0) return bench_spin(arg(argc, argv, 20));
    if (strcmp(mode, "true") == 0) return 0;
    if (strcmp(mode, "write-fsync") == 0 && argc > 3) return bench_write_fsync(argv[2], strtol(argv[3], NULL, 10));
    if (strcmp(mode, "read") == 0 && argc > 3) return bench_read(argv[2], strtol(argv[3], NULL, 10));
    fprintf(stderr, "bench: unknown mode %s\n", mode);
    return 2;
}
