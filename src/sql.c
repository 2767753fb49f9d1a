/*
 * sql.c - statements, offsets and transaction shape, from libpg_query.
 *
 * The only file that includes pg_query.h.  The parse tree comes back as
 * JSON and is read with jansson; each top-level statement is classified by
 * its node type (TransactionStmt, IndexStmt with "concurrent", ...), not
 * by looking at the text.  The text is scanned to skip the whitespace and
 * comments that the parser includes at the start of a statement and to
 * find the "-- migdir:no-transaction" marker; only a file PostgreSQL 15's
 * grammar rejects (newer syntax) is split by its scanner and classified by
 * the words its statements start with.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pg_query.h>

#include "error.h"
#include "sql.h"
#include "xalloc.h"
#include "banned.h"

#define MARKER "migdir:no-transaction"

/* Skip whitespace, -- comments and nested slash-star comments from off. */
static size_t
skip_blank(const char *t, size_t len, size_t off)
{
	while (off < len) {
		if (t[off] == ' ' || t[off] == '\t' || t[off] == '\n' ||
		    t[off] == '\r' || t[off] == '\f' || t[off] == '\v') {
			off++;
		} else if (t[off] == '-' && off + 1 < len &&
		    t[off + 1] == '-') {
			while (off < len && t[off] != '\n')
				off++;
		} else if (t[off] == '/' && off + 1 < len &&
		    t[off + 1] == '*') {
			int depth = 1;

			off += 2;
			while (off < len && depth > 0) {
				if (t[off] == '/' && off + 1 < len &&
				    t[off + 1] == '*') {
					depth++;
					off += 2;
				} else if (t[off] == '*' && off + 1 < len &&
				    t[off + 1] == '/') {
					depth--;
					off += 2;
				} else
					off++;
			}
		} else
			break;
	}
	return off;
}

void
sql_locate(const char *text, size_t len, size_t off, int *line, int *col,
    struct buf *line_text)
{
	size_t i, start = 0, end;
	int l = 1;

	if (off > len)
		off = len;
	for (i = 0; i < off; i++)
		if (text[i] == '\n') {
			l++;
			start = i + 1;
		}
	*line = l;
	*col = (int)(off - start) + 1;
	if (line_text) {
		for (end = start; end < len && text[end] != '\n'; end++)
			;
		if (end > start && text[end - 1] == '\r')
			end--;
		buf_reset(line_text);
		buf_put(line_text, text + start, end - start);
	}
}

