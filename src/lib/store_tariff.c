/*
 * store_tariff.c - tariff versions (each the files of one loaded package,
 * kept whole so that any version can be loaded again), and the accounts
 * each reseller claims.  Cut here because tally-tariff writes these and
 * every later stage only reads them: the SQL of a version's life is in one
 * place.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_impl.h"

int
store_tariff_find(struct store *s, const char *reseller, const char *sha256,
    int64_t *id, struct terr *e)
{
	return db_find_id(s, DB_TARIFF_FIND, "SELECT id FROM tariff_version WHERE"
	    " reseller = ?1 AND sha256 = ?2", reseller, sha256, id, e);
}

/* The package's files of version `id`, those it has. */
static int
tariff_files_add(struct store *s, int64_t id, const struct tariff_pkg *p, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO tariff_file (version_id, name, content)"
	    " VALUES (?1, ?2, ?3)", e) != 0)
		return -1;
	for (int i = 0; i < TF_NFILES && q.stop == 0; i++) {
		if (p->data[i] == NULL)
			continue;
		db_bind_int64(&q, 1, id);
		db_bind_text(&q, 2, tariff_file_name((enum tariff_fileid)i));
		db_bind_blob(&q, 3, p->data[i], p->len[i]);
		q.stop = db_run(&q, "add tariff file");
	}
	return db_end(&q, "add tariff file");
}

int
store_tariff_add(struct store *s, const struct tariff *t, const char *sha256,
    const char *source, const struct tariff_pkg *p, int64_t *id, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO tariff_version (reseller, currency, sha256,"
	    " source, loaded_at, nrates, naccounts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    e) != 0)
		return -1;
	db_bind_text(&q, 1, t->reseller);
	db_bind_text(&q, 2, t->currency);
	db_bind_text(&q, 3, sha256);
	db_bind_text(&q, 4, source);
	db_bind_int64(&q, 5, (int64_t)time(NULL));
	db_bind_int64(&q, 6, t->nrates);
	db_bind_int64(&q, 7, t->naccounts);
	if (db_done(&q, "add tariff version") != 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return tariff_files_add(s, *id, p, e);
}

int
store_account_owner(struct store *s, const char *account, char *owner, size_t len,
    struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT reseller FROM account WHERE id = ?1", e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	if (db_next(&q)) {
		tally_strlcpy(owner, db_text(&q, 0), len);
		q.stop = 1;
	}
	return db_end(&q, "find account");
}

int
store_account_claim(struct store *s, const char *account, const char *reseller,
    int64_t version, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "INSERT INTO account (id, reseller, version_id)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET version_id = ?3"
	    " WHERE reseller = ?2", e) != 0)
		return -1;
	db_bind_text(&q, 1, account);
	db_bind_text(&q, 2, reseller);
	db_bind_int64(&q, 3, version);
	return db_done(&q, "claim account");
}

int
store_tariff_files(struct store *s, int64_t version, struct tariff_pkg *p,
    struct terr *e)
{
	struct db_stmt q;
	int nfiles = 0;

	memset(p, 0, sizeof *p);
	if (db_prep(&q, s, "SELECT name, content FROM tariff_file"
	    " WHERE version_id = ?1", e) != 0)
		return -1;
	db_bind_int64(&q, 1, version);
	while (db_next(&q)) {
		size_t n = db_bytes(&q, 1);

		nfiles++;
		for (int i = 0; i < TF_NFILES && q.stop == 0; i++) {
			if (strcmp(db_text(&q, 0), tariff_file_name((enum tariff_fileid)i)) != 0)
				continue;
			if ((p->data[i] = malloc(n + 1)) == NULL) {
				q.stop = terr_set(e, "out of memory");
				break;
			}
			if (n)
				memcpy(p->data[i], db_blob(&q, 1), n);
			p->len[i] = n;
		}
	}
	if (db_end(&q, "read tariff files") != 0) {
		tariff_pkg_release(p);
		return -1;
	}
	if (nfiles == 0)
		return terr_set(e, "%s: no tariff version %lld", s->path, (long long)version);
	return 0;
}

int
store_tariff_current(struct store *s, int64_t **ids, int *n, struct terr *e)
{
	struct db_stmt q;

	*ids = NULL;
	*n = 0;
	if (db_prep(&q, s, "SELECT max(id) FROM tariff_version GROUP BY reseller"
	    " ORDER BY 1", e) != 0)
		return -1;
	while (db_next(&q)) {
		int64_t *ni = realloc(*ids, (size_t)(*n + 1) * sizeof *ni);

		if (ni == NULL) {
			q.stop = terr_set(e, "out of memory");
			break;
		}
		*ids = ni;
		(*ids)[(*n)++] = db_int64(&q, 0);
	}
	return db_end(&q, "list current tariffs");
}

int
store_each_version(struct store *s, const char *reseller,
    int (*fn)(const struct version_row *, void *), void *arg, struct terr *e)
{
	struct db_stmt q;

	if (db_prep(&q, s, "SELECT v.id, v.reseller, v.currency, v.sha256,"
	    " v.source, v.loaded_at, v.nrates, v.naccounts, v.id = (SELECT max(id) FROM"
	    " tariff_version w WHERE w.reseller = v.reseller) FROM tariff_version v"
	    " WHERE ?1 IS NULL OR v.reseller = ?1 ORDER BY v.id", e) != 0)
		return -1;
	db_bind_text(&q, 1, reseller);
	while (db_next(&q)) {
		struct version_row v = {
			.id = db_int64(&q, 0), .reseller = db_text(&q, 1),
			.currency = db_text(&q, 2), .sha256 = db_text(&q, 3),
			.source = db_text(&q, 4), .loaded_at = db_int64(&q, 5),
			.nrates = db_int64(&q, 6), .naccounts = db_int64(&q, 7),
			.current = db_int(&q, 8),
		};
		q.stop = fn(&v, arg);
	}
	return db_end(&q, "list tariff versions");
}

int
store_tariff_file_same(struct store *s, int64_t v1, int64_t v2, const char *name,
    struct terr *e)
{
	struct db_stmt q;
	int64_t same;

	if (db_prep(&q, s, "SELECT (SELECT content FROM tariff_file WHERE version_id = ?1"
	    " AND name = ?3) IS (SELECT content FROM tariff_file WHERE version_id = ?2"
	    " AND name = ?3)", e) != 0)
		return -1;
	db_bind_int64(&q, 1, v1);
	db_bind_int64(&q, 2, v2);
	db_bind_text(&q, 3, name);
	if (db_first_int64(&q, &same, "compare tariff versions") != 0)
		return -1;
	return same != 0;
}
