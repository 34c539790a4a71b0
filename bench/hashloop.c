/* hashloop.c: the ceiling for log-ins per second on this machine. Verifies one Argon2id
 * password hash (m = 19 MiB, t = 2, p = 1: what govhall stores) in a loop on N threads for D
 * seconds, and prints the verifications per second, as bench/run.sh compares logins/s with.
 *
 *   cc -O2 -pthread bench/hashloop.c -lsodium -o hashloop && ./hashloop [THREADS] [SECONDS]
 *
 * THREADS defaults to the number of online processors, SECONDS to 5. Output, one line:
 *   hashloop: THREADS threads, SECONDS s, COUNT verifications, RATE hashes/s
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep, sysconf */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MEMLIMIT (19u << 20)
#define OPSLIMIT 2u

static const char password[] = "Qinghe-demo-2026";
static char hash[crypto_pwhash_STRBYTES];
static atomic_bool stop;
static atomic_long total;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
	(void)arg;
	long n = 0;
	while (!atomic_load(&stop)) {
		if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
			fprintf(stderr, "hashloop: verification failed\n");
			exit(1);
		}
		n++;
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = argc > 1 ? strtol(argv[1], NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
	double seconds = argc > 2 ? strtod(argv[2], NULL) : 5.0;
	if (threads < 1 || threads > 1024 || !(seconds > 0)) {
		fprintf(stderr, "usage: hashloop [THREADS] [SECONDS]\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "hashloop: libsodium failed to initialise\n");
		return 1;
	}
	if (crypto_pwhash_str_alg(hash, password, strlen(password), OPSLIMIT, MEMLIMIT,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		fprintf(stderr, "hashloop: out of memory hashing\n");
		return 1;
	}
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	if (!t)
		return 1;
	double start = now();
	for (long i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "hashloop: cannot start thread %ld\n", i);
			return 1;
		}
	struct timespec d = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
	nanosleep(&d, NULL);
	atomic_store(&stop, true);
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double elapsed = now() - start;
	long n = atomic_load(&total);
	printf("hashloop: %ld threads, %.1f s, %ld verifications, %.1f hashes/s\n", threads, elapsed, n,
	       (double)n / elapsed);
	free(t);
	return 0;
}
