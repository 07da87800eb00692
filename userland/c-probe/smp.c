/*
 * smp.c: `c-probe smp-stress`, threads of one process on several CPUs at once.
 *
 * - Four threads take one mutex (a futex when contended) 100000 times each; the
 *   total must come out exact, and every thread records the CPUs it ran on.
 * - Meanwhile one thread maps a page at a fixed address, fills it with its round's
 *   mark and unmaps it, over and over; another reads that address all the while
 *   (catching SIGSEGV); a third keeps taking fresh pages, filling them with POISON
 *   and giving them back, so that a frame freed by the unmapping is soon reused. A read
 *   must see 0 (a new page not yet filled), a mark, or fault: never POISON, which
 *   would mean the reader's CPU still translated through the freed frame.
 *
 * The race runs for a second after the counting ends. Prints "smp-stress ok: N CPUs, counter C" (or what went wrong) and exits 0 when
 * every check holds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define COUNTERS 4
#define ROUNDS 100000
#define MARK 0x4d41524b00000000ull	/* "MARK" and the round */
#define POISON 0x504f49534f4e2121ull	/* "POISON!!" */
#define SPOT ((uint64_t *)0x5a0000000000ull)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_ullong cpus_seen;
static atomic_int done;
static atomic_long bad_reads, faults, good_reads;
static __thread sigjmp_buf on_fault;

static void note_cpu(void)
{
	int cpu = sched_getcpu();
	if (cpu >= 0 && cpu < 64)
		atomic_fetch_or(&cpus_seen, 1ull << cpu);
}

static void *count(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		if (i % 1000 == 0)
			note_cpu();
	}
	return NULL;
}

static void *remap(void *arg)
{
	(void)arg;
	for (uint64_t round = 1; !atomic_load(&done); round++) {
		uint64_t *p = mmap(SPOT, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			break;
		for (int i = 0; i < 512; i++)
			p[i] = MARK | round;
		munmap(p, 4096);
	}
	return NULL;
}

static void *poison(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		uint64_t *p = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		for (int i = 0; i < 64 * 512; i++)
			p[i] = POISON;
		munmap(p, 64 * 4096);
	}
	return NULL;
}

static void segv(int sig)
{
	(void)sig;
	siglongjmp(on_fault, 1);
}

static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		if (sigsetjmp(on_fault, 1)) {
			atomic_fetch_add(&faults, 1);
			continue;
		}
		uint64_t v = *(volatile uint64_t *)SPOT;
		if (v == 0 || (v & 0xffffffff00000000ull) == MARK)
			atomic_fetch_add(&good_reads, 1);
		else
			atomic_fetch_add(&bad_reads, 1);
		note_cpu();
	}
	return NULL;
}

int smp_stress_mode(void)
{
	struct sigaction sa = {.sa_handler = segv};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	pthread_t counters[COUNTERS], others[3];
	void *(*jobs[3])(void *) = {remap, poison, reader};
	for (int i = 0; i < 3; i++)
		if (pthread_create(&others[i], NULL, jobs[i], NULL) != 0) {
			puts("smp-stress: pthread_create failed");
			return 1;
		}
	for (int i = 0; i < COUNTERS; i++)
		if (pthread_create(&counters[i], NULL, count, NULL) != 0) {
			puts("smp-stress: pthread_create failed");
			return 1;
		}
	for (int i = 0; i < COUNTERS; i++)
		pthread_join(counters[i], NULL);
	/* Give the unmapping race a second at least. */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (ns_between(start, now) < 1000000000ll);
	atomic_store(&done, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(others[i], NULL);
	int cpus = __builtin_popcountll(atomic_load(&cpus_seen));
	if (counter != (long)COUNTERS * ROUNDS || atomic_load(&bad_reads) != 0) {
		printf("smp-stress FAILED: counter %ld of %d, %ld reads of freed memory (%ld good, %ld faults)\n",
		       counter, COUNTERS * ROUNDS, atomic_load(&bad_reads), atomic_load(&good_reads),
		       atomic_load(&faults));
		return 1;
	}
	printf("smp-stress ok: %d CPUs, counter %ld, %ld reads, %ld faults\n", cpus, counter,
	       atomic_load(&good_reads), atomic_load(&faults));
	return 0;
}

/* `c-probe where`: spins a little (so the scheduler may move it), then prints the CPU
 * it runs on and its affinity mask. */
int where_mode(void)
{
	volatile unsigned long spin = 0;
	for (unsigned long i = 0; i < 20000000; i++)
		spin += i;
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) != 0) {
		perror("sched_getaffinity");
		return 1;
	}
	unsigned long long mask = 0;
	for (int cpu = 0; cpu < 64; cpu++)
		if (CPU_ISSET(cpu, &set))
			mask |= 1ull << cpu;
	printf("running on CPU %d, affinity %llx\n", sched_getcpu(), mask);
	return 0;
}
