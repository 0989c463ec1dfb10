# Rating the bundled samples with the example tariffs, against charges worked
# out by hand from the price lists (tests/cli/rating.expect and its .notes).
. tests/cli/lib.sh

opt() { [ "$2" = - ] || printf '%s\n%s\n' "$1" "$2"; }
awk '$6 !~ /^samples\/bad\// && $1 !~ /^#/' tests/cli/samples.expect |
while read -r fmt src tz num map file r a j d; do
	# shellcheck disable=SC2046
	IFS='
' tally-ingest --source "$src" --format "$fmt" $(opt --tz "$tz") $(opt --numbering "$num") \
	    $(opt --map "$map") "$file" >/dev/null 2>&1
done
run 0 "load the Vietnamese hotline package" tally-tariff load tariffs/vn-hotline
run 0 "load the Chinese 400 package" tally-tariff load tariffs/cn-400
run 0 "rate" tally-rate

# amount in the currency's minor unit: VND none, CNY fen (a CDR rated with no
# tariff at all, for want of an account, shows its source's currency)
sqlite3 -separator '	' "$TALLY_DB" "SELECT c.source, c.record_key, r.status,
    ifnull(r.class, ''), r.billed_seconds,
    CASE WHEN coalesce(v.currency, CASE c.source WHEN 'sh-fs' THEN 'CNY' END) = 'CNY' THEN printf('%d.%02d', r.amount / 1000000, r.amount / 10000 % 100)
         ELSE printf('%d', r.amount / 1000000) END,
    CASE WHEN r.status = 'rated' THEN '' ELSE r.reason END
    FROM rating r JOIN cdr c ON c.id = r.cdr_id LEFT JOIN tariff_version v ON v.id = r.version_id
    ORDER BY c.source, c.batch_id, c.line" >"$T/rated"
if cmp -s tests/cli/rating.expect "$T/rated"; then
	ok "every sample CDR rated as worked out by hand"
else
	not_ok "every sample CDR rated as worked out by hand" "$(diff tests/cli/rating.expect "$T/rated" | head -n 30)"
fi
check "no rated amount has fractions of the minor unit" 0 \
    "$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM rating r JOIN tariff_version v ON v.id = r.version_id
       WHERE (v.currency = 'VND' AND r.amount % 1000000 <> 0) OR (v.currency = 'CNY' AND r.amount % 10000 <> 0)")"
