# Helpers for the CLI tests: TAP-style "ok"/"not ok" lines, one per case.
# Every test gets its own scratch directory and store.
set -u
PATH="$TALLY_BIN:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/tally-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
export TALLY_DB="$T/tally.db"
cd "$TALLY_TOP" || exit 1
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# check NAME WANT GOT: equal strings
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "want: $2" "got:  $3"; fi
}

# run STATUS NAME CMD...: the command exits with STATUS; its stdout and
# stderr are left in $T/out and $T/err
run() {
	want=$1 name=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else
		not_ok "$name" "exit $rc, wanted $want" "$(head -c 400 "$T/err")"; fi
}

# contains NAME FILE TEXT: FILE holds the fixed string TEXT
contains() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else
		not_ok "$1" "no \"$3\" in $2:" "$(head -c 400 "$2")"; fi
}

fresh_db() { rm -f "$TALLY_DB" "$TALLY_DB-wal" "$TALLY_DB-shm"; }
