# Opening a store (issue 16, part 7): nothing is written to a file before it
# is known to be a tally store; only the commands that bring data in make a
# store of an empty file; the commands that only read open it read-only and
# work where nothing can be written.
. tests/cli/lib.sh

# A small store with issued invoices, closed cleanly (no -wal, no -shm).
tally-tariff load tariffs/vn-hotline >/dev/null
tally-ingest --source hcm-ast --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv samples/asterisk >/dev/null 2>&1
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 >/dev/null 2>&1
tally-invoice issue --period 2026-11 >/dev/null 2>&1
acme=$(tally-invoice list --account ACME-VN --period 2026-11 | awk '{ print $1 }')
check "the store has ACME-VN's November invoice" "yes" "$([ -n "$acme" ] && echo yes)"

# Every command, as "name|arguments": the readers first, then the writers
# (tally-ingest and tally-tariff load create stores, the others do not).
readers="tally-report reconcile|tally-report usage --period 2026-11|tally-invoice list
tally-export --invoice $acme --format json|tally-replay --batch 1|tally-account list
tally-account show ACME-VN|tally-account ledger ACME-VN|tally-tariff list
tally-tariff diff 1 1"
writers="tally-rate|tally-invoice close --period 2026-11|tally-invoice issue --period 2026-11
tally-account pay ACME-VN 1000 --date 2026-12-01"
creators="tally-ingest --source s2 --format asterisk samples/asterisk/Master.csv
tally-tariff load tariffs/cn-400"
# each CMD...: run every command of a list on --db $db; "name: exit status" per line
each() {
	printf '%s\n' "$1" | tr '|' '\n' | while read -r cmd; do
		# shellcheck disable=SC2086 # the arguments are split on purpose
		set -- $cmd
		prog=$1
		shift
		"$prog" --db "$db" "$@" >"$T/each.out" 2>"$T/each.err"
		echo "$prog ${1-}: $? $(head -c 300 "$T/each.err")"
	done
}

# Another program's database, in its own rollback journal mode: every
# command refuses it, and it is the same bytes afterwards, still in that
# mode, with no -wal beside it.  (The first version switched it to WAL, then
# refused it.)
db=$T/other.db
sqlite3 "$db" "PRAGMA journal_mode = delete; CREATE TABLE customer (id, name);
	INSERT INTO customer VALUES (1, 'x');" >/dev/null
