/*
 * scan.h - list the migrations directory.  Reads directories, not files.
 *
 * The directory holds three folders: pending/ (written, not yet applied to
 * the tracked database), applied/ (applied to it) and archive/ (applied and
 * folded into consolidated_schema.sql).  scan_dir pairs each forward file
 * with its rollback, notes every folder that holds either, and lists the
 * strays: *.sql files whose names are not valid migration names.
 */
#ifndef MIGDIR_SCAN_H
#define MIGDIR_SCAN_H

#include <stddef.h>

#include "buf.h"
#include "name.h"

enum folder {
	FOLDER_PENDING,
	FOLDER_APPLIED,
	FOLDER_ARCHIVE,
	FOLDER_COUNT,
};

/* "pending", "applied", "archive" */
extern const char *const folder_name[FOLDER_COUNT];

struct migration {
	char *version;                  /* "20230601_add_email_templates" */
	char stamp[NAME_STAMP_LEN + 1]; /* normalised prefix */
	unsigned fwd; /* 1 << folder, for each folder holding VERSION.sql */
	unsigned rb;  /* same, for the rollback file */
};

struct stray {
	char *path; /* relative to the migrations directory: "pending/x.SQL" */
	char *reason; /* why it is not a migration name */
};

struct scan {
	char *dir;           /* the migrations directory, as given */
	struct migration *v; /* sorted in run order (name_cmp) */
	size_t n, cap;
	struct stray *strays; /* in directory order, by folder */
	size_t nstrays, strays_cap;
	unsigned present; /* 1 << folder for each folder that exists */
};

/*
 * Scan dir (the migrations directory).  Folders that do not exist count as
 * empty (see `present`).  Returns 0, MG_ENOTFOUND if dir itself does not
 * exist, MG_ERROR if a folder cannot be read.
 */
int scan_dir(struct scan *out, const char *dir);

/* Free everything scan_dir allocated; safe on a zeroed struct. */
void scan_release(struct scan *s);

/* The migration with this version, or NULL (binary search). */
const struct migration *scan_find(const struct scan *s, const char *version);

/*
 * The folder that holds the forward file (the first, in pending, applied,
 * archive order, if several do), else the rollback file's, else -1.
 */
int migration_folder(const struct migration *m);

/* The first folder (pending, applied, archive order) in a mask, or -1. */
int folder_lowest(unsigned mask);

/* Number of bits set in a folder mask. */
int folder_count(unsigned mask);

/*
 * Append "DIR/FOLDER/FILE" for the forward (NAME_FORWARD) or rollback file
 * of version to out.
 */
void scan_path(struct buf *out, const char *dir, int folder,
    const char *version, enum name_kind kind);

#endif
