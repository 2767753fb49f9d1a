/*
 * sql.h - split and classify a migration file with the PostgreSQL parser.
 *
 * The only module that uses libpg_query (PostgreSQL 15's own grammar).  A
 * file is parsed whole; each statement keeps its byte offsets so that any
 * error, from the parser or later from the server, is reported as
 * file:line:col.  No hand-made ';' splitter: dollar quotes, nested comments
 * and CREATE RULE bodies are the parser's business.
 *
 * sql_parse_script also decides how the file must run:
 *  - in one transaction (the default), with the file's own BEGIN; ...
 *    COMMIT; blocks removed so that migdir's bookkeeping joins the same
 *    transaction (a block is atomic inside it, and so is the whole file);
 *  - statement by statement, outside any transaction, when a statement
 *    cannot run in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM,
 *    ...), when an enum value added by ALTER TYPE ... ADD VALUE is used
 *    later in the same file, or when the file says "-- migdir:no-transaction".
 */
#ifndef MIGDIR_SQL_H
#define MIGDIR_SQL_H

#include <stddef.h>

#include "buf.h"

enum sql_flag {
	SQL_TX_BEGIN = 1 << 0,  /* BEGIN / START TRANSACTION */
	SQL_TX_COMMIT = 1 << 1, /* COMMIT / END */
	SQL_TX_ABORT =
	    1 << 2, /* ROLLBACK, PREPARE TRANSACTION, COMMIT PREPARED ... */
	SQL_NO_TX = 1 << 3,    /* cannot run inside a transaction block */
	SQL_NEEDS_TX = 1 << 4, /* only runs inside a transaction block */
	SQL_SESSION_SET = 1
	    << 5, /* SET / RESET without LOCAL: outlives the transaction */
	SQL_COPY_STDIO =
	    1 << 6,            /* COPY ... FROM STDIN / TO STDOUT: psql-only */
	SQL_ENUM_ADD = 1 << 7, /* ALTER TYPE ... ADD VALUE */
	SQL_TX_OPTIONS = 1 << 8, /* BEGIN with options (ISOLATION LEVEL ...) */
};

struct sql_stmt {
	size_t off;    /* byte offset of the statement's first token */
	size_t len;    /* bytes from off to the end of the statement (no ';') */
	int line, col; /* 1-based position of the first token */
	unsigned flags; /* enum sql_flag */
	const char *
	    what; /* static name for messages ("CREATE INDEX CONCURRENTLY"), or NULL */
};

/*
 * What a statement does to the schema and its data, as far as the risk
 * rules of lint.h care: one action per object a statement touches (DROP
 * TABLE a, b gives two).  Names are as the parser gives them (unquoted
 * identifiers folded to lower case), cut to PostgreSQL's 63 bytes.
 */
enum sql_act {
	SA_CREATE_TABLE, /* CREATE TABLE, CREATE TABLE AS, SELECT INTO, MV */
	SA_CREATE_INDEX, /* name: the index (may be ""); flags */
	SA_DROP_TABLE,
	SA_DROP_SCHEMA,   /* rel: the schema */
	SA_DROP_DATABASE, /* rel: the database */
	SA_DROP_TYPE,     /* rel: the type or domain */
	SA_DROP_INDEX,    /* rel: the index */
	SA_TRUNCATE,
	SA_DELETE_ALL, /* DELETE without WHERE */
	SA_UPDATE_ALL, /* UPDATE without WHERE */
	SA_DROP_COLUMN,
	SA_ALTER_TYPE, /* ALTER COLUMN ... TYPE */
	SA_SET_NOT_NULL,
	SA_ADD_COLUMN,     /* flags: SAF_NOT_NULL, SAF_DEFAULT, ... */
	SA_ADD_CONSTRAINT, /* con: 'f', 'c', 'u', 'p' or 'x'; flags */
	SA_DROP_CONSTRAINT,
	SA_RENAME_TABLE,  /* name: the new name */
	SA_RENAME_COLUMN, /* name: the column (old name) */
	SA_VACUUM_FULL,   /* rel "" for the whole database */
	SA_CLUSTER,
	SA_REINDEX,      /* flags: SAF_CONCURRENT */
	SA_ENUM_ADD,     /* rel: the type, name: the value */
	SA_ALTER_OTHER,  /* other strong locks: ALTER TABLE, LOCK TABLE, DROP
			    VIEW, triggers, the table a foreign key
			    references, REFRESH MATERIALIZED VIEW */
	SA_LOCK_TIMEOUT, /* SET [LOCAL] lock_timeout; SAF_NONZERO if set */
	SA_DROP_OTHER,   /* DROP FUNCTION, EXTENSION, OWNED ... CASCADE */
};

enum sql_act_flag {
	SAF_CONCURRENT = 1 << 0,  /* CONCURRENTLY */
	SAF_UNIQUE = 1 << 1,      /* a unique index */
	SAF_NOT_VALID = 1 << 2,   /* constraint added NOT VALID */
	SAF_USING_INDEX = 1 << 3, /* constraint USING INDEX */
	SAF_NOT_NULL = 1 << 4,    /* column NOT NULL (or PRIMARY KEY) */
	SAF_DEFAULT = 1 << 5,     /* column has a DEFAULT */
	SAF_REWRITE = 1 << 6, /* volatile default, serial, identity, stored */
	SAF_FK = 1 << 7,      /* column REFERENCES another table */
	SAF_CHECK = 1 << 8,   /* column CHECK */
	SAF_UNIQUE_COL = 1 << 9, /* column UNIQUE or PRIMARY KEY */
	SAF_CASCADE = 1 << 10,   /* DROP / TRUNCATE ... CASCADE */
	SAF_NONZERO = 1 << 11,   /* lock_timeout set to a non-zero value */
};

