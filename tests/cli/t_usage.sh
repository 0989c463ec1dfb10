# Every program: --help, --version, and usage errors with status 2.
. tests/cli/lib.sh

for p in tally tally-ingest tally-report tally-tariff tally-rate tally-replay; do
	run 0 "$p --help exits 0" $p --help
	contains "$p --help prints usage" "$T/out" "usage: $p"
	run 0 "$p --version exits 0" $p --version
	contains "$p --version names itself" "$T/out" "$p 0."
	run 2 "$p with a bad option exits 2" $p --no-such-option
	contains "$p bad option prints usage on stderr" "$T/err" "usage:"
done

run 2 "ingest without --source" tally-ingest --format asterisk samples/asterisk
run 2 "ingest without files" tally-ingest --source a --format asterisk
run 2 "ingest unknown format" tally-ingest --source a --format cisco samples/asterisk
contains "unknown format is named" "$T/err" "--format cisco"
run 2 "ingest bad source name" tally-ingest --source "a b" --format asterisk samples/asterisk
run 2 "ingest unknown zone" tally-ingest --source a --format asterisk --tz Mars/Olympus samples/asterisk
contains "unknown zone is named" "$T/err" 'unknown time zone "Mars/Olympus"'
run 2 "ingest csv without a map" tally-ingest --source a --format csv samples/csv/calls.csv
run 2 "ingest map for a non-csv format" tally-ingest --source a --format asterisk --map samples/csv/calls.map samples/asterisk
run 2 "ingest bad --key" tally-ingest --source a --format kamailio --key colour=x samples/kamailio
run 2 "ingest missing numbering file" tally-ingest --source a --format asterisk --numbering /nonexistent.csv samples/asterisk
contains "missing numbering file is named" "$T/err" "/nonexistent.csv"
check "no store created by a usage error" "absent" "$([ -e "$TALLY_DB" ] && echo present || echo absent)"
run 2 "report unknown name" tally-report bogus
run 2 "report bad format" tally-report reconcile --format pdf
run 2 "report --batch with reconcile" tally-report reconcile --batch 1

run 2 "tariff without a command" tally-tariff
run 2 "tariff diff needs two versions" tally-tariff diff 1
run 2 "tariff --reseller with validate" tally-tariff --reseller r validate tariffs/cn-400
run 2 "rate with a bad period" tally-rate --period 2026-13
run 2 "rate with stray arguments" tally-rate now
run 2 "replay without --batch" tally-replay
run 2 "replay json" tally-replay --batch 1 --format json
run 2 "usage without --period" tally-report usage
run 2 "unrated with --account" tally-report unrated --account a
run 2 "--out without xlsx" tally-report reconcile --format json --out "$T/r.json"
run 2 "--limit with another report than top" tally-report usage --period 2026-11 --limit 3

# The front door runs the program beside it with the same arguments.
run 0 "tally rate --help runs tally-rate" tally rate --help
contains "tally-rate's own usage" "$T/out" "usage: tally-rate"
run 2 "tally with an unknown command" tally frobnicate
contains "unknown command named" "$T/err" 'unknown command "frobnicate"'
run 0 "tally help lists the commands" tally help
check "five commands listed" 5 "$(grep -cE '^  (ingest|tariff|rate|replay|report) ' "$T/out")"
run 2 "list with a period that is not YYYY-MM" tally-invoice list --period 2026-13
