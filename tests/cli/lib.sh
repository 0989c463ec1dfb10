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

# ast_cdr ACCOUNT CALLEE LOCAL_START SECONDS KEY [DISPOSITION]: one 18-column
# Asterisk Master.csv line from caller 0901000001, channels SIP/1-KEY and
# SIP/2-KEY, answered at its start and SECONDS long (duration = billsec);
# another DISPOSITION rings SECONDS and is not answered (billsec 0).
ast_cdr() {
	end=$(date -u -d "$3 UTC + $4 seconds" '+%Y-%m-%d %H:%M:%S')
	if [ "${6:-ANSWERED}" = ANSWERED ]; then answer=$3 billsec=$4; else answer= billsec=0; fi
	printf '"%s","0901000001","%s","c","x","SIP/1-%s","SIP/2-%s","Dial","x","%s","%s","%s",%d,%d,"%s","DOCUMENTATION","%s",""\n' \
	    "$1" "$2" "$5" "$5" "$3" "$answer" "$end" "$4" "$billsec" "${6:-ANSWERED}" "$5"
}

# spool FILE LINE...: append framed records to a spool file as tally-feedd
# does (spool.h), with Python's zlib for the CRC-32 (written here, not by
# tally).
spool() {
	/usr/bin/python3 - "$@" <<'PY'
import struct, sys, zlib
path, lines = sys.argv[1], sys.argv[2:]
with open(path, "ab") as f:
    for l in lines:
        b = l.encode()
        f.write(b"TSR1" + struct.pack("<II", len(b), zlib.crc32(b)) + b)
PY
}
