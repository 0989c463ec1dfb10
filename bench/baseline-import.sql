-- baseline-import.sql - what many small operators do today, for scripts/bench:
-- the sqlite3 shell imports the switch's Asterisk CSV as it is, then one
-- query rates it (baseline-rate.sql) with the longest matching prefix of the deck.  The same
-- rules as tally's generated tariff: the national 0 becomes +84, answered
-- seconds are billed in 6 s steps (6 s first), the price is per minute,
-- rounded half up to the dong.  Run in the directory holding cdrs.csv and
-- rates.csv.
PRAGMA journal_mode = WAL;
CREATE TABLE cdr (accountcode, src, dst, dcontext, clid, channel, dstchannel,
  lastapp, lastdata, start, answer, "end", duration INTEGER, billsec INTEGER,
  disposition, amaflags, uniqueid, userfield);
CREATE TABLE rate (deck, prefix TEXT, destination, price INTEGER,
  connection_fee, initial INTEGER, increment INTEGER, min_duration, band,
  effective_from, effective_to);
.mode csv
.import cdrs.csv cdr
.import --skip 1 rates.csv rate
