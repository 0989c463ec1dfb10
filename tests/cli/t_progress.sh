# Long ingests show progress on a terminal, and only there (quiet under cron).
. tests/cli/lib.sh

scripts/gen-cdrs -n 70000 -s 5 >"$T/70k.csv"
cp "$T/70k.csv" "$T/70k-tty.csv"
echo '"x"' >>"$T/70k-tty.csv"	# other content, so it is not skipped

run 0 "ingest with stderr to a file" tally-ingest --source p --format asterisk "$T/70k.csv"
check "no progress when stderr is not a terminal" 0 "$(grep -c 'lines, ' "$T/err")"

# script(1) gives the program a pseudo-terminal.
script -qec "tally-ingest --source p --format asterisk '$T/70k-tty.csv'" /dev/null >"$T/tty" 2>&1
contains "progress on a terminal" "$T/tty" "$T/70k-tty.csv: 65536 lines"
