# Every bundled sample, good and bad, against expectations worked out by hand
# from the format rules (tests/cli/samples.expect, rejects.expect,
# cdrs.expect; see samples/bad/README): the counts of each file, which lines
# are rejected and for which field, and every field of every accepted CDR.
. tests/cli/lib.sh

opt() { [ "$2" = - ] || printf '%s\n%s\n' "$1" "$2"; }

# ingest_line FORMAT SOURCE TZ NUMBERING MAP FILE: one sample, as expected
ingest_line() {
	set -- "$1" "$2" "$3" "$4" "$5" "$6"
	# shellcheck disable=SC2046
	IFS='
' tally-ingest --source "$2" --format "$1" $(opt --tz "$3") $(opt --numbering "$4") $(opt --map "$5") "$6"
}

while read -r fmt src tz num map file r a j d; do
	case $fmt in '#'*|'') continue ;; esac
	fresh_db
	ingest_line "$fmt" "$src" "$tz" "$num" "$map" "$file" >"$T/out" 2>"$T/err"
	check "$file: exit status" 0 "$?"
	check "$file: reconcile row" "1,$src,$file,$r,$a,$j,$d" \
	    "$(tally-report reconcile --format csv | sed -n 2p)"
	want=$(awk -F'\t' -v f="$file" '$1 == f { print $2 "\t" $3 }' tests/cli/rejects.expect | sort -n)
	got=$(sqlite3 -separator '	' "$TALLY_DB" 'SELECT line, field FROM reject ORDER BY line')
	check "$file: rejected lines and fields" "$want" "$got"
	check "$file: stderr names file:line: field for each reject shown" \
	    "$(echo "$want" | head -n 10 | awk -F'\t' -v f="$file" 'NF { print "tally-ingest: " f ":" $1 ": " $2 }')" \
	    "$(grep -v '\.\.\. and' "$T/err" | sed 's/\(: [^:]*\): .*/\1/')"
done <tests/cli/samples.expect

# All good samples into one store, in the order of samples.expect, then
# every canonical field of every CDR against cdrs.expect.
fresh_db
awk '$6 !~ /^samples\/bad\// && $1 !~ /^#/' tests/cli/samples.expect |
while read -r fmt src tz num map file r a j d; do
	ingest_line "$fmt" "$src" "$tz" "$num" "$map" "$file" >/dev/null 2>&1
done
sqlite3 -separator '	' "$TALLY_DB" "SELECT source, record_key, account, caller_raw,
    caller, callee_raw, callee, start_ts, ifnull(answer_ts, ''), end_ts, duration,
    billsec, disposition, type, line FROM cdr ORDER BY source, batch_id, line" >"$T/cdrs"
if cmp -s tests/cli/cdrs.expect "$T/cdrs"; then
	ok "every accepted CDR of the good samples, field by field"
else
	not_ok "every accepted CDR of the good samples, field by field" \
	    "$(diff tests/cli/cdrs.expect "$T/cdrs" | head -n 20)"
fi
check "no CDR has billable seconds without being answered" 0 \
    "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM cdr WHERE billsec > 0 AND disposition <> 'answered'")"
