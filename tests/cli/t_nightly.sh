# scripts/nightly (tally-nightly(8)): a run over drop folders ingests, rates,
# issues the periods whose billing day has come and exports them; a second
# run finds nothing new; a held lock and a missing folder stop it clearly.
. tests/cli/lib.sh

mkdir -p "$T/drop/ast" "$T/drop/fs" "$T/drop/mix"
cp samples/asterisk/*.csv "$T/drop/ast/"
# a source declared to mix Asterisk layouts (18 and 17 columns in one file)
cp samples/bad/asterisk-mixed-layouts.csv "$T/drop/mix/"
cp samples/freeswitch/Master.csv "$T/drop/fs/"
cat >"$T/nightly.conf" <<CONF
TALLY_DB=$TALLY_DB
OUT=$T/export
TALLY_BIN=$TALLY_BIN
LOG=$T/nightly.log
DROPS="
# source format zone numbering folder
hcm-ast asterisk Asia/Ho_Chi_Minh $PWD/tariffs/numbering/vn.csv $T/drop/ast
sh-fs freeswitch Asia/Shanghai $PWD/tariffs/numbering/cn.csv $T/drop/fs
mix asterisk+mixed Asia/Ho_Chi_Minh $PWD/tariffs/numbering/vn.csv $T/drop/mix
"
CONF
tally-tariff load tariffs/vn-hotline >/dev/null
tally-tariff load tariffs/cn-400 >/dev/null
lines=$(cat "$T"/drop/ast/*.csv "$T"/drop/fs/*.csv "$T"/drop/mix/*.csv | wc -l)

run 0 "the first run on the billing day" scripts/nightly -c "$T/nightly.conf" -d 2026-12-01
contains "... ingests the five files, every line a CDR (the mixed source's too)" "$T/out" \
	"ingested 5 new files: $lines CDRs, 0 rejected lines"
issued=$(tally-invoice list --period 2026-11 | grep -c ' issued ')
contains "... issues November" "$T/out" "issued $issued invoices"
check "... one PDF per issued invoice" "$issued" "$(ls "$T/export/pdf" | grep -c '\.pdf$')"
check "... one XLSX per issued invoice" "$issued" "$(ls "$T/export/xlsx" | grep -c '\.xlsx$')"
acme=$(tally-invoice list --account ACME-VN --period 2026-11 | awk '{ print $1 }')
contains "... ACME-VN's PDF names the customer" "$T/export/pdf/$acme.pdf" "%PDF"
check "... and reads as its invoice" "1 1" "$(pdftotext -q "$T/export/pdf/$acme.pdf" - |
	grep -c "Công ty TNHH ACME Việt Nam") $(pdftotext -q "$T/export/pdf/$acme.pdf" - | grep -c "^$acme$")"
contains "... logs to the configured file" "$T/nightly.log" "issued $issued invoices"
contains "... with the CDRs no tariff rates as a warning" "$T/nightly.log" \
	"warning: tally-rate: "
sums=$(cd "$T/export" && find . -type f | sort | xargs md5sum)

run 0 "the second run" scripts/nightly -c "$T/nightly.conf" -d 2026-12-01
contains "... ingests nothing new" "$T/out" "ingested 0 new files: 0 CDRs"
contains "... issues nothing" "$T/out" "issued nothing"
contains "... exports no new PDF" "$T/out" "exported 0 new pdf files"
check "... and leaves the files as they were" "$sums" \
	"$(cd "$T/export" && find . -type f | sort | xargs md5sum)"
check "... nor numbers anything twice" "$issued" \
	"$(tally-invoice list --period 2026-11 | grep -c ' issued ')"

flock "$T/tally.db.nightly.lock" sleep 5 &
sleep 0.5
run 75 "a run while another holds the lock" scripts/nightly -c "$T/nightly.conf" -d 2026-12-01
contains "... says so and does nothing" "$T/out" "another run holds"
wait

sed -i "s|$T/drop/fs|$T/drop/gone|" "$T/nightly.conf"
run 1 "a missing drop folder" scripts/nightly -c "$T/nightly.conf" -d 2026-12-01
contains "... fails naming it" "$T/out" "FAILED: drop folder $T/drop/gone of source sh-fs is missing"
contains "... in the log file too" "$T/nightly.log" "FAILED: drop folder $T/drop/gone"
top=$PWD
cd "$T" && run 1 "a configuration named without a folder is the one here" \
	"$top/scripts/nightly" -c nightly.conf -d 2026-12-01
cd "$top"
contains "... (it got as far as the missing folder)" "$T/out" "FAILED: drop folder"
run 2 "an unreadable configuration" scripts/nightly -c "$T/none.conf"
run 2 "a billing date that is not YYYY-MM-DD" scripts/nightly -c "$T/nightly.conf" -d 12/01/2026
run 0 "--help" scripts/nightly --help
check "... lists the options of tally-nightly(8)'s SYNOPSIS" "--help --version -c -d" \
	"$(for o in $(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' man/man8/tally-nightly.8 |
		grep -oE 'Fl [a-z]|\\-[a-z]+' | sed 's/^Fl /-/; s/^\\/-/' | LC_ALL=C sort -u); do
		grep -qF -- "$o" "$T/out" && printf '%s ' "$o"; done | sed 's/ $//')"
