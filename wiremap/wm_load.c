/* wm_snapshot_load: the builder fed by the database loader. In a file of its own so that
 * programs that build snapshots without a database (unit tests, benches) need no libpq. */
#include <errno.h>

#include "wm_builder.h"

struct wm_snapshot *wm_snapshot_load(struct db_conn *db, struct db_change_cursor *cur,
				     struct lis_error *err)
{
	struct wm_builder *b = wm_builder_new();
	if (!b) {
		lis_error_set(err, LIS_E_SYSTEM, "wiremap snapshot: out of memory");
		return NULL;
	}
	wm_builder_prefault(b);
	struct wm_snapshot *s = NULL;
	if (db_snapshot_load(db, wm_builder_sink(b), cur, err) == 0)
		s = wm_builder_finish(b, err);
	wm_builder_free(b);
	return s;
}