size_t
sql_char_to_byte(const char *stmt, size_t len, int pos)
{
	size_t i = 0;
	int chars = 1;

	while (i < len && chars < pos) {
		i++;
		while (i < len && ((unsigned char)stmt[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

void
sql_error_at(const struct sql_script *s, size_t off)
{
	struct buf line = BUF_INIT;
	int l, c;

	sql_locate(s->text, s->len, off, &l, &c, &line);
	mg_error_locus(s->path, l, c, line.ptr);
	buf_release(&line);
}

static int
jbool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Does a DefElem list hold an element named name? */
static int
has_defelem(json_t *list, const char *name)
{
	size_t i;
	json_t *item;

	json_array_foreach (list, i, item) {
		json_t *d = json_object_get(item, "DefElem");
		const char *n = d ? jstr(d, "defname") : NULL;

		if (n && !strcmp(n, name))
			return 1;
	}
	return 0;
}

static void
classify_transaction(json_t *n, struct sql_stmt *st)
{
	const char *kind = jstr(n, "kind");

	if (!kind)
		return;
	if (!strcmp(kind, "TRANS_STMT_BEGIN") ||
	    !strcmp(kind, "TRANS_STMT_START")) {
		st->flags |= SQL_TX_BEGIN;
		st->what = "BEGIN";
		if (json_array_size(json_object_get(n, "options")))
			st->flags |= SQL_TX_OPTIONS;
	} else if (!strcmp(kind, "TRANS_STMT_COMMIT")) {
		st->flags |= SQL_TX_COMMIT;
		st->what = "COMMIT";
	} else if (!strcmp(kind, "TRANS_STMT_SAVEPOINT") ||
	    !strcmp(kind, "TRANS_STMT_RELEASE") ||
	    !strcmp(kind, "TRANS_STMT_ROLLBACK_TO")) {
		st->flags |= SQL_NEEDS_TX;
		st->what = "SAVEPOINT";
	} else {
		st->flags |= SQL_TX_ABORT;
		st->what = !strcmp(kind, "TRANS_STMT_ROLLBACK") ? "ROLLBACK"
		    : !strcmp(kind, "TRANS_STMT_COMMIT_PREPARED")
		    ? "COMMIT PREPARED"
		    : !strcmp(kind, "TRANS_STMT_ROLLBACK_PREPARED")
		    ? "ROLLBACK PREPARED"
		    : "PREPARE TRANSACTION";
	}
}

static void
classify_alter_table(json_t *n, struct sql_stmt *st)
{
	size_t i;
	json_t *cmd;

	json_array_foreach (json_object_get(n, "cmds"), i, cmd) {
		json_t *c = json_object_get(cmd, "AlterTableCmd");
		json_t *def = c ? json_object_get(c, "def") : NULL;
		json_t *pc = def ? json_object_get(def, "PartitionCmd") : NULL;

		if (pc && jbool(pc, "concurrent")) {
			st->flags |= SQL_NO_TX;
			st->what = "DETACH PARTITION CONCURRENTLY";
		}
	}
}

/* Set st->flags and st->what from one top-level node {"Type": {...}}. */
static void
classify(json_t *stmt, struct sql_stmt *st)
{
	const char *type;
	json_t *n;
	void *it = json_object_iter(stmt);

	if (!it)
		return;
	type = json_object_iter_key(it);
	n = json_object_iter_value(it);
	if (!strcmp(type, "TransactionStmt")) {
		classify_transaction(n, st);
	} else if (!strcmp(type, "IndexStmt")) {
		if (jbool(n, "concurrent")) {
			st->flags |= SQL_NO_TX;
			st->what = "CREATE INDEX CONCURRENTLY";
		}
	} else if (!strcmp(type, "DropStmt")) {
		if (jbool(n, "concurrent")) {
			st->flags |= SQL_NO_TX;
			st->what = "DROP INDEX CONCURRENTLY";
		}
	} else if (!strcmp(type, "ReindexStmt")) {
		const char *kind = jstr(n, "kind");

		if (has_defelem(json_object_get(n, "params"), "concurrently")) {
			st->flags |= SQL_NO_TX;
			st->what = "REINDEX CONCURRENTLY";
		} else if (kind &&
		    (!strcmp(kind, "REINDEX_OBJECT_DATABASE") ||
			!strcmp(kind, "REINDEX_OBJECT_SYSTEM"))) {
			st->flags |= SQL_NO_TX;
			st->what = "REINDEX DATABASE";
		}
	} else if (!strcmp(type, "VacuumStmt")) {
		if (jbool(n, "is_vacuumcmd")) {
			st->flags |= SQL_NO_TX;
			st->what = "VACUUM";
		}
	} else if (!strcmp(type, "CreatedbStmt") ||
	    !strcmp(type, "DropdbStmt")) {
		st->flags |= SQL_NO_TX;
		st->what = type[0] == 'C' ? "CREATE DATABASE" : "DROP DATABASE";
	} else if (!strcmp(type, "AlterSystemStmt")) {
		st->flags |= SQL_NO_TX;
		st->what = "ALTER SYSTEM";
	} else if (!strcmp(type, "CreateTableSpaceStmt") ||
	    !strcmp(type, "DropTableSpaceStmt")) {
		st->flags |= SQL_NO_TX;
		st->what =
		    type[0] == 'C' ? "CREATE TABLESPACE" : "DROP TABLESPACE";
	} else if (!strcmp(type, "ClusterStmt")) {
		if (!json_object_get(n, "relation")) {
			st->flags |= SQL_NO_TX;
			st->what = "CLUSTER (all tables)";
		}
	} else if (!strcmp(type, "CreateSubscriptionStmt") ||
	    !strcmp(type, "DropSubscriptionStmt")) {
		st->flags |= SQL_NO_TX;
		st->what = type[0] == 'C' ? "CREATE SUBSCRIPTION"
					  : "DROP SUBSCRIPTION";
	} else if (!strcmp(type, "AlterTableStmt")) {
		classify_alter_table(n, st);
	} else if (!strcmp(type, "LockStmt")) {
		st->flags |= SQL_NEEDS_TX;
		st->what = "LOCK TABLE";
	} else if (!strcmp(type, "DeclareCursorStmt")) {
		st->flags |= SQL_NEEDS_TX;
		st->what = "DECLARE CURSOR";
	} else if (!strcmp(type, "VariableSetStmt")) {
		const char *kind = jstr(n, "kind");
		const char *name = jstr(n, "name");

		if (jbool(n, "is_local")) {
			st->flags |= SQL_NEEDS_TX;
			st->what = "SET LOCAL";
		} else if (kind && !strcmp(kind, "VAR_SET_MULTI") &&
		    !(name && !strcmp(name, "SESSION CHARACTERISTICS"))) {
			st->flags |= SQL_NEEDS_TX;
			st->what = "SET TRANSACTION";
		} else
			st->flags |= SQL_SESSION_SET;
	} else if (!strcmp(type, "CopyStmt")) {
		if (!json_object_get(n, "filename") &&
		    !jbool(n, "is_program")) {
			st->flags |= SQL_COPY_STDIO;
			st->what = jbool(n, "is_from") ? "COPY FROM STDIN"
						       : "COPY TO STDOUT";
		}
	} else if (!strcmp(type, "AlterEnumStmt")) {
		if (jstr(n, "newVal") && !jstr(n, "oldVal"))
			st->flags |= SQL_ENUM_ADD;
	}
}

/* Copy at most SQL_NAME_MAX - 1 bytes of a name (NULL: ""). */
static void
set_name(char dst[SQL_NAME_MAX], const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= SQL_NAME_MAX)
		n = SQL_NAME_MAX - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static struct sql_action *
add_action(struct sql_script *s, size_t *cap, size_t stmt, enum sql_act kind)
{
	struct sql_action *a;

	XGROW(s->acts, *cap, s->nacts + 1);
	a = &s->acts[s->nacts++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->stmt = stmt;
	return a;
}

/* Fill schema and rel from a RangeVar's fields. */
static void
set_rangevar(struct sql_action *a, json_t *rv)
{
	set_name(a->schema, jstr(rv, "schemaname"));
	set_name(a->rel, jstr(rv, "relname"));
}

/* Fill schema and rel from the first n names of a list of String nodes. */
static void
set_qualified_n(struct sql_action *a, json_t *names, size_t n)
{
	json_t *last = json_object_get(json_array_get(names, n - 1), "String");
	json_t *prev = n > 1
	    ? json_object_get(json_array_get(names, n - 2), "String")
	    : NULL;

	set_name(a->rel, last ? jstr(last, "sval") : NULL);
	set_name(a->schema, prev ? jstr(prev, "sval") : NULL);
}

/* Fill schema and rel from a qualified name: a list of String nodes. */
static void
set_qualified(struct sql_action *a, json_t *names)
{
	set_qualified_n(a, names, json_array_size(names));
}

/*
 * Functions known not to be volatile.  A DEFAULT that calls any other
 * function (a user's function is VOLATILE unless it says otherwise) makes
 * ADD COLUMN rewrite the table; PostgreSQL 11 stores a constant or stable
 * default in the catalogue instead.
 */
static const char *const stable_funcs[] = {
    "now",
    "statement_timestamp",
    "transaction_timestamp",
    "current_setting",
    "lower",
    "upper",
    "btrim",
    "concat",
    "date_trunc",
    "make_interval",
    "to_timestamp",
    "timezone",
    "jsonb_build_object",
    "jsonb_build_array",
    "json_build_object",
    "json_build_array",
    "array_fill",
    NULL,
};

/*
 * Call fn on the value of every key named key in the tree, depth first;
 * stop and return 1 as soon as fn does.
 */
static int
each_node(json_t *node, const char *key, int (*fn)(json_t *, void *), void *arg)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(node)) {
		json_array_foreach (node, i, v) {
			if (each_node(v, key, fn, arg))
				return 1;
		}
		return 0;
	}
	if (!json_is_object(node))
		return 0;
	json_object_foreach (node, k, v) {
		if ((!strcmp(k, key) && fn(v, arg)) ||
		    each_node(v, key, fn, arg))
			return 1;
	}
	return 0;
}

/* Is a FuncCall's function one that may be volatile? */
static int
volatile_call(json_t *func_call, void *unused)
{
	json_t *names = json_object_get(func_call, "funcname");
	json_t *last =
	    json_object_get(json_array_get(names, json_array_size(names) - 1),
		"String");
	const char *fn = last ? jstr(last, "sval") : NULL;
	size_t i;

	(void)unused;
	for (i = 0; fn && stable_funcs[i]; i++)
		if (!strcmp(fn, stable_funcs[i]))
			return 0;
	return 1;
}

/* Does the expression call a function that may be volatile? */
static int
calls_volatile(json_t *node)
{
	return each_node(node, "FuncCall", volatile_call, NULL);
}

/* The last name of a type ("serial", "int4"). */
static const char *
type_last_name(json_t *type_name)
{
	json_t *names = json_object_get(type_name, "names");
	json_t *last =
	    json_object_get(json_array_get(names, json_array_size(names) - 1),
		"String");

	return last ? jstr(last, "sval") : NULL;
}

/* Flags of a column added by ALTER TABLE ... ADD COLUMN. */
static unsigned
column_flags(json_t *coldef)
{
	const char *type = type_last_name(json_object_get(coldef, "typeName"));
	unsigned f = 0;
	size_t i;
	json_t *c;

	if (type &&
	    (!strcmp(type, "serial") || !strcmp(type, "bigserial") ||
		!strcmp(type, "smallserial") || !strcmp(type, "serial2") ||
		!strcmp(type, "serial4") || !strcmp(type, "serial8")))
		f |= SAF_REWRITE | SAF_DEFAULT;
	json_array_foreach (json_object_get(coldef, "constraints"), i, c) {
		json_t *con = json_object_get(c, "Constraint");
		const char *t = con ? jstr(con, "contype") : NULL;

		if (!t)
			continue;
		if (!strcmp(t, "CONSTR_NOTNULL"))
			f |= SAF_NOT_NULL;
		else if (!strcmp(t, "CONSTR_DEFAULT")) {
			f |= SAF_DEFAULT;
			if (calls_volatile(json_object_get(con, "raw_expr")))
				f |= SAF_REWRITE;
		} else if (!strcmp(t, "CONSTR_IDENTITY") ||
		    !strcmp(t, "CONSTR_GENERATED"))
			f |= SAF_REWRITE | SAF_DEFAULT;
		else if (!strcmp(t, "CONSTR_FOREIGN"))
			f |= SAF_FK;
		else if (!strcmp(t, "CONSTR_CHECK"))
			f |= SAF_CHECK;
		else if (!strcmp(t, "CONSTR_PRIMARY"))
			f |= SAF_UNIQUE_COL | SAF_NOT_NULL;
		else if (!strcmp(t, "CONSTR_UNIQUE"))
			f |= SAF_UNIQUE_COL;
	}
	return f;
}

/* The kind letter of a Constraint node, or 0. */
static char
constraint_kind(json_t *con)
{
	const char *t = jstr(con, "contype");

	if (!t)
		return 0;
	if (!strcmp(t, "CONSTR_FOREIGN"))
		return 'f';
	if (!strcmp(t, "CONSTR_CHECK"))
		return 'c';
	if (!strcmp(t, "CONSTR_UNIQUE"))
		return 'u';
	if (!strcmp(t, "CONSTR_PRIMARY"))
		return 'p';
	if (!strcmp(t, "CONSTR_EXCLUSION"))
		return 'x';
	return 0;
}

/* Where referenced_tables adds its actions. */
struct adding {
	struct sql_script *s;
	size_t *cap;
	size_t stmt;
};

static int
add_referenced(json_t *pktable, void *arg)
{
	struct adding *to = arg;

	if (json_is_object(pktable))
		set_rangevar(add_action(to->s, to->cap, to->stmt,
				 SA_ALTER_OTHER),
		    pktable);
	return 0;
}

/*
 * A foreign key takes a SHARE ROW EXCLUSIVE lock on the table it
 * references: one lock action per table that a tree's constraints
 * reference.
 */
static void
referenced_tables(struct sql_script *s, size_t *cap, size_t i, json_t *node)
{
	struct adding to = {s, cap, i};

	each_node(node, "pktable", add_referenced, &to);
}

/* The most recent action of a kind (there is one). */
static struct sql_action *
last_of_kind(struct sql_script *s, enum sql_act kind)
{
	size_t k = s->nacts;

	while (k > 0 && s->acts[k - 1].kind != kind)
		k--;
	return &s->acts[k - 1];
}

static void
alter_table_actions(struct sql_script *s, size_t *cap, size_t i, json_t *n)
{
	json_t *rel = json_object_get(n, "relation"), *cmd;
	const char *objtype = jstr(n, "objtype");
	size_t k;

	if (!objtype || strcmp(objtype, "OBJECT_TABLE"))
		return;
	json_array_foreach (json_object_get(n, "cmds"), k, cmd) {
		json_t *c = json_object_get(cmd, "AlterTableCmd");
		const char *sub = c ? jstr(c, "subtype") : NULL;
		json_t *def = c ? json_object_get(c, "def") : NULL;
		struct sql_action *a;
		enum sql_act kind = SA_ALTER_OTHER;

		if (!sub)
			continue;
		if (!strcmp(sub, "AT_DropColumn"))
			kind = SA_DROP_COLUMN;
		else if (!strcmp(sub, "AT_AlterColumnType"))
			kind = SA_ALTER_TYPE;
		else if (!strcmp(sub, "AT_SetNotNull"))
			kind = SA_SET_NOT_NULL;
		else if (!strcmp(sub, "AT_AddColumn"))
			kind = SA_ADD_COLUMN;
		else if (!strcmp(sub, "AT_AddConstraint"))
			kind = SA_ADD_CONSTRAINT;
		else if (!strcmp(sub, "AT_DropConstraint"))
			kind = SA_DROP_CONSTRAINT;
		else if (!strcmp(sub, "AT_ValidateConstraint"))
			continue; /* SHARE UPDATE EXCLUSIVE: the safe way */
		a = add_action(s, cap, i, kind);
		set_rangevar(a, rel);
		set_name(a->name, jstr(c, "name"));
		if (jstr(c, "behavior") &&
		    !strcmp(jstr(c, "behavior"), "DROP_CASCADE"))
			a->flags |= SAF_CASCADE;
		if (kind == SA_ADD_COLUMN && def) {
			json_t *cd = json_object_get(def, "ColumnDef");

			set_name(a->name, cd ? jstr(cd, "colname") : NULL);
			a->flags |= cd ? column_flags(cd) : 0;
			referenced_tables(s, cap, i, def);
		} else if (kind == SA_ADD_CONSTRAINT && def) {
			json_t *con = json_object_get(def, "Constraint");

			if (!con)
				continue;
			referenced_tables(s, cap, i, def);
			a = last_of_kind(s, SA_ADD_CONSTRAINT);
			a->con = constraint_kind(con);
			set_name(a->name, jstr(con, "conname"));
			if (jbool(con, "skip_validation"))
				a->flags |= SAF_NOT_VALID;
			if (jstr(con, "indexname"))
				a->flags |= SAF_USING_INDEX;
		}
	}
}

/* One action per object of a DROP statement that lint cares about. */
static void
drop_actions(struct sql_script *s, size_t *cap, size_t i, json_t *n)
{
	const char *type = jstr(n, "removeType");
	enum sql_act kind;
	json_t *obj;
	size_t k;

	if (!type)
		return;
	if (!strcmp(type, "OBJECT_TABLE"))
		kind = SA_DROP_TABLE;
	else if (!strcmp(type, "OBJECT_SCHEMA"))
		kind = SA_DROP_SCHEMA;
	else if (!strcmp(type, "OBJECT_TYPE") || !strcmp(type, "OBJECT_DOMAIN"))
		kind = SA_DROP_TYPE;
	else if (!strcmp(type, "OBJECT_INDEX"))
		kind = SA_DROP_INDEX;
	else if (!strcmp(type, "OBJECT_VIEW") ||
	    !strcmp(type, "OBJECT_MATVIEW") || !strcmp(type, "OBJECT_TRIGGER"))
		kind = SA_ALTER_OTHER; /* a strong lock, nothing lost */
	else {
		/* a function, sequence, extension ...: CASCADE alone matters */
		if (jstr(n, "behavior") &&
		    !strcmp(jstr(n, "behavior"), "DROP_CASCADE"))
			add_action(s, cap, i, SA_DROP_OTHER)->flags |=
			    SAF_CASCADE;
		return;
	}
	json_array_foreach (json_object_get(n, "objects"), k, obj) {
		struct sql_action *a = add_action(s, cap, i, kind);
		json_t *list = json_object_get(obj, "List");
		json_t *tn = json_object_get(obj, "TypeName");
		json_t *str = json_object_get(obj, "String");

		if (list && !strcmp(type, "OBJECT_TRIGGER")) {
			/* [schema.]table.trigger: the lock is on the table */
			json_t *items = json_object_get(list, "items");

			set_qualified_n(a, items, json_array_size(items) - 1);
		} else if (list)
			set_qualified(a, json_object_get(list, "items"));
		else if (tn)
			set_qualified(a, json_object_get(tn, "names"));
		else if (str)
			set_name(a->rel, jstr(str, "sval"));
		if (jbool(n, "concurrent"))
			a->flags |= SAF_CONCURRENT;
		if (jstr(n, "behavior") &&
		    !strcmp(jstr(n, "behavior"), "DROP_CASCADE"))
			a->flags |= SAF_CASCADE;
	}
}

/* Is a lock_timeout value zero (no timeout)?  args: the SET's list. */
static int
zero_timeout(json_t *args)
{
	json_t *c = json_object_get(json_array_get(args, 0), "A_Const");
	json_t *iv, *sv;
	const char *str;

	if (!c)
		return 1;
	if ((iv = json_object_get(c, "ival")))
		return json_integer_value(json_object_get(iv, "ival")) == 0;
	sv = json_object_get(c, "sval");
	str = sv ? jstr(sv, "sval") : NULL;
	if (!str)
		return 1;
	while (*str == ' ')
		str++;
	while (*str == '0')
		str++;
	return !isdigit((unsigned char)*str) &&
	    (*str == '\0' || isalpha((unsigned char)*str) || *str == ' ');
}

/* Actions of one top-level statement node {"Type": {...}}. */
static void
statement_actions(struct sql_script *s, size_t *cap, size_t i, json_t *stmt)
{
	void *it = json_object_iter(stmt);
	const char *type;
	json_t *n, *x;
	struct sql_action *a;
	size_t k;

	if (!it)
		return;
	type = json_object_iter_key(it);
	n = json_object_iter_value(it);
	if (!strcmp(type, "CreateStmt")) {
		set_rangevar(add_action(s, cap, i, SA_CREATE_TABLE),
		    json_object_get(n, "relation"));
		referenced_tables(s, cap, i, json_object_get(n, "tableElts"));
	} else if (!strcmp(type, "ViewStmt")) {
		set_rangevar(add_action(s, cap, i,
				 jbool(n, "replace") ? SA_ALTER_OTHER
						     : SA_CREATE_TABLE),
		    json_object_get(n, "view"));
	} else if (!strcmp(type, "CreateTrigStmt")) {
		set_rangevar(add_action(s, cap, i, SA_ALTER_OTHER),
		    json_object_get(n, "relation"));
	} else if (!strcmp(type, "RefreshMatViewStmt")) {
		if (!jbool(n, "concurrent"))
			set_rangevar(add_action(s, cap, i, SA_ALTER_OTHER),
			    json_object_get(n, "relation"));
	} else if (!strcmp(type, "CreateTableAsStmt")) {
		set_rangevar(add_action(s, cap, i, SA_CREATE_TABLE),
		    json_object_get(json_object_get(n, "into"), "rel"));
	} else if (!strcmp(type, "SelectStmt")) {
		if ((x = json_object_get(n, "intoClause")))
			set_rangevar(add_action(s, cap, i, SA_CREATE_TABLE),
			    json_object_get(x, "rel"));
	} else if (!strcmp(type, "IndexStmt")) {
		a = add_action(s, cap, i, SA_CREATE_INDEX);
		set_rangevar(a, json_object_get(n, "relation"));
		set_name(a->name, jstr(n, "idxname"));
		a->flags |= (jbool(n, "concurrent") ? SAF_CONCURRENT : 0) |
		    (jbool(n, "unique") ? SAF_UNIQUE : 0);
	} else if (!strcmp(type, "DropStmt")) {
		drop_actions(s, cap, i, n);
	} else if (!strcmp(type, "DropOwnedStmt")) {
		if (jstr(n, "behavior") &&
		    !strcmp(jstr(n, "behavior"), "DROP_CASCADE"))
			add_action(s, cap, i, SA_DROP_OTHER)->flags |=
			    SAF_CASCADE;
	} else if (!strcmp(type, "DropdbStmt")) {
		set_name(add_action(s, cap, i, SA_DROP_DATABASE)->rel,
		    jstr(n, "dbname"));
	} else if (!strcmp(type, "TruncateStmt")) {
		json_array_foreach (json_object_get(n, "relations"), k, x) {
			a = add_action(s, cap, i, SA_TRUNCATE);
			set_rangevar(a, json_object_get(x, "RangeVar"));
			if (jstr(n, "behavior") &&
			    !strcmp(jstr(n, "behavior"), "DROP_CASCADE"))
				a->flags |= SAF_CASCADE;
		}
	} else if (!strcmp(type, "DeleteStmt") || !strcmp(type, "UpdateStmt")) {
		if (!json_object_get(n, "whereClause"))
			set_rangevar(add_action(s, cap, i,
					 type[0] == 'D' ? SA_DELETE_ALL
							: SA_UPDATE_ALL),
			    json_object_get(n, "relation"));
	} else if (!strcmp(type, "AlterTableStmt")) {
		alter_table_actions(s, cap, i, n);
	} else if (!strcmp(type, "RenameStmt")) {
		const char *rt = jstr(n, "renameType");
		const char *relt = jstr(n, "relationType");

		if (rt && !strcmp(rt, "OBJECT_TABLE")) {
			a = add_action(s, cap, i, SA_RENAME_TABLE);
			set_rangevar(a, json_object_get(n, "relation"));
			set_name(a->name, jstr(n, "newname"));
		} else if (rt && !strcmp(rt, "OBJECT_COLUMN") && relt &&
		    !strcmp(relt, "OBJECT_TABLE")) {
			a = add_action(s, cap, i, SA_RENAME_COLUMN);
			set_rangevar(a, json_object_get(n, "relation"));
			set_name(a->name, jstr(n, "subname"));
		}
	} else if (!strcmp(type, "VacuumStmt")) {
		if (jbool(n, "is_vacuumcmd") &&
		    has_defelem(json_object_get(n, "options"), "full")) {
			json_t *rels = json_object_get(n, "rels");

			if (!json_array_size(rels))
				add_action(s, cap, i, SA_VACUUM_FULL);
			json_array_foreach (rels, k, x) {
				set_rangevar(add_action(s, cap, i,
						 SA_VACUUM_FULL),
				    json_object_get(json_object_get(x,
							"VacuumRelation"),
					"relation"));
			}
		}
	} else if (!strcmp(type, "ClusterStmt")) {
		set_rangevar(add_action(s, cap, i, SA_CLUSTER),
		    json_object_get(n, "relation"));
	} else if (!strcmp(type, "ReindexStmt")) {
		a = add_action(s, cap, i, SA_REINDEX);
		set_rangevar(a, json_object_get(n, "relation"));
		if (has_defelem(json_object_get(n, "params"), "concurrently"))
			a->flags |= SAF_CONCURRENT;
	} else if (!strcmp(type, "AlterEnumStmt")) {
		if (jstr(n, "newVal") && !jstr(n, "oldVal")) {
			a = add_action(s, cap, i, SA_ENUM_ADD);
			set_qualified(a, json_object_get(n, "typeName"));
			set_name(a->name, jstr(n, "newVal"));
		}
	} else if (!strcmp(type, "LockStmt")) {
		json_array_foreach (json_object_get(n, "relations"), k, x) {
			set_rangevar(add_action(s, cap, i, SA_ALTER_OTHER),
			    json_object_get(x, "RangeVar"));
		}
	} else if (!strcmp(type, "VariableSetStmt")) {
		const char *name = jstr(n, "name");

		const char *kind = jstr(n, "kind");

		if (name && !strcmp(name, "lock_timeout")) {
			a = add_action(s, cap, i, SA_LOCK_TIMEOUT);
			if (kind && !strcmp(kind, "VAR_SET_VALUE") &&
			    !zero_timeout(json_object_get(n, "args")))
				a->flags |= SAF_NONZERO;
		}
	}
}

static int
string_is(json_t *a_const, void *val)
{
	json_t *sv = json_object_get(a_const, "sval");
	const char *str = sv ? jstr(sv, "sval") : NULL;

	return str && !strcmp(str, val);
}

/* Does the tree hold a string constant equal to val? */
static int
uses_string(json_t *node, const char *val)
{
	return each_node(node, "A_Const", string_is, (void *)val);
}

/*
 * Find, from byte `from` on, a line that is exactly
 * "-- migdir:no-transaction" (blanks aside): returns the offset of the
 * line's start plus one, or 0 if none.
 */
static size_t
find_marker(const char *t, size_t len, size_t from)
{
	size_t i = from, mlen = strlen(MARKER);

	while (i < len) {
		size_t p = i;

		while (p < len && (t[p] == ' ' || t[p] == '\t'))
			p++;
		if (p + 1 < len && t[p] == '-' && t[p + 1] == '-') {
			p += 2;
			while (p < len && (t[p] == ' ' || t[p] == '\t'))
				p++;
			if (p + mlen <= len && !memcmp(t + p, MARKER, mlen)) {
				size_t q = p + mlen;

				while (q < len &&
				    (t[q] == ' ' || t[q] == '\t' ||
					t[q] == '\r'))
					q++;
				if (q >= len || t[q] == '\n')
					return i + 1;
			}
		}
		while (i < len && t[i] != '\n')
			i++;
		i++;
	}
	return 0;
}

/*
 * The marker counts on a line between statements, not on one that is
 * part of a statement (a function body, a string).
 */
static void
find_marker_outside(struct sql_script *s)
{
	size_t at, from = 0, i;
	int col;

	while ((at = find_marker(s->text, s->len, from)) != 0) {
		at--;
		for (i = 0; i < s->n; i++)
			if (at >= s->stmts[i].off &&
			    at < s->stmts[i].off + s->stmts[i].len)
				break;
		if (i == s->n) {
			s->marked = 1;
			sql_locate(s->text, s->len, at, &s->marker_line, &col,
			    NULL);
			return;
		}
		from = at + 1;
	}
}

static int
script_error(const struct sql_script *s, size_t stmt, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	mg_error_set(MG_ERROR, "%s", b.ptr);
	buf_release(&b);
	sql_error_at(s, s->stmts[stmt].off);
	return MG_ERROR;
}

/*
 * Check the file's own transaction control and choose the statements to
 * run.  With merge, every BEGIN ... COMMIT block is merged into migdir's
 * transaction (a block stays atomic, and so does the whole file); without
 * (a file that runs without a transaction), every statement runs as
 * written.  Either way blocks must be closed and may not nest, and
 * ROLLBACK or PREPARE TRANSACTION cannot be honoured.
 */
static int
check_transaction_shape(struct sql_script *s, int merge)
{
	size_t i, begin = 0, k = 0;
	int in_block = 0;

	for (i = 0; i < s->n; i++) {
		unsigned f = s->stmts[i].flags;

		if (f & SQL_TX_ABORT)
			return script_error(s, i,
			    "%s in a migration file cannot be honoured",
			    s->stmts[i].what);
		if (f & SQL_TX_BEGIN) {
			if (in_block)
				return script_error(s, i,
				    "BEGIN inside the transaction block that "
				    "starts at line %d",
				    s->stmts[begin].line);
			if (merge && (f & SQL_TX_OPTIONS))
				return script_error(s, i,
				    "BEGIN with transaction options cannot be "
				    "merged into migdir's transaction");
			in_block = 1;
			begin = i;
			if (merge)
				continue;
		} else if (f & SQL_TX_COMMIT) {
			if (!in_block)
				return script_error(s, i,
				    "COMMIT without a matching BEGIN");
			in_block = 0;
			if (merge) {
				s->wrapped++;
				if (begin == 0 && i == s->n - 1)
					s->whole = 1;
				continue;
			}
		}
		s->run[k++] = i;
	}
	if (in_block)
		return script_error(s, begin,
		    "BEGIN without a matching COMMIT");
	s->nrun = k;
	return 0;
}

/* Decide transactional or not, and why. */
static void
decide_mode(struct sql_script *s)
{
	size_t i;

	if (s->marked) {
		s->transactional = 0;
		s->reason = "-- " MARKER;
		s->reason_stmt = 0;
		s->reason_line = s->marker_line;
		return;
	}
	for (i = 0; i < s->n; i++)
		if (s->stmts[i].flags & SQL_NO_TX) {
			s->transactional = 0;
			s->reason = s->stmts[i].what;
			s->reason_stmt = i;
			s->reason_line = s->stmts[i].line;
			return;
		}
	if (s->enum_used) {
		s->transactional = 0;
		s->reason = "ALTER TYPE ... ADD VALUE used later in the file";
		s->reason_stmt = s->enum_add;
		s->reason_line = s->stmts[s->enum_add].line;
		return;
	}
	s->transactional = 1;
}

/* A file that runs without a transaction must not need one. */
static int
check_untransacted(struct sql_script *s)
{
	size_t i;
	int in_block = 0;

	for (i = 0; i < s->n; i++) {
		unsigned f = s->stmts[i].flags;

		if (f & SQL_TX_BEGIN)
			in_block = 1;
		else if (f & SQL_TX_COMMIT)
			in_block = 0;
		else if ((f & SQL_NEEDS_TX) && !in_block)
			return script_error(s, i,
			    "%s needs a transaction, but this file runs "
			    "without one because of %s (line %d)",
			    s->stmts[i].what, s->reason, s->reason_line);
		if ((f & SQL_NO_TX) && in_block)
			return script_error(s, i,
			    "%s cannot run inside the file's transaction "
			    "block",
			    s->stmts[i].what);
	}
	return 0;
}

/* Where the next statement starts counting lines: see place(). */
struct cursor {
	size_t off; /* bytes counted so far */
	int line, col;
};

/*
 * Set st's range from a statement location and length (0: to the end)
 * as the parser or scanner gives them: leading blanks and comments
 * skipped, trailing blanks and a final ';' trimmed; and its line and
 * column, counted on from the previous statement.
 */
static void
place(const struct sql_script *s, struct sql_stmt *st, size_t loc, size_t slen,
    struct cursor *c)
{
	size_t end = slen > 0 ? loc + slen : s->len;

	if (loc > s->len)
		loc = 0;
	if (end > s->len)
		end = s->len;
	st->off = skip_blank(s->text, end, loc);
	while (end > st->off && strchr(" \t\r\n", s->text[end - 1]))
		end--;
	if (end > st->off && s->text[end - 1] == ';')
		end--;
	while (end > st->off && strchr(" \t\r\n", s->text[end - 1]))
		end--;
	st->len = end - st->off;
	for (; c->off < st->off; c->off++) {
		if (s->text[c->off] == '\n') {
			c->line++;
			c->col = 1;
		} else
			c->col++;
	}
	st->line = c->line;
	st->col = c->col;
}

/*
 * Up to max words of a statement, uppercased, comments skipped: enough
 * to classify what PostgreSQL 15's grammar cannot parse (syntax of a newer
 * server), whose statement heads are still the old ones.
 */
static size_t
head_words(const char *t, size_t len, char words[][24], size_t max)
{
	size_t i = 0, n = 0;

	while (n < max) {
		size_t k = 0;

		i = skip_blank(t, len, i);
		if (i >= len || !(isalpha((unsigned char)t[i]) || t[i] == '_'))
			break;
		while (
		    i < len && (isalnum((unsigned char)t[i]) || t[i] == '_')) {
			if (k + 1 < 24)
				words[n][k++] =
				    (char)toupper((unsigned char)t[i]);
			i++;
		}
		words[n++][k] = '\0';
		while (i < len && !isspace((unsigned char)t[i]) &&
		    !isalpha((unsigned char)t[i]) && t[i] != '-' && t[i] != '/')
			i++;
	}
	return n;
}

static int
has_word(char words[][24], size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(words[i], w))
			return 1;
	return 0;
}

/* classify() for a statement the parser could not read, by its head. */
static void
classify_head(const char *t, size_t len, struct sql_stmt *st)
{
	char w[8][24];
	size_t n = head_words(t, len, w, 8);

	if (n == 0)
		return;
	if (!strcmp(w[0], "BEGIN") ||
	    (!strcmp(w[0], "START") && n > 1 && !strcmp(w[1], "TRANSACTION"))) {
		size_t plain = !strcmp(w[0], "START") ||
			(n > 1 &&
			    (!strcmp(w[1], "WORK") ||
				!strcmp(w[1], "TRANSACTION")))
		    ? 2
		    : 1;

		st->flags |= SQL_TX_BEGIN | (n > plain ? SQL_TX_OPTIONS : 0);
		st->what = "BEGIN";
	} else if ((!strcmp(w[0], "COMMIT") || !strcmp(w[0], "END")) &&
	    !has_word(w, n, "PREPARED")) {
		st->flags |= SQL_TX_COMMIT;
		st->what = "COMMIT";
	} else if (!strcmp(w[0], "SAVEPOINT") || !strcmp(w[0], "RELEASE") ||
	    (!strcmp(w[0], "ROLLBACK") && has_word(w, n, "TO"))) {
		st->flags |= SQL_NEEDS_TX;
		st->what = "SAVEPOINT";
	} else if (!strcmp(w[0], "ROLLBACK") || !strcmp(w[0], "ABORT") ||
	    !strcmp(w[0], "COMMIT") ||
	    (!strcmp(w[0], "PREPARE") && n > 1 &&
		!strcmp(w[1], "TRANSACTION"))) {
		st->flags |= SQL_TX_ABORT;
		st->what = !strcmp(w[0], "PREPARE") ? "PREPARE TRANSACTION"
		    : !strcmp(w[0], "COMMIT")       ? "COMMIT PREPARED"
						    : "ROLLBACK";
	} else if (has_word(w, n, "CONCURRENTLY") &&
	    (!strcmp(w[0], "CREATE") || !strcmp(w[0], "DROP") ||
		!strcmp(w[0], "REINDEX") || !strcmp(w[0], "ALTER"))) {
		st->flags |= SQL_NO_TX;
		st->what = !strcmp(w[0], "CREATE") ? "CREATE INDEX CONCURRENTLY"
		    : !strcmp(w[0], "DROP")        ? "DROP INDEX CONCURRENTLY"
		    : !strcmp(w[0], "REINDEX")     ? "REINDEX CONCURRENTLY"
						   : "DETACH PARTITION "
						     "CONCURRENTLY";
	} else if (!strcmp(w[0], "VACUUM")) {
		st->flags |= SQL_NO_TX;
		st->what = "VACUUM";
	} else if (n > 1 && !strcmp(w[1], "DATABASE") &&
	    (!strcmp(w[0], "CREATE") || !strcmp(w[0], "DROP"))) {
		st->flags |= SQL_NO_TX;
		st->what = w[0][0] == 'C' ? "CREATE DATABASE" : "DROP DATABASE";
	} else if (n > 1 && !strcmp(w[0], "ALTER") && !strcmp(w[1], "SYSTEM")) {
		st->flags |= SQL_NO_TX;
		st->what = "ALTER SYSTEM";
	} else if (n > 1 && !strcmp(w[1], "TABLESPACE") &&
	    (!strcmp(w[0], "CREATE") || !strcmp(w[0], "DROP"))) {
		st->flags |= SQL_NO_TX;
		st->what =
		    w[0][0] == 'C' ? "CREATE TABLESPACE" : "DROP TABLESPACE";
	} else if (n > 1 && !strcmp(w[1], "SUBSCRIPTION") &&
	    (!strcmp(w[0], "CREATE") || !strcmp(w[0], "DROP"))) {
		st->flags |= SQL_NO_TX;
		st->what = w[0][0] == 'C' ? "CREATE SUBSCRIPTION"
					  : "DROP SUBSCRIPTION";
	} else if (!strcmp(w[0], "REINDEX") && n > 1 &&
	    (!strcmp(w[1], "DATABASE") || !strcmp(w[1], "SYSTEM"))) {
		st->flags |= SQL_NO_TX;
		st->what = "REINDEX DATABASE";
	} else if (!strcmp(w[0], "CLUSTER") && n == 1) {
		st->flags |= SQL_NO_TX;
		st->what = "CLUSTER (all tables)";
	} else if (!strcmp(w[0], "DECLARE")) {
		st->flags |= SQL_NEEDS_TX;
		st->what = "DECLARE CURSOR";
	} else if (!strcmp(w[0], "LOCK")) {
		st->flags |= SQL_NEEDS_TX;
		st->what = "LOCK TABLE";
	} else if (!strcmp(w[0], "SET") || !strcmp(w[0], "RESET")) {
		if (n > 1 && !strcmp(w[1], "LOCAL")) {
			st->flags |= SQL_NEEDS_TX;
			st->what = "SET LOCAL";
		} else if (n > 1 && !strcmp(w[1], "TRANSACTION")) {
			st->flags |= SQL_NEEDS_TX;
			st->what = "SET TRANSACTION";
		} else
			st->flags |= SQL_SESSION_SET;
	} else if (!strcmp(w[0], "COPY") &&
	    (has_word(w, n, "STDIN") || has_word(w, n, "STDOUT"))) {
		st->flags |= SQL_COPY_STDIO;
		st->what = has_word(w, n, "STDIN") ? "COPY FROM STDIN"
						   : "COPY TO STDOUT";
	}
}

/*
 * Statements of a file PostgreSQL 15's grammar rejects, split by its
 * scanner (which knows quotes, dollar quotes and comments, not syntax).
 * Returns 0, or -1 when even the scanner cannot split it.
 */
static int
scanner_statements(struct sql_script *s)
{
	PgQuerySplitResult sp = pg_query_split_with_scanner(s->text);
	struct cursor c = {0, 1, 1};
	size_t i, prev;

	if (sp.error || sp.n_stmts <= 0) {
		pg_query_free_split_result(sp);
		return -1;
	}
	s->n = (size_t)sp.n_stmts;
	s->stmts = xcalloc(s->n, sizeof(*s->stmts));
	for (i = 0; i < s->n; i++) {
		struct sql_stmt *st = &s->stmts[i];

		place(s, st, (size_t)sp.stmts[i]->stmt_location,
		    sp.stmts[i]->stmt_len > 0 ? (size_t)sp.stmts[i]->stmt_len
					      : 0,
		    &c);
		classify_head(s->text + st->off, st->len, st);
	}
	pg_query_free_split_result(sp);
	/* it must account for every byte: the scanner gives up quietly */
	for (i = 0, prev = 0; i <= s->n; i++) {
		size_t upto = i < s->n ? s->stmts[i].off : s->len, k;

		for (k = skip_blank(s->text, upto, prev); k < upto; k++)
			if (!strchr(" \t\r\n;", s->text[k]))
				break;
		if (k < upto) {
			free(s->stmts);
			s->stmts = NULL;
			s->n = 0;
			return -1;
		}
		if (i < s->n)
			prev = s->stmts[i].off + s->stmts[i].len;
	}
	return 0;
}

/*
 * Decide how the file runs and check that its own transaction control
 * fits: the same steps whether the parser or, for syntax it does not know,
 * the scanner split the file.
 */
static int
shape(struct sql_script *s)
{
	size_t i;
	int error;

	s->run = xcalloc(s->n + 1, sizeof(*s->run));
	for (i = 0; i < s->n; i++)
		if (s->stmts[i].flags & SQL_SESSION_SET)
			s->session_set = 1;
	for (i = 0; i < s->n; i++)
		if (s->stmts[i].flags & SQL_COPY_STDIO)
			return script_error(s, i,
			    "%s is psql syntax, not SQL: migdir cannot send "
			    "its data",
			    s->stmts[i].what);
	find_marker_outside(s);
	decide_mode(s);
	if ((error = check_transaction_shape(s, s->transactional)) < 0 ||
	    (!s->transactional && (error = check_untransacted(s)) < 0))
		return error;
	return 0;
}

/*
 * Is the text before the line holding byte `err` a sequence of statements
 * ending in COPY ... FROM STDIN?  Then a parse error after it is the
 * COPY's inline data (psql syntax); *at is the COPY statement's offset.
 */
static int
copy_stdin_before(const char *text, size_t err, size_t *at)
{
	size_t line = err;
	PgQueryParseResult r;
	json_t *tree, *stmts, *last;
	char *prefix;
	int found = 0;

	while (line > 0 && text[line - 1] != '\n')
		line--;
	if (line == 0)
		return 0;
	prefix = xstrndup(text, line);
	r = pg_query_parse(prefix);
	if (!r.error && (tree = json_loads(r.parse_tree, 0, NULL))) {
		stmts = json_object_get(tree, "stmts");
		last = json_array_get(stmts, json_array_size(stmts) - 1);
		if (last) {
			struct sql_stmt st = {0};

			classify(json_object_get(last, "stmt"), &st);
			if (st.flags & SQL_COPY_STDIO) {
				*at = skip_blank(prefix, line,
				    (size_t)json_integer_value(
					json_object_get(last,
					    "stmt_location")));
				found = 1;
			}
		}
		json_decref(tree);
	}
	pg_query_free_parse_result(r);
	free(prefix);
	return found;
}

/* An ALTER TYPE ... ADD VALUE seen so far, and where its value is used. */
struct enum_add {
	size_t add, use; /* statements; use 0: not used (yet) */
	char *val;
};

/* What reading a file's statements one by one keeps between them. */
struct reader {
	struct cursor c;       /* line and column of the last place */
	size_t cap, acap;      /* of s->stmts, s->acts */
	struct enum_add *adds; /* values added so far */
	size_t nadds, addcap;
};

/*
 * Add the statement of item (one of the parser's "stmts", loc and slen
 * its bytes in the file) to s: its place, class and actions, and whether
 * it uses an enum value an earlier statement added.
 */
static struct sql_stmt *
take_statement(struct sql_script *s, struct reader *rd, json_t *item,
    size_t loc, size_t slen)
{
	json_t *stmt = json_object_get(item, "stmt");
	struct sql_stmt *st;
	size_t k;

	XGROW(s->stmts, rd->cap, s->n + 1);
	st = &s->stmts[s->n];
	memset(st, 0, sizeof(*st));
	place(s, st, loc, slen, &rd->c);
	classify(stmt, st);
	statement_actions(s, &rd->acap, s->n, stmt);
	for (k = 0; k < rd->nadds; k++)
		if (!rd->adds[k].use && uses_string(item, rd->adds[k].val))
			rd->adds[k].use = s->n;
	if (st->flags & SQL_ENUM_ADD) {
		const char *v = json_string_value(
		    json_object_get(json_object_get(stmt, "AlterEnumStmt"),
			"newVal"));

		if (v) {
			XGROW(rd->adds, rd->addcap, rd->nadds + 1);
			rd->adds[rd->nadds].add = s->n;
			rd->adds[rd->nadds].use = 0;
			rd->adds[rd->nadds++].val = xstrdup(v);
		}
	}
	s->n++;
	return st;
}

/* The first enum value added and then used, when keep; free the rest. */
static void
reader_finish(struct sql_script *s, struct reader *rd, int keep)
{
	size_t k;

	for (k = 0; keep && k < rd->nadds; k++)
		if (rd->adds[k].use) {
			s->enum_used = 1;
			s->enum_add = rd->adds[k].add;
			s->enum_use = rd->adds[k].use;
			break;
		}
	for (k = 0; k < rd->nadds; k++)
		free(rd->adds[k].val);
	free(rd->adds);
	if (keep && !s->stmts)
		s->stmts = xcalloc(1, sizeof(*s->stmts));
}

/* Is t[from, upto) only blanks, comments and semicolons? */
static int
only_gaps(const char *t, size_t from, size_t upto)
{
	for (;;) {
		from = skip_blank(t, upto, from);
		if (from < upto && t[from] == ';')
			from++;
		else
			return from >= upto;
	}
}

/* Parse one statement's text alone; its JSON item, or NULL. */
static json_t *
parse_alone(const char *text, size_t len, json_t **tree)
{
	char *piece = xstrndup(text, len);
	PgQueryParseResult r = pg_query_parse(piece);
	json_t *stmts;

	*tree = NULL;
	if (!r.error)
		*tree = json_loads(r.parse_tree, 0, NULL);
	pg_query_free_parse_result(r);
	free(piece);
	stmts = *tree ? json_object_get(*tree, "stmts") : NULL;
	return json_array_size(stmts) == 1 ? json_array_get(stmts, 0) : NULL;
}

/*
 * The file statement by statement: the scanner splits it, and each piece
 * is parsed alone, its JSON tree read, used and freed, so that memory
 * stays near the file's size (a whole file's JSON tree takes about a
 * hundred times that: a data migration of a few hundred megabytes would
 * not fit).  Returns 1 when done; 0 when a piece does not parse alone (a
 * syntax error, or a body the scanner split, such as BEGIN ATOMIC): the
 * caller then parses the file whole, which also places an error.
 */
static int
parse_pieces(struct sql_script *s)
{
	PgQuerySplitResult sp = pg_query_split_with_scanner(s->text);
	struct reader rd = {{0, 1, 1}, 0, 0, NULL, 0, 0};
	size_t i, prev = 0;
	int ok = !sp.error;

	for (i = 0; ok && i < (size_t)sp.n_stmts; i++) {
		size_t loc = (size_t)sp.stmts[i]->stmt_location;
		size_t slen = sp.stmts[i]->stmt_len > 0
		    ? (size_t)sp.stmts[i]->stmt_len
		    : 0;
		size_t end =
		    slen > 0 && loc + slen <= s->len ? loc + slen : s->len;
		const struct sql_stmt *st;
		json_t *tree, *one;

		if (loc > s->len || skip_blank(s->text, end, loc) == end)
			continue; /* only blanks and comments */
		if (!(one = parse_alone(s->text + loc, end - loc, &tree)))
			ok = 0;
		else {
			st = take_statement(s, &rd, one, loc, slen);
			/* the scanner gives up on some bytes, quietly */
			ok = only_gaps(s->text, prev, st->off);
			prev = st->off + st->len;
		}
		json_decref(tree);
	}
	pg_query_free_split_result(sp);
	ok = ok && only_gaps(s->text, prev, s->len);
	reader_finish(s, &rd, ok);
	if (!ok) {
		free(s->stmts);
		free(s->acts);
		s->stmts = NULL;
		s->acts = NULL;
		s->n = s->nacts = 0;
	}
	return ok;
}

int
sql_parse_script(struct sql_script **out, const char *path, const char *text,
    size_t len)
{
	struct sql_script *s = xcalloc(1, sizeof(*s));
	PgQueryParseResult r;
	json_t *tree = NULL, *stmts;
	json_error_t jerr;
	size_t valid;
	int error = 0;

	*out = NULL;
	s->path = xstrdup(path);
	s->text = text;
	s->len = len;
	if (strlen(text) != len) {
		mg_error_set(MG_ERROR, "the file holds a NUL byte");
		sql_error_at(s, strlen(text));
		mg_error_hint("A NUL byte cannot be sent to PostgreSQL: remove "
			      "it (the file may be UTF-16, or binary); "
			      "nothing has run.");
		sql_script_free(s);
		return MG_ERROR;
	}
	if ((valid = utf8_valid_len(text, len)) != len) {
		mg_error_set(MG_ERROR,
		    "invalid UTF-8: byte 0x%02x cannot start or continue a "
		    "character",
		    (unsigned char)text[valid]);
		sql_error_at(s, valid);
		mg_error_hint("migdir sends SQL as UTF-8: convert the file "
			      "(iconv -f LATIN1 -t UTF-8, for a Latin-1 "
			      "file); nothing has run.");
		sql_script_free(s);
		return MG_ERROR;
	}
	if (parse_pieces(s)) {
		s->parsed = 1;
		if ((error = shape(s)) < 0)
			goto fail;
		*out = s;
		return 0;
	}
	r = pg_query_parse(text);
	if (r.error) {
		size_t off = r.error->cursorpos > 0
		    ? sql_char_to_byte(text, len, r.error->cursorpos)
		    : 0;
		size_t copy;

		if (copy_stdin_before(text, off, &copy)) {
			/* the "syntax error" is the COPY's data */
			pg_query_free_parse_result(r);
			mg_error_set(MG_ERROR,
			    "COPY FROM STDIN is psql syntax, not SQL: migdir "
			    "cannot send the data that follows it");
			sql_error_at(s, copy);
			mg_error_hint(
			    "Load the data with INSERT statements, or "
			    "with COPY FROM a file the server can "
			    "read.");
			sql_script_free(s);
			return MG_ERROR;
		}
		s->parse_error = xstrdup(r.error->message);
		pg_query_free_parse_result(r);
		s->parse_off = off;
		sql_locate(text, len, off, &s->parse_line, &s->parse_col, NULL);
		if (scanner_statements(s) == 0 && (error = shape(s)) < 0) {
			sql_script_free(s);
			return error;
		}
		mg_error_set(MG_ESQL, "%s", s->parse_error);
		sql_error_at(s, off);
		*out = s;
		return MG_ESQL;
	}
	s->parsed = 1;
	tree = json_loads(r.parse_tree, 0, &jerr);
	pg_query_free_parse_result(r);
	if (!tree) {
		error = mg_error_set(MG_ERROR,
		    "could not read the parse tree of \"%s\": %s", path,
		    jerr.text);
		goto fail;
	}
	stmts = json_object_get(tree, "stmts");
	{
		struct reader rd = {{0, 1, 1}, 0, 0, NULL, 0, 0};
		json_t *item;
		size_t i;

		json_array_foreach (stmts, i, item) {
			json_int_t loc = json_integer_value(
			    json_object_get(item, "stmt_location"));
			json_int_t slen = json_integer_value(
			    json_object_get(item, "stmt_len"));

			take_statement(s, &rd, item, loc > 0 ? (size_t)loc : 0,
			    slen > 0 ? (size_t)slen : 0);
		}
		reader_finish(s, &rd, 1);
	}
	if ((error = shape(s)) < 0)
		goto fail;
	json_decref(tree);
	*out = s;
	return 0;
fail:
	json_decref(tree);
	sql_script_free(s);
	return error;
}

/* Up to max words of t[0..len), uppercased, past quotes and comments. */
static size_t
words_of(const char *t, size_t len, char (*w)[24], size_t max)
{
	size_t i = 0, n = 0;

	while ((i = skip_blank(t, len, i)) < len && n < max) {
		if (t[i] == '\'' || t[i] == '"') {
			char q = t[i++];

			while (i < len && t[i] != q)
				i++;
			i++;
		} else if (isalpha((unsigned char)t[i]) || t[i] == '_') {
			size_t k = 0;

			while (i < len &&
			    (isalnum((unsigned char)t[i]) || t[i] == '_')) {
				if (k + 1 < sizeof(*w))
					w[n][k++] =
					    (char)toupper((unsigned char)t[i]);
				i++;
			}
			w[n++][k] = '\0';
		} else
			i++;
	}
	return n;
}

/* Keywords of syntax that PostgreSQL 16 to 18 added. */
static const char *const newer_words[] = {
    "JSON_TABLE",
    "JSON_EXISTS",
    "JSON_QUERY",
    "JSON_VALUE",
    "JSON_OBJECT",
    "JSON_ARRAY",
    "JSON_OBJECTAGG",
    "JSON_ARRAYAGG",
    "JSON_SCALAR",
    "JSON_SERIALIZE",
    "MERGE_ACTION",
    "SYSTEM_USER",
    NULL,
};

/* ... and words that are only new where the parser stops at them. */
static const char *const newer_at_error[] = {
    "VIRTUAL",
    "ENFORCED",
    "PERIOD",
    "OLD",
    "NEW",
    "MAINTAIN",
    "EXPRESSION",
    "SPLIT",
    NULL,
};

int
sql_newer_syntax(const struct sql_script *s)
{
	char w[256][24];
	size_t n, i, at, start = 0, end = s->len, k;

	if (s->parsed || !s->parse_error)
		return 0;
	if (strstr(s->parse_error, "subquery in FROM must have an alias"))
		return 1; /* PostgreSQL 16 */
	for (i = 0; i < s->n; i++)
		if (s->stmts[i].off <= s->parse_off) {
			start = s->stmts[i].off;
			end = s->stmts[i].off + s->stmts[i].len;
		}
	if (end < s->parse_off)
		end = s->len;
	/* the words of the statement, and how many come before the error */
	at = words_of(s->text + start, s->parse_off - start, w, 256);
	n = words_of(s->text + start, end - start, w, 256);
	/* a newer function or keyword where the parser stopped, or just before */
	for (i = at > 4 ? at - 4 : 0; i <= at && i < n; i++)
		for (k = 0; newer_words[k]; k++)
			if (!strcmp(w[i], newer_words[k]))
				return 1;
	if (at >= 1 && at < n && !strcmp(w[at], "JSON") &&
	    (!strcmp(w[at - 1], "IS") ||
		(at >= 2 && !strcmp(w[at - 1], "NOT") &&
		    !strcmp(w[at - 2], "IS"))))
		return 1; /* IS [NOT] JSON: 16 */
	if (n && !strcmp(w[0], "MERGE") && at < n &&
	    !strcmp(w[at], "RETURNING"))
		return 1; /* MERGE ... RETURNING: 17 */
	if (at >= 2 && at < n && !strcmp(w[at - 2], "CONSTRAINT") &&
	    !strcmp(w[at], "NOT"))
		return 1; /* CONSTRAINT name NOT NULL: 18 */
	for (k = 0; at < n && newer_at_error[k]; k++)
		if (!strcmp(w[at], newer_at_error[k]))
			return 1;
	return 0;
}

void
sql_script_free(struct sql_script *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->stmts);
	free(s->run);
	free(s->parse_error);
	free(s->acts);
	free(s);
}

int
sql_stmt_end_line(const struct sql_script *s, size_t i)
{
	const char *t = s->text + s->stmts[i].off;
	const char *end = t + s->stmts[i].len;
	int line = s->stmts[i].line;

	while ((t = memchr(t, '\n', (size_t)(end - t))) != NULL) {
		line++;
		t++;
	}
	return line;
}

size_t
sql_script_count(const struct sql_script *s)
{
	return s->nrun;
}

const struct sql_stmt *
sql_script_stmt(const struct sql_script *s, size_t i)
{
	return &s->stmts[s->run[i]];
}

void
sql_prepare_threads(void)
{
	json_object_seed(0);
}

int
sql_parser_version(void)
{
	return PG_VERSION_NUM;
}