cp "$db" "$T/other.orig"
each "$readers
$writers
$creators" >"$T/got"
check "another program's database: refused by every command, naming it" "" \
	"$(grep -vF "$db: not a tally store (another program's SQLite database); left as it was" \
	"$T/got")"
check "... which all exit 1 or 2" "" "$(grep -v ': [12] ' "$T/got")"
check "... and it is the same bytes" "same" "$(cmp -s "$db" "$T/other.orig" && echo same)"
check "... still in its own journal mode" "delete" "$(sqlite3 "$db" 'PRAGMA journal_mode')"
check "... with no -wal made beside it" "" "$(ls "$db-wal" 2>/dev/null)"

# A 0-byte file: every command but the two that bring data in refuses it,
# naming it, and leaves it 0 bytes.  (The first version made a store of it.)
db=$T/empty.db
: >"$db"
each "$readers
$writers" >"$T/got"
check "an empty file: refused by every command that does not create stores" "" \
	"$(grep -vF "$db: not a tally store: an empty file; tally-ingest or tally-tariff load makes one" \
	"$T/got")"
check "... which all exit 1 or 2" "" "$(grep -v ': [12] ' "$T/got")"
check "... and it stays 0 bytes" "0" "$(wc -c <"$db")"
run 0 "... tally-ingest makes a store of it" tally-ingest --db "$db" --source s \
	--format asterisk samples/asterisk/Master.csv
check "... a store in WAL mode" "wal" "$(sqlite3 "$db" 'PRAGMA journal_mode')"
: >"$T/empty2.db"
run 0 "... and so does tally-tariff load" tally-tariff --db "$T/empty2.db" load tariffs/vn-hotline

# A missing file: said so, and not created.
db=$T/none.db
each "$readers
$writers" >"$T/got"
check "a missing file: every command that does not create stores says so" "" \
	"$(grep -vF "$db: no such store; tally-ingest or tally-tariff load makes one" "$T/got")"
check "... and makes no file" "" "$(ls "$db" 2>/dev/null)"
run 2 "a store in a missing folder" tally-ingest --db "$T/no/such/dir/x.db" --source s \
	--format asterisk samples/asterisk/Master.csv
contains "... is said so by the command that makes stores" "$T/err" \
	"$T/no/such/dir/x.db: cannot make a store there: no such folder"
run 1 "a folder given as the store" tally-report --db "$T" reconcile
contains "... is said so" "$T/err" "$T: a folder, not a store"

# An older store: a reader says a writer must upgrade it, and does not.
cp "$TALLY_DB" "$T/old.db"
sqlite3 "$T/old.db" "PRAGMA user_version = 6"
run 1 "an older store: tally-report does not upgrade it" tally-report --db "$T/old.db" reconcile
contains "... and says what does" "$T/err" \
	"store schema version 6 is older than this program's (7) and this command only reads: run a command that writes (tally-rate, tally-ingest) to upgrade it"
check "... it stays at 6" "6" "$(sqlite3 "$T/old.db" 'PRAGMA user_version')"

# A store where nothing can be written.  SQLite reads a WAL store through
# its -wal and -shm files, which it cannot make there: tally's writers keep
# both when they close, so readers find them.  Two such places: a read-only
# mount of the store's folder in a mount namespace of our own (unshare -m),
# and a folder the reading user may not write (another user than the
# store's owner, through setpriv: the tests run as root, and root writes
# through chmod a-w, so permissions alone would prove nothing).
# (Not the sqlite3 shell first: closing the store last, it removes both.)
check "a writer leaves the store with its -wal and -shm" "tally.db-shm tally.db-wal" \
	"$(cd "$T" && ls tally.db-* | xargs)"
mkdir "$T/ro"
cp "$TALLY_DB" "$TALLY_DB-wal" "$TALLY_DB-shm" "$T/ro/"
cp -a "$T/ro" "$T/ro.pristine"
check "... in WAL mode" "wal" "$(sqlite3 "$TALLY_DB" 'PRAGMA journal_mode')"
cp "$T/ro/tally.db" "$T/ro.orig"
# readers_in HOW: every reader on $T/ro/tally.db run through in_ro, its
# output compared with the same reader's on the writable store
readers_in() {
	printf '%s\n' "$readers" | tr '|' '\n' | while read -r cmd; do
		# shellcheck disable=SC2086
		set -- $cmd
		prog=$1
		shift
		in_ro "$prog" --db "$T/ro/tally.db" "$@" >"$T/ro.out" 2>"$T/ro.err"
		echo "$prog ${1-}: $? $(head -c 300 "$T/ro.err")"
		"$prog" --db "$TALLY_DB" "$@" >"$T/rw.out" 2>/dev/null
		cmp -s "$T/ro.out" "$T/rw.out" || echo "$prog $*: output differs"
	done
}
db=$TALLY_DB
each "$readers" >"$T/want"
if unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	! touch "$1/probe"' sh "$T/ro" 2>/dev/null; then
	# in_ro CMD...: CMD with $T/ro read-only (the outputs go to $T)
	in_ro() {
		unshare -m sh -c 'd=$1; shift; mount --bind "$d" "$d" &&
			mount -o remount,bind,ro "$d" && exec "$@"' sh "$T/ro" "$@"
	}
	readers_in >"$T/got"
	check "on a read-only mount, every reader works as on the writable store" \
		"$(cat "$T/want")" "$(cat "$T/got")"
	check "... every reader exits 0" "" "$(grep -v ': 0 ' "$T/got")"
	check "... the store unchanged" "same" "$(cmp -s "$T/ro/tally.db" "$T/ro.orig" && echo same)"
	# While a writer ingests through the writable path, readers on the
	# read-only mount see each batch whole or not at all, and never a torn
	# file (reading the database file alone, immutable=1, they did).
	for i in 1 2 3 4 5 6; do
		scripts/gen-cdrs -n 3000 -s $i >"$T/g$i.csv"
	done
	( for i in 1 2 3 4 5 6; do
		tally-ingest --db "$T/ro/tally.db" --source gen --format asterisk "$T/g$i.csv" >/dev/null 2>&1
	done ) &
	w=$!
	: >"$T/torn"
	while kill -0 $w 2>/dev/null; do
		in_ro tally-report --db "$T/ro/tally.db" reconcile --format csv >"$T/rec" 2>>"$T/torn" ||
			echo "exit $?" >>"$T/torn"
		# every batch row adds up: read = accepted + rejected + duplicates
		awk -F, 'NR > 1 && $1 ~ /^[0-9]+$/ && $4 != $5 + $6 + $7 { print "torn row: " $0 }' \
			"$T/rec" >>"$T/torn"
	done
	wait $w
	check "... readers there while a writer ingests see whole batches, no error" "" \
		"$(head -c 600 "$T/torn")"
	in_ro tally-rate --db "$T/ro/tally.db" >"$T/out" 2>"$T/err"
	check "... a writer refuses, saying why" "1 $T/ro/tally.db: cannot be written here (a read-only file or file system), and this command writes the store" \
		"$? $(sed 's/^tally-rate: //' "$T/err")"
else
	ok "# SKIP a read-only mount: no mount namespace here"
fi
# another user, who may read the store but not write its folder or files
rm -rf "$T/ro"
cp -a "$T/ro.pristine" "$T/ro"
if [ "$(id -u)" -eq 0 ] && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
	in_ro() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
elif [ "$(id -u)" -ne 0 ]; then
	chmod a-w "$T/ro" "$T/ro"/*
	trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
	in_ro() { "$@"; }
else
	in_ro=
fi
chmod 755 "$T"
if command -v in_ro >/dev/null; then
	readers_in >"$T/got"
	check "in a folder the reader may not write, every reader works as on the writable store" \
		"$(cat "$T/want")" "$(cat "$T/got")"
	check "... every reader exits 0" "" "$(grep -v ': 0 ' "$T/got")"
	check "... the store unchanged" "same" "$(cmp -s "$T/ro/tally.db" "$T/ro.orig" && echo same)"
	# a store copied without its -wal and -shm (or last closed by an older
	# tally, which removed them): refused, saying how to make them, never
	# read from the database file alone (a writer elsewhere would tear it)
	rm "$T/ro/tally.db-wal" "$T/ro/tally.db-shm"
	in_ro tally-report --db "$T/ro/tally.db" reconcile >"$T/out" 2>"$T/err"
	check "... without its -wal and -shm a reader refuses, saying how to make them" \
		"1 $T/ro/tally.db: cannot be read here: its -wal and -shm files are missing, and this user cannot make them in its folder; run a command that writes the store (tally-rate) once where it can, and they stay" \
		"$? $(sed 's/^tally-report: //' "$T/err")"
else
	ok "# SKIP a folder the reader may not write: root cannot run as another user here"
fi
