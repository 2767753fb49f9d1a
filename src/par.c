/*
 * par.c - par_each: a counter under a mutex hands out the items; the
 * calling thread works too, so without threads (or when none can be
 * started) everything still runs, here.
 */
#include <pthread.h>
#include <unistd.h>

#include "par.h"
#include "banned.h"

#define MAX_THREADS 8

struct par {
	size_t n, next;
	par_fn fn;
	void *ctx;
	pthread_mutex_t mu;
};

static void *
worker(void *arg)
{
	struct par *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

void
par_each(size_t n, size_t min_per_thread, par_fn fn, void *ctx)
{
	struct par p = {n, 0, fn, ctx, PTHREAD_MUTEX_INITIALIZER};
	pthread_t t[MAX_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = min_per_thread ? n / min_per_thread : n, k = 0, i;

	if (cpus > 0 && want > (size_t)cpus)
		want = (size_t)cpus;
	if (want > MAX_THREADS)
		want = MAX_THREADS;
	for (; k + 1 < want; k++)
		if (pthread_create(&t[k], NULL, worker, &p) != 0)
			break;
	worker(&p);
	for (i = 0; i < k; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p.mu);
}
