/* Building a snapshot row by row, without a database: wm_snapshot_load() feeds it from
 * db_snapshot_load(); unit tests and benches feed it directly through the same sink.
 * References between rows are by id and are resolved by wm_builder_finish(), so rows may come
 * in any order; a reference to a row that never came (a port of an unknown switch, a binding
 * to an unknown switch) is kept as far as it goes, never an error. */
#ifndef WM_BUILDER_H
#define WM_BUILDER_H

#include "db_snapshot.h"
#include "wm_snapshot.h"

struct wm_builder;

/* NULL when out of memory. */
struct wm_builder *wm_builder_new(void);
/* The sink whose callbacks add rows (strings are copied). Valid as long as b. */
const struct db_snapshot_sink *wm_builder_sink(struct wm_builder *b);
/* Resolve references and build the lookup structures. Returns the snapshot (the builder is
 * then empty: free it), or NULL with err filled (out of memory, or finish called twice). */
struct wm_snapshot *wm_builder_finish(struct wm_builder *b, struct lis_error *err);
void wm_builder_free(struct wm_builder *b);

#endif
