/*
 * par.h - run a function over many items on a few threads.
 *
 * For work that is the same for every item and touches only that item
 * (reading and parsing migration files): status and check parse hundreds
 * of files, and two cores halve the wait.
 */
#ifndef MIGDIR_PAR_H
#define MIGDIR_PAR_H

#include <stddef.h>

typedef void (*par_fn)(void *ctx, size_t i);

/*
 * Call fn(ctx, i) once for every i < n, in order of i as they are handed
 * out, on up to one thread per CPU (at most 8), the calling thread among
 * them; no thread is started unless each gets at least min_per_thread
 * items.  Returns when every call has returned.
 */
void par_each(size_t n, size_t min_per_thread, par_fn fn, void *ctx);

#endif
