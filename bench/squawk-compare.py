#!/usr/bin/env python3
"""Compare migdir check with squawk, rule by rule, on migration corpora.

usage: bench/squawk-compare.py MIGDIR CORPUS_DIR... [--misses]

For every squawk rule that migdir also has, counts squawk's findings,
migdir's findings of the matching rules, and the squawk findings whose
statement migdir does not report with a matching rule (a miss).  A
squawk finding matches when migdir reports a matching rule on a statement
whose lines hold squawk's line; lock_timeout is compared per file, since
migdir reports it once per file.  --misses prints every miss, so that each
one can be explained (migdir(1) says why the deliberate ones are).
squawk comes from npm (squawk-cli); its gcc reporter counts lines and
columns from 0.
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

RULES = {
    "ban-drop-table": {"drop-table"},
    "ban-drop-column": {"drop-column"},
    "ban-drop-database": {"drop-database"},
    "ban-truncate-cascade": {"truncate", "drop-cascade"},
    "require-concurrent-index-creation": {"index-not-concurrent"},
    "require-concurrent-index-deletion": {"drop-index-not-concurrent"},
    "changing-column-type": {"column-type-change"},
    "constraint-missing-not-valid": {"add-foreign-key", "add-check",
                                     "add-unique"},
    "adding-foreign-key-constraint": {"add-foreign-key"},
    "disallowed-unique-constraint": {"add-unique"},
    "adding-serial-primary-key-field": {"add-unique"},
    "adding-not-nullable-field": {"set-not-null"},
    "adding-required-field": {"add-not-null-column"},
    "adding-field-with-default": {"volatile-default"},
    "renaming-table": {"rename-table"},
    "renaming-column": {"rename-column"},
    "require-lock-timeout": {"lock-timeout"},
}
PER_FILE = {"require-lock-timeout"}


def squawk(files):
    out = subprocess.run(["squawk", "--reporter", "gcc"] + files,
                         capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split(": ", 2)
        if len(parts) < 3 or parts[1] not in ("warning", "error"):
            continue
        path, lno, _col = parts[0].rsplit(":", 2)
        rule = parts[2].split(" ", 1)[0]
        found.append((os.path.normpath(path), int(lno) + 1, rule))
    return found


def migdir(binary, corpus):
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(os.path.join(corpus, "pending"),
                        os.path.join(tmp, "applied"))
        out = subprocess.run([binary, "check", "--json", tmp],
                             capture_output=True, text=True, cwd="/").stdout
        found = collections.defaultdict(list)
        for f in json.loads(out)["files"]:
            path = os.path.join(corpus, "pending",
                                os.path.basename(f["path"]))
            for d in f["findings"]:
                found[os.path.normpath(path)].append(d)
    return found


CREATED = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:unlogged\s+|temp\s+|temporary\s+)?"
    r"(?:table|materialized\s+view|view)\s+(?:if\s+not\s+exists\s+)?"
    r"([\w.\"]+)|rename\s+to\s+([\w.\"]+)", re.I)
TARGET = re.compile(
    r"(?:\bon|alter\s+table|drop\s+table|create\s+table)\s+(?:only\s+)?"
    r"(?:if\s+(?:not\s+)?exists\s+)?([\w.\"]+)", re.I)


def norm(name):
    return name.replace('"', "").split(".")[-1].lower()


def why_missed(path, lno, rule):
    """A reason for a miss that migdir(1) documents, or "?"."""
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.split("\n")
    if rule in PER_FILE:
        if re.search(r"concurrently", text, re.I) and not re.search(
                r"^\s*(alter\s+table|drop\s+table|lock)", text, re.I | re.M):
            return "CONCURRENTLY only"
        return "no strong lock on an existing table"
    pos = sum(len(line) + 1 for line in lines[:lno - 1])
    start = text.rfind(";", 0, pos) + 1
    end = text.find(";", pos)
    stmt = text[start:end if end >= 0 else len(text)]
    created = {norm(a or b) for a, b in CREATED.findall(text[:start])}
    created |= {norm(a or b) for a, b in CREATED.findall(stmt)}
    targets = {norm(t) for t in TARGET.findall(stmt)}
    if targets & created:
        return "table new in the file"
    return "?"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--misses" in sys.argv
    binary, corpora = args[0], args[1:]
    print("| corpus | squawk rule | migdir rule | squawk | migdir | missed "
          "| why missed |")
    print("|---|---|---|---:|---:|---:|---|")
    for corpus in corpora:
        name = os.path.basename(os.path.normpath(corpus))
        pending = os.path.join(corpus, "pending")
        files = sorted(os.path.join(pending, f) for f in os.listdir(pending)
                       if f.endswith(".sql"))
        sq = squawk(files)
        md = migdir(binary, corpus)
        for rule, ours in RULES.items():
            hits = [s for s in sq if s[2] == rule]
            mine = sum(1 for ds in md.values() for d in ds
                       if d["rule"] in ours)
            missed = []
            for path, lno, _ in hits:
                ds = [d for d in md.get(path, []) if d["rule"] in ours]
                if rule in PER_FILE:
                    ok = bool(ds)
                else:
                    ok = any(d["line"] <= lno <= d["end_line"] for d in ds)
                if not ok:
                    missed.append((path, lno))
            if not hits and not mine:
                continue
            why = collections.Counter(why_missed(p, n, rule)
                                      for p, n in missed)
            print("| %s | %s | %s | %d | %d | %d | %s |" % (
                name, rule, ", ".join(sorted(ours)), len(hits), mine,
                len(missed), ", ".join("%s: %d" % kv for kv in
                                       sorted(why.items()))))
            if show:
                for path, lno in missed:
                    print("    miss %s:%d (%s)" % (
                        path, lno, why_missed(path, lno, rule)))


if __name__ == "__main__":
    main()
