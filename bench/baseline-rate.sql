-- baseline-rate.sql - the SQL baseline's rating query, after
-- baseline-import.sql (which says what it does).
DELETE FROM rate WHERE deck <> 'vn';
CREATE UNIQUE INDEX rate_prefix ON rate (prefix);
CREATE TABLE rated AS
SELECT c.uniqueid, c.accountcode, c.billsec, r.prefix, r.destination, b.billed,
       (b.billed * r.price + 30) / 60 AS amount
FROM (SELECT rowid AS id, '+84' || substr(dst, 2) AS e164 FROM cdr
      WHERE disposition = 'ANSWERED' AND billsec > 0) n
JOIN cdr c ON c.rowid = n.id
JOIN rate r ON r.prefix = (SELECT prefix FROM rate WHERE prefix IN (
    substr(n.e164, 1, 3), substr(n.e164, 1, 4), substr(n.e164, 1, 5),
    substr(n.e164, 1, 6), substr(n.e164, 1, 7), substr(n.e164, 1, 8),
    substr(n.e164, 1, 9), substr(n.e164, 1, 10), substr(n.e164, 1, 11),
    substr(n.e164, 1, 12)) ORDER BY length(prefix) DESC LIMIT 1)
JOIN (SELECT rowid AS id, max(6, (billsec + 5) / 6 * 6) AS billed FROM cdr) b
  ON b.id = c.rowid;
.mode list
SELECT 'rated', count(*), sum(amount) FROM rated;
