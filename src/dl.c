/*
 * dl.c - fill a table of function pointers from a library opened with
 * dlopen (see dl.h).  The library stays loaded for the life of the
 * process.
 */
#include <dlfcn.h>
#include <string.h>

#include "dl.h"
#include "error.h"
#include "banned.h"

int
dl_load(const char *soname, const char *what, const char *need,
    const struct dl_sym *syms, size_t n)
{
	void *h, *sym;
	size_t i;

	/* lazy: only the functions a command calls get resolved */
	if (!(h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL)))
		return mg_error_set(MG_ERROR, "could not load %s: %s", what,
		    dlerror());
	for (i = 0; i < n; i++) {
		if (!(sym = dlsym(h, syms[i].name)))
			return mg_error_set(MG_ERROR,
			    "the installed %s lacks %s%s%s", what, syms[i].name,
			    need ? ": " : "", need ? need : "");
		/* a data pointer into a function pointer, as POSIX allows */
		memcpy(syms[i].slot, &sym, sizeof(sym));
	}
	return 0;
}
