#!/bin/sh
# setup.sh - install the peers the benchmark compares migdir with:
# sqitch and sql-migrate from Debian, dbmate from npm.  As root or via sudo.
set -eu
as=; [ "$(id -u)" = 0 ] || as=sudo
$as apt-get install -y -q --no-install-recommends sqitch sql-migrate \
    postgresql postgresql-client nodejs npm >/dev/null
command -v dbmate >/dev/null || $as npm install -g --silent dbmate
