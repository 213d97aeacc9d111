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
/* Have a thread write ahead of the builder the memory its large blocks will take, so that
 * their page faults overlap the load (wm_snapshot.c, "prefaulted memory"). For a large
 * snapshot built at once (wm_snapshot_load() asks for it); where the system refuses the
 * address space or the thread, the builder allocates as without it. */
void wm_builder_prefault(struct wm_builder *b);
/* The sink whose callbacks add rows (strings are copied). Valid as long as b. */
const struct db_snapshot_sink *wm_builder_sink(struct wm_builder *b);
/* Resolve references and build the lookup structures. Returns the snapshot (the builder is
 * then empty: free it), or NULL with err filled (out of memory, or finish called twice). */
struct wm_snapshot *wm_builder_finish(struct wm_builder *b, struct lis_error *err);
void wm_builder_free(struct wm_builder *b);

/* A delta: the changed keys and their current rows from the change feed
 * (db_changes_poll), applied to a live snapshot in place while readers read it. Only one
 * thread may build and apply deltas to a snapshot. */
struct wm_delta;
struct wm_delta *wm_delta_new(struct wm_snapshot *s);
const struct db_delta_sink *wm_delta_sink(struct wm_delta *d);
/* Apply d to its snapshot: each key is replaced (or removed) with one atomic store, so a
 * concurrent lookup sees it before or after, never half. Returns 0 when applied, 1 when d
 * cannot be applied in place (a table is full, a row names a site or switch the snapshot
 * does not have, a BSSID prefix length it has no table for): load a new snapshot then;
 * what was applied before stays correct. -1 with err filled when out of memory. */
int wm_delta_apply(struct wm_delta *d, struct lis_error *err);
void wm_delta_free(struct wm_delta *d);

#endif