#define SQL_NAME_MAX 64 /* NAMEDATALEN */

struct sql_action {
	enum sql_act kind;
	unsigned flags;            /* enum sql_act_flag */
	size_t stmt;               /* index of the statement in stmts */
	char schema[SQL_NAME_MAX]; /* "" when not qualified */
	char rel[SQL_NAME_MAX];    /* table (or schema, type, index ...) */
	char name[SQL_NAME_MAX];   /* column, constraint, index, new name */
	char con;                  /* SA_ADD_CONSTRAINT: its kind */
};

struct sql_script {
	char *path;       /* file name for messages */
	const char *text; /* the file's text (borrowed, NUL-terminated) */
	size_t len;
	struct sql_stmt *stmts; /* every statement, wrapper included */
	size_t n;
	size_t *run; /* indexes of the statements to run, in order */
	size_t nrun;
	int wrapped;        /* BEGIN/COMMIT blocks removed (their number) */
	int whole;          /* ... and one of them spanned the whole file */
	int transactional;  /* run in one transaction with the bookkeeping */
	int marked;         /* "-- migdir:no-transaction" present */
	int marker_line;    /* ... on this line */
	int session_set;    /* some statement changes session settings */
	int parsed;         /* 0: the parser rejected the file (see below) */
	const char *reason; /* why not transactional (static), or NULL */
	size_t reason_stmt; /* index of the statement that decided it */
	int reason_line;    /* its line (or the marker's) */
	char *parse_error;  /* the parser's message when !parsed */
	int parse_line, parse_col;
	size_t parse_off;          /* ... at this byte */
	int enum_used;             /* a value ALTER TYPE ... ADD VALUE adds */
	size_t enum_add, enum_use; /* ... is used later: these statements */
	struct sql_action *acts;   /* what the statements do (parsed only) */
	size_t nacts;
};

/*
 * Parse text (len bytes, NUL-terminated) read from path.
 *
 * Returns 0 and a script on success.  When the parser rejects the file, the
 * script is still returned with MG_ESQL and the parser's message and locus
 * (parsed = 0, parse_error, parse_line, parse_col; the same error recorded
 * with mg_error_set): its statements are the scanner's split, classified
 * by their heads and shaped as usual, or none (n = 0) when the scanner
 * cannot account for every byte.  Callers decide whether a newer server
 * may accept what PostgreSQL 15's grammar does not.  Returns
 * MG_ERROR (and no script) for files that can never run: a NUL byte, bytes
 * that are not UTF-8, transaction control migdir cannot honour (BEGIN
 * without COMMIT, a BEGIN inside a block, COMMIT without BEGIN, ROLLBACK or
 * PREPARE TRANSACTION; BEGIN with options in a file merged into migdir's
 * transaction), COPY FROM STDIN, or a statement that needs a transaction in
 * a file that must run without one.  Files that run without a transaction
 * get the same checks on the blocks they open and close themselves.  Every
 * error carries a locus.
 */
int sql_parse_script(struct sql_script **out, const char *path,
    const char *text, size_t len);

/*
 * For a script the parser rejected: is it likely syntax that a newer
 * PostgreSQL accepts (SQL/JSON, MERGE ... RETURNING, virtual generated
 * columns, CONSTRAINT name NOT NULL, a subquery in FROM without an alias
 * ...)?  Then the server, not PostgreSQL 15's grammar, should decide.
 */
int sql_newer_syntax(const struct sql_script *s);

/* Free a script (not the text it borrows); NULL is a no-op. */
void sql_script_free(struct sql_script *s);

/* The last line of statement i (of stmts, not of those that run). */
int sql_stmt_end_line(const struct sql_script *s, size_t i);

/* Number of statements that will run. */
size_t sql_script_count(const struct sql_script *s);

/* The i-th statement that will run. */
const struct sql_stmt *sql_script_stmt(const struct sql_script *s, size_t i);

/*
 * Translate a byte offset in text into a 1-based line and column (in
 * bytes) and copy that line (without its newline) into line_text when it
 * is not NULL.
 */
void sql_locate(const char *text, size_t len, size_t off, int *line, int *col,
    struct buf *line_text);

/*
 * Byte offset, within the len bytes of stmt, of the 1-based character
 * position pos that the server (or the parser) reports; UTF-8 aware.
 */
size_t sql_char_to_byte(const char *stmt, size_t len, int pos);

/*
 * Record an error at byte offset off of script text (message already set by
 * mg_error_set): adds file, line, column and the source line.
 */
void sql_error_at(const struct sql_script *s, size_t off);

/*
 * Call before parsing on several threads: sets up what the parse shares
 * (jansson's hash seed), which would otherwise be set racily on first use.
 */
void sql_prepare_threads(void);

/* Version of the bundled parser, e.g. 150001. */
int sql_parser_version(void);

#endif
