/*
 * dl.h - load a shared library on first use.
 *
 * libpq and libgit2 are opened with dlopen by the modules that use them
 * (db.c, vcs.c), so that commands which touch neither a database nor git
 * start without loading them.  Each module keeps a table of typed function
 * pointers; dl_load fills it from a list of names and slots.
 */
#ifndef MIGDIR_DL_H
#define MIGDIR_DL_H

#include <stddef.h>

struct dl_sym {
	const char *name; /* symbol to look up */
	void *slot;       /* address of the function pointer to fill */
};

/*
 * dlopen soname and fill every slot.  Returns 0, or MG_ERROR naming the
 * library (what) and the first missing symbol; `need` is appended to
 * that message ("libpq 14 or newer is needed") when not NULL.
 */
int dl_load(const char *soname, const char *what, const char *need,
    const struct dl_sym *syms, size_t n);

#endif
