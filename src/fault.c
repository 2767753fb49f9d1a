/*
 * fault.c - crash on purpose at a named point (test build only).
 *
 * Compiled twice: as fault.o, where fault_point is empty, for migdir; and
 * with MIGDIR_FAULTS=1 as fault-on.o for the tests' migdir-faults, where
 * it calls _exit(99) -- no atexit handlers, no flushing, like a kill -9
 * at that instant (stdout is flushed first so that tests can see how far
 * the run got); or, asked for NAME+sigint, raises SIGINT there, as a
 * Ctrl-C would at that instant; or, asked for NAME+stop, stops there
 * (SIGSTOP) until the test, having changed something (a disk filled),
 * sends SIGCONT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "banned.h"

#if MIGDIR_FAULTS
#define FAULT_NAME(name) #name,
static const char *const fault_names[FAULT_N] = {FAULT_POINTS(FAULT_NAME)};

void
fault_point(enum fault f)
{
	static int hits;
	const char *want = getenv("MIGDIR_FAULT"), *name = fault_names[f], *p;
	size_t n = strlen(name);
	int nth = 1, sigint;

	if (!want || strncmp(want, name, n) ||
	    (want[n] && want[n] != ':' && want[n] != '+'))
		return;
	p = want + n;
	if (*p == ':')
		nth = (int)strtol(p + 1, (char **)&p, 10);
	sigint = !strcmp(p, "+sigint");
	if (++hits != nth)
		return;
	if (!strcmp(p, "+stop")) {
		/* frozen here until SIGCONT: the test changes the world */
		fprintf(stderr, "migdir: fault point %s reached: stopped\n",
		    name);
		raise(SIGSTOP);
		return;
	}
	if (sigint) {
		/* a Ctrl-C at this instant, instead of a crash */
		fprintf(stderr, "migdir: fault point %s reached: SIGINT\n",
		    name);
		raise(SIGINT);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "migdir: fault point %s reached: exiting\n", name);
	_exit(99);
}
#else
void
fault_point(enum fault f)
{
	(void)f;
}
#endif
