# The same content under a second --source (issue 16, part 8): its calls
# would be billed twice, once under each source.  Refused for that file,
# naming both sources, unless --also-under-source says it is meant.
. tests/cli/lib.sh

ing() { src=$1; shift; tally-ingest --source "$src" --format asterisk "$@"; }
recon() { tally-report reconcile --format csv; }
ast_cdr ACME-VN 0912345678 "2026-11-21 10:00:00" 60 k1 >"$T/a.csv"
ast_cdr ACME-VN 0912345678 "2026-11-21 11:00:00" 60 k2 >>"$T/a.csv"
ast_cdr ACME-VN 0912345678 "2026-11-22 10:00:00" 60 k3 >"$T/new.csv"
cp "$T/a.csv" "$T/copy.csv"

run 0 "a file under source hcm" ing hcm "$T/a.csv"
recon >"$T/before"
run 1 "the same content under source hni, beside a new file" ing hni "$T/copy.csv" "$T/new.csv"
contains "... is refused, naming both sources and the batch" "$T/err" \
	"tally-ingest: $T/copy.csv: the same content is already stored under source hcm (batch 1): refused under source hni, which would bill its calls a second time (--also-under-source if that is meant); nothing of it was stored"
contains "... while the new file goes in" "$T/out" "batch 2: $T/new.csv: read 1, accepted 1"
check "... and nothing of the copy is stored" "2 1" \
	"$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM cdr WHERE source = 'hcm'") $(sqlite3 \
	"$TALLY_DB" "SELECT count(*) FROM cdr WHERE source = 'hni'")"
check "... reconciliation: the first batch and the new file only" \
	"$(cat "$T/before")
2,hni,$T/new.csv,1,1,0,0" "$(recon | grep -v '^total')"

run 0 "the same content under the same source again" ing hcm "$T/copy.csv"
contains "... is skipped as before" "$T/out" "$T/copy.csv: already ingested as batch 1, skipped"

run 0 "with --also-under-source it goes in" ing hni --also-under-source "$T/copy.csv"
contains "... all its calls, for its record keys are per source" "$T/out" \
	"batch 3: $T/copy.csv: read 2, accepted 2, rejected 0, duplicates 0"
check "... two calls under each source" "hcm|2 hni|3" \
	"$(sqlite3 "$TALLY_DB" "SELECT source, count(*) FROM cdr GROUP BY source" | xargs)"
run 0 "... and again: skipped, as this source has it now" ing hni "$T/copy.csv"
contains "... as batch 3" "$T/out" "already ingested as batch 3, skipped"

# An empty file holds no call to bill twice: any source may send one.
: >"$T/empty1.csv"
: >"$T/empty2.csv"
run 0 "an empty file under one source" ing hcm "$T/empty1.csv"
run 0 "... and the same (no) bytes under another" ing hni "$T/empty2.csv"

# The spool goes the same way: a spool file whose records another source
# already delivered stays where it is (not .done), its .lines removed, and
# goes in with --also-under-source.
mkdir -p "$T/spool/dng"
spool "$T/spool/dng/000000000001.cdr" "$(sed -n 1p "$T/a.csv")" "$(sed -n 2p "$T/a.csv")"
run 1 "a spool file with the content of source hcm's file, under source dng" \
	ing dng --spool "$T/spool"
contains "... is refused, naming both sources" "$T/err" \
	"already stored under source hcm (batch 1): refused under source dng"
check "... left to a later run, its .lines gone" "000000000001.cdr" "$(ls "$T/spool/dng" | xargs)"
run 0 "... with --also-under-source it goes in" ing dng --also-under-source --spool "$T/spool"
check "... and is done" "000000000001.done" "$(ls "$T/spool/dng" | xargs)"
check "... its two calls under dng" "2" \
	"$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM cdr WHERE source = 'dng'")"
