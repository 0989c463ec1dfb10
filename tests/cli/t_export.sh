# Exports beyond the hand-worked invoices of t_invoice.sh: which fonts a PDF
# carries (a Vietnamese invoice no Chinese font, a rare ideograph its own
# font), and reports of bytes that are not UTF-8 as XLSX and JSON.
. tests/cli/lib.sh

# cn-400 with sh-office renamed: a rare ideograph of extension A (U+3400)
# among common ones, a Vietnamese word and a katakana.
cp -r tariffs/cn-400 "$T/cn"
sed -i 's/^sh-office,\(.*\),上海办公室$/sh-office,\1,上海㐀办公室 Hà Nội カ/' "$T/cn/accounts.csv"
# ... and numbers with slashes, as some finance departments write them
echo "invoice_prefix,QH/2026/" >>"$T/cn/package.csv"
tally-tariff load "$T/cn" >/dev/null
tally-tariff load tariffs/vn-hotline >/dev/null
tally-ingest --source sh-fs --format freeswitch --tz Asia/Shanghai \
	--numbering tariffs/numbering/cn.csv samples/freeswitch >/dev/null 2>&1
tally-ingest --source hcm-ast --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv samples/asterisk >/dev/null 2>&1
tally-rate >/dev/null 2>&1
tally-invoice close --period 2026-11 >/dev/null 2>&1
tally-invoice issue --period 2026-11 >/dev/null 2>&1
sh=$(tally-invoice list --account sh-office --period 2026-11 | awk '{ print $1 }')
check "sh-office's number has the prefix's slashes" "QH/2026/000003" "$sh"
acme=$(tally-invoice list --account ACME-VN --period 2026-11 | awk '{ print $1 }')
run 0 "export the period as PDF" tally-export --period 2026-11 --format pdf --out "$T/pdf"
check "... a slash of a number is %2F in its file name, which no number can hold" \
	"QH%2F2026%2F000001.pdf QH%2F2026%2F000002.pdf QH%2F2026%2F000003.pdf" \
	"$(ls "$T/pdf" | grep '^QH' | xargs)"
sh=$(printf '%s' "$sh" | sed 's|/|%2F|g')
check "the renamed customer reads back whole" "1" \
	"$(pdftotext -q "$T/pdf/$sh.pdf" - | grep -c '^上海㐀办公室 Hà Nội カ$')"
# pdffonts: one line per embedded font after a two-line header
check "... in three embedded fonts: sans, Chinese and the rare ideographs" "3 3" \
	"$(pdffonts "$T/pdf/$sh.pdf" 2>/dev/null | tail -n +3 | wc -l) $(pdffonts "$T/pdf/$sh.pdf" 2>/dev/null |
	tail -n +3 | awk '$(NF-4) == "yes" { n++ } END { print n + 0 }')"
check "a Vietnamese invoice carries the sans font alone" "1" \
	"$(pdffonts "$T/pdf/$acme.pdf" 2>/dev/null | tail -n +3 | wc -l)"
# A program away from the build's fonts (and none installed) says what is missing.
if [ ! -e /usr/local/share/tally/fonts ]; then
	mkdir -p "$T/bin"
	cp "$TALLY_BIN/tally-export" "$T/bin/"
	run 1 "without its fonts tally-export fails" \
		"$T/bin/tally-export" --invoice QH/2026/000003 --format pdf --out "$T/x"
	contains "... naming the font" "$T/err" "cannot read the invoice font tally-sans.ttf"
fi

# Rejected lines keep their raw bytes; a sheet and JSON must still parse.
tally-ingest --source bad --format asterisk --tz Asia/Ho_Chi_Minh \
	samples/bad/binary-garbage.csv >/dev/null 2>&1
rejects=$(($(tally-report rejects --format csv | wc -l) - 1))
run 0 "rejects as XLSX" tally-report rejects --format xlsx --out "$T/rejects.xlsx"
unzip -p "$T/rejects.xlsx" xl/worksheets/sheet1.xml >"$T/rejects.xml"
check "... holds no byte that is not UTF-8" "0" \
	"$(iconv -f UTF-8 -t UTF-8 "$T/rejects.xml" >/dev/null 2>&1; echo $?)"
check "... and no control character" "0" "$(tr -d '\n\r\t' <"$T/rejects.xml" | tr -cd '\000-\037' | wc -c)"
check "... one row per rejected line" "$rejects" \
	"$(grep -o '<row r="[0-9]*"' "$T/rejects.xml" | tail -n +2 | wc -l)"
run 0 "rejects as JSON" tally-report rejects --format json
check "... parses, one object per rejected line" "$rejects" "$(jq '.rejects | length' "$T/out")"
check "... with the line numbers as numbers" "number" "$(jq -r '.rejects[0].line | type' "$T/out")"
run 0 "reconcile as JSON" tally-report reconcile --format json
check "... every batch's read = accepted + rejected + duplicates" "true" \
	"$(jq '[.reconcile[] | .read == .accepted + .rejected + .duplicates] | all' "$T/out")"

# A caller that is not UTF-8 (stored as the switch sent it) still makes JSON.
x=QH/2026/000003
check "sh-office has a call to spoil" "1" \
	"$(tally-export --invoice $x --format json | jq '.calls | length')"
sqlite3 "$TALLY_DB" "UPDATE cdr SET caller = CAST(X'FF3031' AS TEXT) WHERE id = (SELECT
	cdr_id FROM invoice_cdr ic JOIN invoice i ON i.id = ic.invoice_id WHERE i.number = '$x')"
run 0 "an invoice with a caller that is not UTF-8, as JSON" \
	tally-export --invoice $x --format json
check "... parses, the byte shown as \\xff" "\\xff01" "$(jq -r '.calls[0].caller' "$T/out")"
