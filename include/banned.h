/*
 * banned.h - functions migdir does not use.
 *
 * Included last by every source file (after the system headers), as in git:
 * unbounded copies and static-buffer tokenisers are the usual source of
 * overflows and surprises.  Use the buf API or a checked snprintf instead.
 */
#ifndef MIGDIR_BANNED_H
#define MIGDIR_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
