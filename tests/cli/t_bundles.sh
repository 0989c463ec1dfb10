# Minute bundles (tally-tariff(5) BUNDLES): windows, exhaustion, renewal,
# rollover, cancellation, and the calls that draw on them.  The package is
# tests/cli/bundles; every expected value is worked out by hand in
# tests/cli/bundles.expect.notes from the man page's rules.
. tests/cli/lib.sh

line='"%s","0901000001","%s","c","x","SIP/1-%s","SIP/2-%s","Dial","x","%s","%s","%s",%d,%d,"%s","DOCUMENTATION","%s",""\n'
# cdr ACCOUNT CALLEE LOCAL_START RING_SECONDS BILLSEC KEY [DISPOSITION]
cdr() {
	answer=$(date -u -d "$3 UTC + $4 seconds" '+%Y-%m-%d %H:%M:%S')
	end=$(date -u -d "$answer UTC + $5 seconds" '+%Y-%m-%d %H:%M:%S')
	if [ "${7:-ANSWERED}" = ANSWERED ]; then
		printf "$line" "$1" "$2" "$6" "$6" "$3" "$answer" "$end" $(($4 + $5)) "$5" ANSWERED "$6"
	else
		printf "$line" "$1" "$2" "$6" "$6" "$3" "" "$answer" "$4" 0 "$7" "$6"
	fi
}
ON=0901234567
OFF=0281234567
{
	cdr A1 $ON  "2026-10-21 10:00:00" 0 480 a1-1
	cdr A1 $ON  "2026-10-22 10:00:00" 30 0 a1-2 "NO ANSWER"
	cdr A1 $ON  "2026-10-23 10:00:00" 0 300 a1-3
	cdr A1 $ON  "2026-11-05 10:00:00" 0 60 a1-4
	cdr A1 $OFF "2026-11-25 10:00:00" 0 120 a1-5
	cdr A1 $ON  "2026-12-02 10:00:00" 0 120 a1-6
	cdr A2 $ON  "2026-11-02 09:00:00" 0 240 a2-1
	cdr A2 $ON  "2026-11-03 09:00:00" 10 150 a2-2
	cdr A2 $ON  "2026-11-04 09:00:00" 20 0 a2-3 BUSY
	cdr A3 $ON  "2026-11-02 10:00:00" 0 61 a3-1
	cdr A3 $ON  "2026-11-20 23:58:00" 0 300 a3-2
	cdr A4 $ON  "2026-11-10 10:00:00" 0 600 a4-1
	cdr A4 $ON  "2026-11-11 10:00:00" 0 120 a4-2
} >"$T/calls.csv"
ing() { tally-ingest --source s --format asterisk --tz Asia/Ho_Chi_Minh \
	--numbering tariffs/numbering/vn.csv "$@" >/dev/null 2>&1; }
