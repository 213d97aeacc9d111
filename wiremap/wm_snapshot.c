/* The in-memory wiremap: built once from rows (wm_builder), then read without locks while
 * one writer applies deltas in place (wm_delta_apply).
 *
 * Memory: every row and string lives in one arena of large blocks, freed in one go; the
 * lookup structures are open-addressing hash tables (linear probing, load <= 1/2, the full
 * 64-bit hash kept beside each pointer so that a probe rarely touches the row), subnets
 * included: one table per address family and prefix length in use, probed longest first.
 * Bindings of one key sit next to each other right behind a small header, most recent
 * first, so a lookup returns a slice of them and finds the first one in the header's line.
 *
 * A lookup at a million entries costs its cache misses: the slot, then the row. Keys that
 * fit in 64 bits (MACs, BSSIDs, ids, prefixes up to /64) are hashed by a bijection, so an
 * equal stored hash is an equal key and a probe never reads a row to compare
 * (htab_get_exact); the resolver prefetches the slots of a MAC's tables (wm_prefetch_mac)
 * before it walks them, and a subnet lookup those of every prefix length before it probes.
 *
 * Deltas: a changed row becomes a new object in the arena, published with one release store
 * (a hash slot, a list of prefix lengths, a location field) that readers load with acquire;
 * a changed location gets a new version that every older version points at
 * (wm_location_current). A deleted key leaves a tombstone in its hash table. Nothing is
 * freed before the snapshot is: the loader replaces the snapshot when deltas have taken too
 * much memory. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "held_write.h"
#include "lis_strbuf.h"
#include "wm_builder.h"
#include "ident.h"

/* ------------------------------------------------------------------ arena */

/* Lookups read the arena and the tables at random: at a million entries, with 4 KB pages,
 * each of their cache misses would miss the TLB too. Blocks of 2 MB and more are aligned
 * to 2 MB and offered to the kernel for huge pages (transparent huge pages, madvise); the
 * arena's blocks grow to 2 MB once it holds 16 MB, so that a small snapshot stays small. */
#define HUGE_PAGE ((size_t)2 << 20)

/* ------------------------------------------------------------------ prefaulted memory
 *
 * A snapshot's memory is new to the process, and the first write to each page costs a page
 * fault that zeroes it: on a virtual machine whose host takes idle memory back, a third of
 * a million-entry load (issue 13). A builder that wm_builder_prefault() asked for one
 * takes its large blocks (the arena's 2 MB blocks, the big tables, and the big vectors of
 * rows it keeps until it finishes) from a region that a thread of its own writes ahead of
 * it, while the loader waits for the database and parses rows: the faults overlap the load
 * instead of adding to it, and the blocks arrive zeroed.
 * The region is address space reserved without memory (MAP_NORESERVE). A vector that moves
 * or is freed gives its pages back at once (region_release) but keeps its addresses, so
 * that nothing else is ever mapped inside the region; what the builder did not take is
 * unmapped when it finishes, so that the snapshot holds only what it uses. */
#define REGION_SPACE ((size_t)16 << 30)   /* reserved, not committed */
#define REGION_AHEAD_MIN ((size_t)8 << 20) /* written ahead of the builder: 8 MB, ... */
#define REGION_AHEAD_MAX ((size_t)32 << 20) /* ... up to a quarter of what it took, 32 MB */
#define REGION_STEP ((size_t)2 << 20)      /* written a huge page at a time */

struct region {
	unsigned char *base;
	size_t space;              /* reserved; after region_close(), mapped */
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* the writer waits for want, a release for busy */
	size_t taken;              /* under mu: handed out, the writer never goes below */
	size_t want, written;      /* under mu: write up to want; written so far */
	size_t busy;               /* under mu: the step the writer is at; SIZE_MAX: none */
	size_t prefaulted;         /* what the writer wrote that the builder then took */
	bool stop, thread;
	pthread_t th;
};

#define ROUND_HUGE(n) (((n) + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1))

/* Fault in n bytes at p, writable, without writing them. False when this kernel cannot
 * (MADV_POPULATE_WRITE is Linux 5.14) or a filter refuses it: the builder then faults its
 * pages itself, as without a region. */
static bool region_write(unsigned char *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	return madvise(p, n, MADV_POPULATE_WRITE) == 0 || (errno != EINVAL && errno != EPERM &&
							  errno != ENOSYS);
#else
	(void)p;
	(void)n;
	return false;
#endif
}

static void *region_writer(void *arg)
{
	struct region *r = arg;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		/* what the builder took already, it has written (or released) itself */
		if (r->written < ROUND_HUGE(r->taken))
			r->written = ROUND_HUGE(r->taken);
		if (r->written >= r->want) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		r->busy = r->written;
		pthread_mutex_unlock(&r->mu);
		bool ok = region_write(r->base + r->busy, REGION_STEP);
		pthread_mutex_lock(&r->mu);
		r->busy = SIZE_MAX;
		pthread_cond_broadcast(&r->cv);
		if (!ok)
			break;
		r->written += REGION_STEP;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* NULL when the address space or the thread is refused: the builder allocates as usual. */
static struct region *region_new(void)
{
	struct region *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	/* one huge page more, to start on a huge page's boundary */
	size_t map = REGION_SPACE + HUGE_PAGE;
	void *m = mmap(NULL, map, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		free(r);
		return NULL;
	}
	uintptr_t a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	size_t head = a - (uintptr_t)m;
	if (head)
		(void)munmap(m, head);
	(void)munmap((unsigned char *)a + REGION_SPACE, HUGE_PAGE - head);
	r->base = (unsigned char *)a;
	r->space = REGION_SPACE;
	(void)madvise(r->base, r->space, MADV_HUGEPAGE); /* a hint: may fail */
	r->busy = SIZE_MAX;  /* want 0: nothing to write before the first block is taken */
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->th, NULL, region_writer, r) != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		(void)munmap(r->base, r->space);
		free(r);
		return NULL;
	}
	(void)pthread_setname_np(r->th, "wm-prefault");
	r->thread = true;
	return r;
}

/* size bytes on a huge page's boundary, zeroed; NULL: not here (closed, or full). Only the
 * builder's thread takes and releases. */
static void *region_take(struct region *r, size_t size)
{
	if (!r || !r->thread)
		return NULL;
	pthread_mutex_lock(&r->mu);
	size_t at = ROUND_HUGE(r->taken);
	if (size > r->space || at > r->space - size) {
		pthread_mutex_unlock(&r->mu);
		return NULL;
	}
	/* written ahead of the builder: what of this block the writer has done */
	size_t done = r->written > at ? r->written - at : 0;
	r->prefaulted += done < size ? done : size;
	r->taken = at + size;
	size_t ahead = r->taken / 4;
	ahead = ahead < REGION_AHEAD_MIN ? REGION_AHEAD_MIN
		: ahead > REGION_AHEAD_MAX ? REGION_AHEAD_MAX : ahead;
	size_t want = ROUND_HUGE(r->taken + ahead);  /* whole steps, within the space */
	want = want < r->space ? want : r->space;
	if (want > r->want) {
		r->want = want;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return r->base + at;
}

static bool region_has(const struct region *r, const void *p)
{
	return r && (const unsigned char *)p >= r->base &&
	       (const unsigned char *)p < r->base + r->space;
}

/* Give back the pages of a block of size bytes at p (region_take's) and keep its addresses.
 * The writer may be at it still, when it fell behind the builder: wait for that step. */
static void region_release(struct region *r, void *p, size_t size)
{
	size_t from = (size_t)((unsigned char *)p - r->base), to = from + ROUND_HUGE(size);
	if (r->thread) {
		pthread_mutex_lock(&r->mu);
		while (r->busy != SIZE_MAX && r->busy + REGION_STEP > from && r->busy < to)
			pthread_cond_wait(&r->cv, &r->mu);
		pthread_mutex_unlock(&r->mu);
	}
	(void)madvise(p, to - from, MADV_DONTNEED);
}

/* No more blocks from r: stop its writer and give back what the builder did not take. */
static void region_close(struct region *r)
{
	if (!r || !r->thread)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	r->thread = false;
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	size_t keep = ROUND_HUGE(r->taken);
	if (keep < r->space)
		(void)munmap(r->base + keep, r->space - keep);
	r->space = keep;
}

static void region_free(struct region *r)
{
	if (!r)
		return;
	region_close(r);
	if (r->space)
		(void)munmap(r->base, r->space);
	free(r);
}

/* A block of at least size bytes; *zeroed says whether it comes zeroed. */
static void *alloc_block(struct region *r, size_t size, bool *zeroed)
{
	void *p;
	*zeroed = false;
	if (size < HUGE_PAGE)
		return malloc(size);
	if ((p = region_take(r, size))) {
		*zeroed = true;
		return p;
	}
	if (posix_memalign(&p, HUGE_PAGE, size) != 0)
		return NULL;
	(void)madvise(p, size & ~(HUGE_PAGE - 1), MADV_HUGEPAGE); /* a hint: may fail */
	return p;
}

static void free_block(const struct region *r, void *p)
{
	if (!region_has(r, p))
		free(p);
}

#define ARENA_BLOCK ((size_t)1 << 20)
#define ARENA_HUGE_FROM (8 * HUGE_PAGE)
#define ARENA_HUGE_FROM_REGION (2 * HUGE_PAGE) /* prefaulted huge pages cost no more */

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	bool zeroed;    /* came zeroed: what it hands out needs no memset */
	alignas(16) unsigned char data[];
};
struct arena {
	struct region *region;  /* NULL: none (wm_builder_prefault) */
	struct arena_block *head;
	size_t bytes;   /* in blocks */
	size_t used;    /* handed out */
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < n) {
		/* A large request gets a block of its own; the current block stays in use. */
		size_t from = a->region ? ARENA_HUGE_FROM_REGION : ARENA_HUGE_FROM;
		size_t block = a->bytes < from ? ARENA_BLOCK
						       : HUGE_PAGE - sizeof(struct arena_block);
		size_t size = n > ARENA_BLOCK / 4 ? n : block;
		bool zeroed;
		struct arena_block *nb = alloc_block(a->region, sizeof *nb + size, &zeroed);
		if (!nb)
			return NULL;
		nb->zeroed = zeroed;
		nb->size = size;
		nb->used = 0;
		a->bytes += sizeof *nb + size;
		if (b && n > ARENA_BLOCK / 4) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += n;
	a->used += n;
	if (!b->zeroed)
		memset(p, 0, n);
	return p;
}

static char *arena_strdup(struct arena *a, const char *s, bool *oom)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);
	if (!p) {
		*oom = true;
		return NULL;
	}
	memcpy(p, s, n);
	return p;
}

static void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free_block(a->region, b);
		b = next;
	}
	a->head = NULL;
	a->bytes = 0;
}

/* ------------------------------------------------------------------ hashing */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	return mix64(h);
}

static uint64_t hash_str(const char *s)
{
	return hash_bytes(s, strlen(s));
}

/* A bijection (mix64 is one): equal hashes are equal MACs. */
static uint64_t hash_mac(const uint8_t m[6])
{
	uint64_t x = 0;
	for (int i = 0; i < 6; i++)
		x = x << 8 | m[i];
	return mix64(x);
}

struct hslot {
	uint64_t h;
	const void *p;  /* NULL: empty; TOMB: deleted by a delta */
};
struct htab {
	struct hslot *slot;
	size_t mask;
	size_t used;    /* slots not empty, tombstones included */
};
static const char tomb;
#define TOMB ((const void *)&tomb)
typedef bool (*eq_fn)(const void *item, const void *key);

/* eq NULL: the table's hash is a bijection of the key (hash_mac, hash_id), so an equal
 * stored hash is the key and no row is read to compare (htab_get_exact). */
static const void *htab_get(const struct htab *t, uint64_t h, eq_fn eq, const void *key)
{
	if (!t->slot)
		return NULL;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct hslot *s = &t->slot[i];
		const void *p = __atomic_load_n(&s->p, __ATOMIC_ACQUIRE);
		if (!p)
			return NULL;
		if (p != TOMB && s->h == h && (!eq || eq(p, key)))
			return p;
	}
}

static const void *htab_get_exact(const struct htab *t, uint64_t h)
{
	return htab_get(t, h, NULL, NULL);
}

/* Start loading the slot where a probe for h begins. */
static void htab_prefetch(const struct htab *t, uint64_t h)
{
	if (t->slot)
		__builtin_prefetch(&t->slot[h & t->mask]);
}

/* Keeps the first of two equal keys (the database's UNIQUE constraints make that rare). */
static void htab_put(struct htab *t, uint64_t h, const void *p, eq_fn eq, const void *key)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct hslot *s = &t->slot[i];
		if (!s->p) {
			s->h = h;
			s->p = p;
			t->used++;
			return;
		}
		if (s->h == h && (!eq || eq(s->p, key)))
			return;
	}
}

/* For a delta, while readers probe: replace the entry of key with p, or add it. Returns the
 * entry replaced (NULL: none), or TOMB when the table is too full to add (the caller then
 * has the snapshot replaced: tables never grow in place). In a table without eq (its hash
 * a bijection) a key has one slot for good: a tombstone of the key takes it back. */
static const void *htab_set(struct htab *t, uint64_t h, const void *p, eq_fn eq,
			    const void *key)
{
	size_t i;
	for (i = h & t->mask; t->slot[i].p; i = (i + 1) & t->mask) {
		struct hslot *s = &t->slot[i];
		if (s->h == h && (s->p == TOMB ? !eq : !eq || eq(s->p, key))) {
			const void *old = s->p;
			__atomic_store_n(&s->p, p, __ATOMIC_RELEASE);
			return old == TOMB ? NULL : old;
		}
	}
	if ((t->used + 1) * 4 > (t->mask + 1) * 3)
		return TOMB;
	t->slot[i].h = h;  /* readers read h only after they saw p */
	__atomic_store_n(&t->slot[i].p, p, __ATOMIC_RELEASE);
	t->used++;
	return NULL;
}

/* For a delta: remove the entry of key when it is `only` (or any entry when only is NULL).
 * Returns what was removed (NULL: nothing). */
static const void *htab_del(struct htab *t, uint64_t h, eq_fn eq, const void *key,
			    const void *only)
{
	for (size_t i = h & t->mask; t->slot[i].p; i = (i + 1) & t->mask) {
		struct hslot *s = &t->slot[i];
		if (s->p != TOMB && s->h == h && (!eq || eq(s->p, key))) {
			if (only && s->p != only)
				return NULL;
			const void *old = s->p;
			__atomic_store_n(&s->p, TOMB, __ATOMIC_RELEASE);
			return old;
		}
	}
	return NULL;
}


/* ------------------------------------------------------------------ addresses */

/* "10.1.2.3" or "2001:db8::1", with "/len" when want_len (absent: a host). */
static int ip_parse(const char *text, struct wm_ip *k, unsigned *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n = text ? strlen(text) : 0;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, text, n + 1);
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		if (!len)
			return -1;
		char *end;
		*slash = '\0';
		plen = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || plen < 0)
			return -1;
	}
	memset(k, 0, sizeof *k);
	if (inet_pton(AF_INET, buf, k->a) == 1)
		k->fam = 4;
	else if (inet_pton(AF_INET6, buf, k->a) == 1)
		k->fam = 6;
	else
		return -1;
	unsigned max = k->fam == 4 ? 32 : 128;
	if (plen > (long)max)
		return -1;
	if (len)
		*len = plen < 0 ? max : (unsigned)plen;
	return 0;
}

static void ip_format(const struct wm_ip *k, char *buf, size_t size)
{
	if (!inet_ntop(k->fam == 4 ? AF_INET : AF_INET6, k->a, buf, (socklen_t)size))
		buf[0] = '\0';
}

/* A record's address: its binary form when the loader gave one (db_inet), else its text.
 * Returns -1 when it is not an address. len NULL: an address, no prefix length in the text,
 * and the binary form's bits ignored, as host() did. */
static int rec_ip(const struct db_inet *bin, const char *text, struct wm_ip *k, unsigned *len)
{
	if (!bin->family)
		return ip_parse(text, k, len);
	unsigned max = bin->family == 4 ? 32 : 128;
	if ((bin->family != 4 && bin->family != 6) || bin->bits > max)
		return -1;
	memset(k, 0, sizeof *k);
	k->fam = bin->family;
	memcpy(k->a, bin->addr, bin->family == 4 ? 4 : 16);
	if (len)
		*len = bin->bits;
	return 0;
}

/* For an error message: the record's address as text. */
static const char *rec_ip_text(const struct db_inet *bin, const char *text, char *buf,
			       size_t size)
{
	if (!bin->family)
		return text ? text : "";
	struct wm_prefix p = {.fam = bin->family, .len = bin->bits};
	memcpy(p.a, bin->addr, sizeof p.a);
	wm_prefix_format(&p, buf, size);
	return buf;
}

static void mask_bits(uint8_t *a, unsigned len, unsigned nbytes)
{
	for (unsigned i = 0; i < nbytes; i++) {
		unsigned from = i * 8;
		if (from >= len)
			a[i] = 0;
		else if (len - from < 8)
			a[i] &= (uint8_t)(0xff << (8 - (len - from)));
	}
}

/* ------------------------------------------------------------------ the snapshot */

/* Subnets: per family (0 IPv4, 1 IPv6) one table per prefix length in use, and the list of
 * those lengths, longest first, which a delta replaces (one release store) when it brings
 * a new length. A prefix up to /64 is its table's key by its hash alone (subnet_hash), and
 * the slot holds its location; a longer IPv6 one holds a struct subnet6. */
#define N_SUBNET_LENS 129
struct sublens {
	unsigned n;
	uint8_t len[N_SUBNET_LENS];
};
struct subnet6 {
	uint8_t a[16];
	const struct wm_location *loc;
};
/* Smallest table a delta makes for a new prefix length. */
#define SUBNET_DELTA_TABLE 64

/* What a remote subnet's slot holds instead of a location: a VPN pool answers with none
 * (wm_lookup_subnet_ex). */
static const struct wm_location remote_pool = {.key = "(remote)"};

/* The bindings of one key, most recent first, right behind the header: one allocation,
 * so that the first binding shares the header's cache line. */
struct bgroup {
	uint32_t n;
	union {
		struct wm_ip ip;                         /* IP_MAC: the key */
		unsigned char hint[2 * sizeof(void *)];  /* MAC_PORT, MAC_BSSID: binding_group() */
	};
	struct wm_binding b[];
};

#define N_BSSID_LENS 49
struct wm_snapshot {
	struct arena arena;
	struct htab by_chassis, by_port, ep_mac, ep_uri, ep_tel;
	struct htab g_ip_mac, g_mac_port, g_mac_bssid;
	struct htab site_id, loc_id, sw_id, ep_id;  /* by id, for deltas */
	struct htab decl_user, vpn_ip;              /* declared locations, VPN bindings */
	struct htab users_off;                      /* deactivated users' keys */
	const struct wm_class **classes;            /* few: looked up by key in turn */
	size_t n_classes;
	struct htab bssid[N_BSSID_LENS];
	uint8_t bssid_lens[N_BSSID_LENS]; /* prefix lengths in use, longest first */
	unsigned n_bssid_lens;
	struct htab subnet[2][N_SUBNET_LENS];
	const struct sublens *sublens[2];  /* NULL: none; PUBLISH/READ */
	size_t table_bytes;
	struct wm_snapshot_stats st;
	struct pidf_frag *_Atomic frags;  /* installed by wm_location_set_frag(), linked by next */
};

/* A table of s for n keys (load <= 1/2). */
static int htab_init(struct wm_snapshot *s, struct htab *t, size_t n)
{
	size_t cap = 8;
	bool zeroed;
	while (cap < n * 2)
		cap <<= 1;
	t->slot = alloc_block(s->arena.region, cap * sizeof *t->slot, &zeroed);
	if (!t->slot)
		return -1;
	if (!zeroed)
		memset(t->slot, 0, cap * sizeof *t->slot);
	t->mask = cap - 1;
	s->table_bytes += cap * sizeof *t->slot;
	return 0;
}

static void htab_free(struct wm_snapshot *s, struct htab *t)
{
	free_block(s->arena.region, t->slot);
	t->slot = NULL;
}

/* ------------------------------------------------------------------ rows while building */

struct site_b {
	struct wm_site s;
	long long default_location_id;
};
struct location_b {
	struct wm_location l;
	long long site_id;
};
struct switch_b {
	struct wm_switch s;
	long long site_id, location_id;
};
struct port_b {
	struct wm_port p;
	long long switch_id, location_id;
};
struct bssid_b {
	struct wm_bssid b;
	long long location_id;
};
struct endpoint_b {
	struct wm_endpoint e;
	long long location_id;
};
struct subnet_b {
	struct wm_ip k;
	unsigned len;
	long long location_id;
	bool remote;
};
struct binding_b {
	struct wm_binding b;
	long long switch_id;
	struct wm_ip ip;
	size_t arrival;        /* rows come in last_seen order: breaks ties within a second */
};

struct vec {
	void *v;
	size_t n, cap, elem;
};

/* A vector's storage: from r when it is large (whole huge pages, given back as soon as the
 * vector moves or is freed), else malloc's. */
static void vec_free(struct region *r, struct vec *v)
{
	if (region_has(r, v->v))
		region_release(r, v->v, v->cap * v->elem);
	else
		free(v->v);
	v->v = NULL;
}

static void *vec_push(struct region *r, struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *nv = cap * v->elem >= HUGE_PAGE ? region_take(r, cap * v->elem) : NULL;
		if (nv || region_has(r, v->v)) {
			/* into the region, or out of it (full): copied, the old block given back;
			 * a region's block is no malloc's to realloc */
			if (!nv && !(nv = malloc(cap * v->elem)))
				return NULL;
			if (v->n)
				memcpy(nv, v->v, v->n * v->elem);
			vec_free(r, v);
		} else if (!(nv = realloc(v->v, cap * v->elem))) {
			return NULL;
		}
		v->v = nv;
		v->cap = cap;
	}
	void *p = (char *)v->v + v->n++ * v->elem;
	memset(p, 0, v->elem);
	return p;
}

enum { K_SITE, K_LOC, K_SW, K_PORT, K_BSSID, K_EP, K_SUBNET, K_B_PORT, K_B_IP, K_B_BSSID,
       K_CLASS, K_DECL, K_VPN, K_USER, K_N };

struct wm_builder {
	struct db_snapshot_sink sink;
	struct wm_snapshot *s;             /* NULL once finished */
	struct vec v[K_N];                 /* pointers into the arena, or subnet/binding rows */
	struct timespec started;
	const char *sources[16];           /* binding sources, interned: few distinct ones */
	size_t n_sources;
};

static int oom(struct lis_error *err)
{
	return lis_error_set(err, LIS_E_SYSTEM, "wiremap snapshot: out of memory");
}

static const char *intern_source(struct wm_builder *b, const char *src, bool *oomf)
{
	if (!src)
		return NULL;
	for (size_t i = 0; i < b->n_sources; i++)
		if (strcmp(b->sources[i], src) == 0)
			return b->sources[i];
	const char *p = arena_strdup(&b->s->arena, src, oomf);
	if (p && b->n_sources < sizeof b->sources / sizeof b->sources[0])
		b->sources[b->n_sources++] = p;
	return p;
}

static int push_ptr(struct wm_builder *b, int kind, void *p)
{
	void **slot = vec_push(b->s->arena.region, &b->v[kind]);
	if (!slot)
		return -1;
	*slot = p;
	return 0;
}

static int add_site(void *ctx, const struct db_rec_site *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	struct site_b *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	x->s.id = r->id;
	x->s.key = arena_strdup(&b->s->arena, r->key, &o);
	x->s.name = arena_strdup(&b->s->arena, r->name, &o);
	x->s.allow_default = r->allow_default;
	x->default_location_id = r->default_location_id;
	if (o || push_ptr(b, K_SITE, x) < 0)
		return oom(err);
	return 0;
}

static int add_location(void *ctx, const struct db_rec_location *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	struct location_b *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	x->l.id = r->id;
	x->l.key = arena_strdup(&b->s->arena, r->key, &o);
	x->l.civic.lang = arena_strdup(&b->s->arena, r->lang, &o);
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (r->civic[f] && r->civic[f][0])
			x->l.civic.field[f] = arena_strdup(&b->s->arena, r->civic[f], &o);
	x->l.has_civic = !civic_address_is_empty(&x->l.civic);
	x->l.has_geo = r->has_geo;
	x->l.lat = r->lat;
	x->l.lon = r->lon;
	x->l.has_alt = r->has_alt;
	x->l.alt = r->alt;
	x->l.uncertainty = r->uncertainty;
	x->site_id = r->site_id;
	if (o || push_ptr(b, K_LOC, x) < 0)
		return oom(err);
	return 0;
}

static int add_subnet(void *ctx, const struct db_rec_subnet *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	struct wm_ip k;
	unsigned len;
	char t[INET6_ADDRSTRLEN + 8];
	if (rec_ip(&r->bin, r->prefix, &k, &len) < 0)
		return lis_error_set(err, LIS_E_INPUT, "wiremap snapshot: subnet \"%s\" is not a prefix",
				     rec_ip_text(&r->bin, r->prefix, t, sizeof t));
	struct subnet_b *x = vec_push(b->s->arena.region, &b->v[K_SUBNET]);
	if (!x)
		return oom(err);
	mask_bits(k.a, len, 16);
	x->k = k;
	x->len = len;
	x->location_id = r->location_id;
	x->remote = r->remote;
	return 0;
}

static int add_switch(void *ctx, const struct db_rec_switch *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	struct switch_b *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	x->s.id = r->id;
	x->s.key = arena_strdup(&b->s->arena, r->key, &o);
	/* lis-wiremap(5): a chassis ID that is a MAC is kept in canonical form, as lookups ask */
	uint8_t mac[6];
	char canon[18];
	const char *chassis = r->chassis_id ? r->chassis_id : "";
	if (ident_mac_parse(chassis, mac) == 0) {
		ident_mac_format(mac, canon);
		chassis = canon;
	}
	x->s.chassis_id = arena_strdup(&b->s->arena, chassis, &o);
	x->s.mgmt_address = arena_strdup(&b->s->arena, r->mgmt_address, &o);
	x->site_id = r->site_id;
	x->location_id = r->location_id;
	if (o || push_ptr(b, K_SW, x) < 0)
		return oom(err);
	return 0;
}

static int add_port(void *ctx, const struct db_rec_port *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	struct port_b *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	x->p.port_id = arena_strdup(&b->s->arena, r->port_id ? r->port_id : "", &o);
	x->switch_id = r->switch_id;
	x->location_id = r->location_id;
	if (o || push_ptr(b, K_PORT, x) < 0)
		return oom(err);
	return 0;
}

static int add_bssid(void *ctx, const struct db_rec_bssid *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	if (r->prefix_len < 1 || r->prefix_len > 48)
		return lis_error_set(err, LIS_E_INPUT, "wiremap snapshot: BSSID prefix length %u is not "
				     "1..48", r->prefix_len);
	struct bssid_b *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	memcpy(x->b.bssid, r->bssid, 6);
	mask_bits(x->b.bssid, r->prefix_len, 6);
	x->b.prefix_len = r->prefix_len;
	x->b.key = arena_strdup(&b->s->arena, r->key, &o);
	x->location_id = r->location_id;
	if (o || push_ptr(b, K_BSSID, x) < 0)
		return oom(err);
	return 0;
}

const struct wm_class wm_class_none = {
	.key = "(none)",
	.evidence = WM_EV_PORT | WM_EV_BSSID | WM_EV_SUBNET | WM_EV_STATIC,
	.no_fresh = WM_NO_FRESH_SITE_DEFAULT,
};

const char *wm_no_fresh_name(enum wm_no_fresh a)
{
	switch (a) {
	case WM_NO_FRESH_SITE_DEFAULT:
		return "site-default";
	case WM_NO_FRESH_DECLARED:
		return "declared";
	case WM_NO_FRESH_UNKNOWN:
		break;
	}
	return "locationUnknown";
}

static int add_class(void *ctx, const struct db_rec_class *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	struct wm_class *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	x->key = arena_strdup(&b->s->arena, r->key ? r->key : "", &o);
	x->evidence = (r->use_port ? WM_EV_PORT : 0u) | (r->use_bssid ? WM_EV_BSSID : 0u) |
		      (r->use_subnet ? WM_EV_SUBNET : 0u) | (r->use_static ? WM_EV_STATIC : 0u) |
		      (r->use_declared ? WM_EV_DECLARED : 0u);
	x->max_binding_age = r->max_binding_age;
	x->reconfirm_interval = r->reconfirm_interval;
	x->no_fresh = !r->no_fresh ? WM_NO_FRESH_UNKNOWN
		    : strcmp(r->no_fresh, "site-default") == 0 ? WM_NO_FRESH_SITE_DEFAULT
		    : strcmp(r->no_fresh, "declared") == 0 ? WM_NO_FRESH_DECLARED
		    : WM_NO_FRESH_UNKNOWN;
	if (o || push_ptr(b, K_CLASS, x) < 0)
		return oom(err);
	return 0;
}

static int add_declared(void *ctx, const struct db_rec_declared *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	struct arena *a = &b->s->arena;
	bool o = false;
	struct wm_declared *x = arena_alloc(a, sizeof *x);
	if (!x)
		return oom(err);
	x->id = r->id;
	x->user = arena_strdup(a, r->user ? r->user : "", &o);
	x->label = arena_strdup(a, r->label ? r->label : "", &o);
	x->confirmed_at = r->confirmed_at;
	x->expires_at = r->expires_at;
	x->loc.id = r->id;
	/* its name in logs and the query log: "user/label" */
	char *key = x->user && x->label ? arena_alloc(a, strlen(x->user) + strlen(x->label) + 2)
					: NULL;
	if (key)
		snprintf(key, strlen(x->user) + strlen(x->label) + 2, "%s/%s", x->user, x->label);
	x->loc.key = key;
	x->loc.civic.lang = arena_strdup(a, r->lang, &o);
	for (int f = 0; f < CIVIC_N_FIELDS; f++)
		if (r->civic[f] && r->civic[f][0])
			x->loc.civic.field[f] = arena_strdup(a, r->civic[f], &o);
	x->loc.has_civic = !civic_address_is_empty(&x->loc.civic);
	if (o || push_ptr(b, K_DECL, x) < 0)
		return oom(err);
	return 0;
}

static int add_vpn(void *ctx, const struct db_rec_vpn *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	struct arena *a = &b->s->arena;
	struct wm_ip k;
	char ip[INET6_ADDRSTRLEN];
	bool o = false;
	if (ip_parse(r->ip, &k, NULL) < 0)
		return lis_error_set(err, LIS_E_INPUT, "wiremap snapshot: VPN binding ip \"%s\" is "
				     "not an address", r->ip ? r->ip : "");
	ip_format(&k, ip, sizeof ip);
	struct wm_vpn *x = arena_alloc(a, sizeof *x);
	if (!x)
		return oom(err);
	x->ip = arena_strdup(a, ip, &o);
	x->user = arena_strdup(a, r->user ? r->user : "", &o);
	x->class_key = arena_strdup(a, r->class_, &o);
	x->bound_at = r->bound_at;
	x->expires_at = r->expires_at;
	if (o || push_ptr(b, K_VPN, x) < 0)
		return oom(err);
	return 0;
}

static int add_user(void *ctx, const struct db_rec_user *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	char *key = arena_strdup(&b->s->arena, r->key ? r->key : "", &o);
	if (o || push_ptr(b, K_USER, key) < 0)
		return oom(err);
	return 0;
}

/* Stored as the normal form, whatever spelling arrived, so that lookups (which normalize
 * what the request says) find it. */
static const char *dup_uri(struct arena *a, const char *uri, bool *o)
{
	char buf[512];
	if (!uri)
		return NULL;
	return arena_strdup(a, ident_uri_normalize(uri, buf, sizeof buf) == 0 ? buf : uri, o);
}

static int add_endpoint(void *ctx, const struct db_rec_endpoint *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	struct endpoint_b *x = arena_alloc(&b->s->arena, sizeof *x);
	if (!x)
		return oom(err);
	x->e.id = r->id;
	x->e.key = arena_strdup(&b->s->arena, r->key, &o);
	x->e.class_key = arena_strdup(&b->s->arena, r->class_, &o);
	x->e.owner = arena_strdup(&b->s->arena, r->owner, &o);
	x->e.has_mac = r->has_mac;
	memcpy(x->e.mac, r->mac, 6);
	x->e.uri = dup_uri(&b->s->arena, r->uri, &o);
	x->e.tel = dup_uri(&b->s->arena, r->tel, &o);
	x->location_id = r->location_id;
	x->e.deactivated = r->deactivated;
	if (o || push_ptr(b, K_EP, x) < 0)
		return oom(err);
	return 0;
}

static int add_binding(void *ctx, const struct db_rec_binding *r, struct lis_error *err)
{
	struct wm_builder *b = ctx;
	bool o = false;
	int kind = r->kind == DB_BIND_MAC_PORT ? K_B_PORT : r->kind == DB_BIND_IP_MAC ? K_B_IP
		 : K_B_BSSID;
	struct wm_ip ip = {0};
	char ipbuf[INET6_ADDRSTRLEN];
	if (kind == K_B_IP) {
		char t[INET6_ADDRSTRLEN + 8];
		if (rec_ip(&r->ip_bin, r->ip, &ip, NULL) < 0)
			return lis_error_set(err, LIS_E_INPUT, "wiremap snapshot: binding ip \"%s\" is "
					     "not an address", rec_ip_text(&r->ip_bin, r->ip, t, sizeof t));
		ip_format(&ip, ipbuf, sizeof ipbuf);
	}
	struct binding_b *x = vec_push(b->s->arena.region, &b->v[kind]);
	if (!x)
		return oom(err);
	x->arrival = b->v[kind].n;
	x->b.first_seen = r->first_seen;
	x->b.last_seen = r->last_seen;
	x->b.source = intern_source(b, r->source, &o);
	memcpy(x->b.mac, r->mac, 6);
	if (kind == K_B_PORT) {
		x->switch_id = r->switch_id;
		x->b.port_id = arena_strdup(&b->s->arena, r->port_id ? r->port_id : "", &o);
	} else if (kind == K_B_IP) {
		x->ip = ip;
		x->b.ip = arena_strdup(&b->s->arena, ipbuf, &o);
	} else {
		memcpy(x->b.bssid, r->bssid, 6);
	}
	if (o)
		return oom(err);
	return 0;
}

struct wm_builder *wm_builder_new(void)
{
	struct wm_builder *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->s = calloc(1, sizeof *b->s);
	if (!b->s) {
		free(b);
		return NULL;
	}
	static const size_t elem[K_N] = {
		[K_SUBNET] = sizeof(struct subnet_b), [K_B_PORT] = sizeof(struct binding_b),
		[K_B_IP] = sizeof(struct binding_b), [K_B_BSSID] = sizeof(struct binding_b),
	};
	for (int k = 0; k < K_N; k++)
		b->v[k].elem = elem[k] ? elem[k] : sizeof(void *);
	b->sink = (struct db_snapshot_sink){
		.ctx = b, .site = add_site, .location = add_location, .subnet = add_subnet,
		.sw = add_switch, .port = add_port, .bssid = add_bssid, .cls = add_class,
		.endpoint = add_endpoint, .binding = add_binding, .declared = add_declared,
		.vpn = add_vpn, .user = add_user,
	};
	clock_gettime(CLOCK_MONOTONIC, &b->started);
	return b;
}

void wm_builder_prefault(struct wm_builder *b)
{
	if (b->s && !b->s->arena.region)
		b->s->arena.region = region_new();
}

const struct db_snapshot_sink *wm_builder_sink(struct wm_builder *b)
{
	return &b->sink;
}

void wm_builder_free(struct wm_builder *b)
{
	if (!b)
		return;
	for (int k = 0; k < K_N; k++)
		vec_free(b->s ? b->s->arena.region : NULL, &b->v[k]);
	wm_snapshot_free(b->s);
	free(b);
}

/* ------------------------------------------------------------------ equality callbacks */

static bool eq_site_id(const void *i, const void *k)
{
	return ((const struct wm_site *)i)->id == *(const long long *)k;
}
static bool eq_loc_id(const void *i, const void *k)
{
	return ((const struct wm_location *)i)->id == *(const long long *)k;
}
static bool eq_ep_id(const void *i, const void *k)
{
	return ((const struct wm_endpoint *)i)->id == *(const long long *)k;
}
static bool eq_decl_user(const void *i, const void *k)
{
	return strcmp(((const struct wm_declared *)i)->user, k) == 0;
}
static bool eq_vpn_ip(const void *i, const void *k)
{
	return strcmp(((const struct wm_vpn *)i)->ip, k) == 0;
}
static bool eq_str(const void *i, const void *k)
{
	return strcmp(i, k) == 0;
}
static bool eq_sw_id(const void *i, const void *k)
{
	return ((const struct wm_switch *)i)->id == *(const long long *)k;
}
static bool eq_chassis(const void *i, const void *k)
{
	return strcmp(((const struct wm_switch *)i)->chassis_id, k) == 0;
}
struct portkey {
	const struct wm_switch *sw;
	const char *port_id;
};
static bool eq_port(const void *i, const void *k)
{
	const struct wm_port *p = i;
	const struct portkey *pk = k;
	return p->sw == pk->sw && strcmp(p->port_id, pk->port_id) == 0;
}
static uint64_t hash_port(const struct wm_switch *sw, const char *port_id)
{
	return mix64((uint64_t)sw->id ^ hash_str(port_id));
}

/* Puts a batch at a time, for the builder: at a million entries each put's slot is a cache
 * miss, and the slots of a whole batch are on their way before the first put waits for
 * its own. The puts keep their order (of equal keys in a table, the first stays). */
#define PUT_BATCH 32
struct putter {
	size_t n;
	struct {
		struct htab *t;
		eq_fn eq;
		uint64_t h;
		const void *p, *key;  /* key NULL: pk */
		struct portkey pk;
	} e[PUT_BATCH];
};

static void put_flush(struct putter *u)
{
	for (size_t i = 0; i < u->n; i++)
		htab_put(u->e[i].t, u->e[i].h, u->e[i].p, u->e[i].eq,
			 u->e[i].key ? u->e[i].key : &u->e[i].pk);
	u->n = 0;
}

static void put_add(struct putter *u, struct htab *t, uint64_t h, const void *p, eq_fn eq,
		    const void *key)
{
	__builtin_prefetch(&t->slot[h & t->mask], 1);
	u->e[u->n].t = t;
	u->e[u->n].eq = eq;
	u->e[u->n].h = h;
	u->e[u->n].p = p;
	u->e[u->n].key = key;
	if (!key)
		u->e[u->n].pk = (struct portkey){((const struct wm_port *)p)->sw,
						  ((const struct wm_port *)p)->port_id};
	if (++u->n == PUT_BATCH)
		put_flush(u);
}

static bool eq_bssid(const void *i, const void *k)
{
	return memcmp(((const struct wm_bssid *)i)->bssid, k, 6) == 0;
}
static bool eq_ep_mac(const void *i, const void *k)
{
	return memcmp(((const struct wm_endpoint *)i)->mac, k, 6) == 0;
}
static bool eq_ep_uri(const void *i, const void *k)
{
	return strcmp(((const struct wm_endpoint *)i)->uri, k) == 0;
}
static bool eq_ep_tel(const void *i, const void *k)
{
	return strcmp(((const struct wm_endpoint *)i)->tel, k) == 0;
}
static bool eq_group_mac(const void *i, const void *k)
{
	return memcmp(((const struct bgroup *)i)->b[0].mac, k, 6) == 0;
}
static bool eq_group_ip(const void *i, const void *k)
{
	return memcmp(&((const struct bgroup *)i)->ip, k, sizeof(struct wm_ip)) == 0;
}

/* ------------------------------------------------------------------ finish */

static uint64_t hash_id(long long id)
{
	return mix64((uint64_t)id);
}

/* An id -> row table. */
static int id_table(struct wm_snapshot *s, struct htab *t, const struct vec *v, size_t id_off,
		    eq_fn eq)
{
	if (htab_init(s, t, v->n) < 0)
		return -1;
	void **p = v->v;
	struct putter u = {0};
	for (size_t i = 0; i < v->n; i++) {
		const long long *id = (const long long *)((const char *)p[i] + id_off);
		put_add(&u, t, hash_id(*id), p[i], eq, id);
	}
	put_flush(&u);
	return 0;
}

static const void *by_id(const struct htab *t, long long id, eq_fn eq)
{
	return id ? htab_get(t, hash_id(id), eq, &id) : NULL;
}

/* Publish a field for readers that may be reading (a delta). */
#define PUBLISH(lv, v) __atomic_store_n(&(lv), (v), __ATOMIC_RELEASE)
#define READ(lv) __atomic_load_n(&(lv), __ATOMIC_ACQUIRE)

/* The hash of a masked prefix of family f (0 IPv4, 1 IPv6) in its length's table: a
 * bijection of its first 64 bits (all of an IPv4 one) up to /64, so that such tables need
 * no row to compare; longer IPv6 prefixes are hashed whole and compared. */
static bool subnet_exact(int f, unsigned len)
{
	return f == 0 || len <= 64;
}

static uint64_t subnet_hash(int f, unsigned len, const uint8_t *a)
{
	if (!subnet_exact(f, len))
		return hash_bytes(a, 16);
	uint64_t x = 0;
	for (int i = 0; i < (f ? 8 : 4); i++)
		x = x << 8 | a[i];
	return mix64(x);
}

static bool eq_subnet6(const void *i, const void *k)
{
	return memcmp(((const struct subnet6 *)i)->a, k, 16) == 0;
}

/* What a slot of length len's table holds for a prefix (a = its masked bytes) at loc;
 * NULL: out of memory. */
static const void *subnet_entry(struct arena *ar, int f, unsigned len, const uint8_t *a,
				const struct wm_location *loc)
{
	if (subnet_exact(f, len))
		return loc;
	struct subnet6 *e = arena_alloc(ar, sizeof *e);
	if (e) {
		memcpy(e->a, a, 16);
		e->loc = loc;
	}
	return e;
}

/* A list of prefix lengths with len added, longest first; NULL: out of memory. */
static struct sublens *sublens_with(struct arena *ar, const struct sublens *old, unsigned len)
{
	struct sublens *l = arena_alloc(ar, sizeof *l);
	if (!l)
		return NULL;
	size_t j = 0;
	for (unsigned i = 0; old && i < old->n; i++) {
		if (old->len[i] < len && j == i)
			l->len[j++] = (uint8_t)len;
		l->len[j++] = old->len[i];
	}
	if (j == (old ? old->n : 0))
		l->len[j++] = (uint8_t)len;
	l->n = (unsigned)j;
	return l;
}

/* Most recent first; within one second, the later arrival (the loader sends rows in
 * last_seen order) is the more recent. */
static int newest_first(const struct binding_b *x, const struct binding_b *y)
{
	if (x->b.last_seen != y->b.last_seen)
		return x->b.last_seen < y->b.last_seen ? 1 : -1;
	return (x->arrival < y->arrival) - (x->arrival > y->arrival);
}

static int cmp_binding_mac(const void *a, const void *b)
{
	const struct binding_b *x = a, *y = b;
	int c = memcmp(x->b.mac, y->b.mac, 6);
	if (c)
		return c;
	return newest_first(x, y);
}

static int cmp_binding_ip(const void *a, const void *b)
{
	const struct binding_b *x = a, *y = b;
	int c = memcmp(&x->ip, &y->ip, sizeof x->ip);
	if (c)
		return c;
	return newest_first(x, y);
}

/* The same key (IP or MAC, by kind) in two rows. */
static bool same_binding_key(bool by_ip, const struct binding_b *x, const struct binding_b *y)
{
	return by_ip ? memcmp(&x->ip, &y->ip, sizeof x->ip) == 0
		     : memcmp(x->b.mac, y->b.mac, 6) == 0;
}

/* A group for rows[0..n) (one key, newest first) in the arena; NULL: out of memory. */
static struct bgroup *binding_group(struct wm_snapshot *s, int kind, const struct binding_b *rows,
				    size_t n)
{
	struct bgroup *g = arena_alloc(&s->arena, sizeof *g + n * sizeof g->b[0]);
	if (!g)
		return NULL;
	g->n = (uint32_t)n;
	if (kind == K_B_IP)
		g->ip = rows[0].ip;
	/* A hint, for prefetching only (a delta may change it since; no answer reads it):
	 * the access point of the newest association and its location as they are now, for
	 * wm_prefetch_access_points(); the newest port and its location, for
	 * wm_prefetch_ports(). Each pair is loaded at once: the location does not wait for
	 * what names it. */
	const void *hint[2] = {NULL, NULL};
	if (kind == K_B_BSSID) {
		const struct wm_bssid *ap = wm_lookup_bssid(s, rows[0].b.bssid);
		hint[0] = ap;
		hint[1] = ap ? READ(ap->location) : NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct wm_binding *b = &g->b[i];
		*b = rows[i].b;  /* a port binding's switch and port: resolve_ports() */
		if (kind != K_B_PORT)
			continue;
		if (i == 0 && b->port) {
			hint[0] = b->port;
			hint[1] = READ(b->port->location);
		}
	}
	_Static_assert(sizeof hint <= sizeof g->hint, "bgroup: room for the hint");
	if (kind != K_B_IP)
		memcpy(g->hint, hint, sizeof hint);
	return g;
}

static uint64_t hash_group(const struct bgroup *g, bool by_ip)
{
	return by_ip ? hash_bytes(&g->ip, sizeof g->ip) : hash_mac(g->b[0].mac);
}

/* The switch and the port of each port binding, a batch at a time like struct putter: the
 * batch's slots, then the ports they name, are on their way before the first lookup. */
static void resolve_ports(struct wm_snapshot *s, struct binding_b *rows, size_t n,
			  const struct htab *sw_by_id)
{
	const struct htab *t = &s->by_port;
	uint64_t h[PUT_BATCH];
	for (size_t at = 0; at < n; at += PUT_BATCH) {
		size_t m = n - at < PUT_BATCH ? n - at : PUT_BATCH;
		struct binding_b *r = rows + at;
		for (size_t i = 0; i < m; i++) {
			r[i].b.sw = by_id(sw_by_id, r[i].switch_id, eq_sw_id);
			h[i] = r[i].b.sw ? hash_port(r[i].b.sw, r[i].b.port_id) : 0;
			if (r[i].b.sw && t->slot)
				__builtin_prefetch(&t->slot[h[i] & t->mask]);
		}
		for (size_t i = 0; i < m && t->slot; i++) {
			const void *p = r[i].b.sw ? t->slot[h[i] & t->mask].p : NULL;
			if (p)
				__builtin_prefetch(p);
		}
		for (size_t i = 0; i < m; i++) {
			struct portkey pk = {r[i].b.sw, r[i].b.port_id};
			r[i].b.port = pk.sw ? htab_get(t, h[i], eq_port, &pk) : NULL;
		}
	}
}

/* Sort one kind's bindings, copy each key's run into a group in the arena, index them. */
static int finish_bindings(struct wm_builder *b, int kind, struct htab *groups,
			   const struct htab *sw_by_id)
{
	struct wm_snapshot *s = b->s;
	struct vec *v = &b->v[kind];
	struct binding_b *rows = v->v;
	bool by_ip = kind == K_B_IP;
	if (v->n)
		qsort(rows, v->n, sizeof *rows, by_ip ? cmp_binding_ip : cmp_binding_mac);
	if (kind == K_B_PORT)
		resolve_ports(s, rows, v->n, sw_by_id);
	size_t n_groups = 0;
	for (size_t i = 0; i < v->n; i++)
		n_groups += i == 0 || !same_binding_key(by_ip, &rows[i - 1], &rows[i]);
	if (htab_init(s, groups, n_groups) < 0)
		return -1;
	struct putter u = {0};
	for (size_t i = 0, end; i < v->n; i = end) {
		for (end = i + 1; end < v->n && same_binding_key(by_ip, &rows[i], &rows[end]); end++)
			;
		struct bgroup *g = binding_group(s, kind, rows + i, end - i);
		if (!g)
			return -1;
		put_add(&u, groups, hash_group(g, by_ip), g, by_ip ? eq_group_ip : eq_group_mac,
			by_ip ? (const void *)&g->ip : g->b[0].mac);
	}
	put_flush(&u);
	return 0;
}

/* Slots for n rows and for the keys deltas add (declared locations, VPN bindings: a VPN
 * concentrator binds addresses all day): a table never grows in place, and a full one has
 * the snapshot reloaded. */
static size_t delta_room(size_t n)
{
	return n + (n / 2 > 2048 ? n / 2 : 2048);
}

static int finish(struct wm_builder *b)
{
	struct wm_snapshot *s = b->s;
	struct htab *site_id = &s->site_id, *loc_id = &s->loc_id, *sw_id = &s->sw_id;
	int rc = -1;
	struct putter u = {0};

	if (id_table(s, site_id, &b->v[K_SITE], offsetof(struct wm_site, id), eq_site_id) < 0 ||
	    id_table(s, loc_id, &b->v[K_LOC], offsetof(struct wm_location, id), eq_loc_id) < 0 ||
	    id_table(s, sw_id, &b->v[K_SW], offsetof(struct wm_switch, id), eq_sw_id) < 0 ||
	    id_table(s, &s->ep_id, &b->v[K_EP], offsetof(struct wm_endpoint, id), eq_ep_id) < 0)
		goto out;

	void **p = b->v[K_SITE].v;
	for (size_t i = 0; i < b->v[K_SITE].n; i++) {
		struct site_b *x = p[i];
		x->s.default_location = by_id(loc_id, x->default_location_id, eq_loc_id);
	}
	p = b->v[K_LOC].v;
	for (size_t i = 0; i < b->v[K_LOC].n; i++) {
		struct location_b *x = p[i];
		x->l.site = by_id(site_id, x->site_id, eq_site_id);
	}

	p = b->v[K_SW].v;
	if (htab_init(s, &s->by_chassis, b->v[K_SW].n) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_SW].n; i++) {
		struct switch_b *x = p[i];
		x->s.site = by_id(site_id, x->site_id, eq_site_id);
		x->s.location = by_id(loc_id, x->location_id, eq_loc_id);
		htab_put(&s->by_chassis, hash_str(x->s.chassis_id), &x->s, eq_chassis,
			 x->s.chassis_id);
	}

	p = b->v[K_PORT].v;
	if (htab_init(s, &s->by_port, b->v[K_PORT].n) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_PORT].n; i++) {
		struct port_b *x = p[i];
		x->p.sw = by_id(sw_id, x->switch_id, eq_sw_id);
		x->p.location = by_id(loc_id, x->location_id, eq_loc_id);
		if (!x->p.sw)
			continue; /* unreachable: no lookup can name its switch */
		put_add(&u, &s->by_port, hash_port(x->p.sw, x->p.port_id), &x->p, eq_port, NULL);
	}
	put_flush(&u);

	/* BSSIDs: one table per prefix length in use, probed longest first */
	size_t per_len[N_BSSID_LENS] = {0};
	p = b->v[K_BSSID].v;
	for (size_t i = 0; i < b->v[K_BSSID].n; i++)
		per_len[((struct bssid_b *)p[i])->b.prefix_len]++;
	for (int len = 48; len >= 1; len--) {
		if (!per_len[len])
			continue;
		if (htab_init(s, &s->bssid[len], per_len[len]) < 0)
			goto out;
		s->bssid_lens[s->n_bssid_lens++] = (uint8_t)len;
	}
	for (size_t i = 0; i < b->v[K_BSSID].n; i++) {
		struct bssid_b *x = p[i];
		x->b.location = by_id(loc_id, x->location_id, eq_loc_id);
		put_add(&u, &s->bssid[x->b.prefix_len], hash_mac(x->b.bssid), &x->b, eq_bssid,
			x->b.bssid);
	}
	put_flush(&u);

	/* classes before endpoints and VPN bindings, which name them */
	s->n_classes = b->v[K_CLASS].n;
	if (s->n_classes) {
		s->classes = arena_alloc(&s->arena, s->n_classes * sizeof *s->classes);
		if (!s->classes)
			goto out;
		memcpy(s->classes, b->v[K_CLASS].v, s->n_classes * sizeof *s->classes);
	}
	p = b->v[K_DECL].v;
	if (htab_init(s, &s->decl_user, delta_room(b->v[K_DECL].n)) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_DECL].n; i++) {
		struct wm_declared *x = p[i];
		htab_put(&s->decl_user, hash_str(x->user), x, eq_decl_user, x->user);
	}
	p = b->v[K_VPN].v;
	if (htab_init(s, &s->vpn_ip, delta_room(b->v[K_VPN].n)) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_VPN].n; i++) {
		struct wm_vpn *x = p[i];
		x->cls = wm_lookup_class(s, x->class_key);
		htab_put(&s->vpn_ip, hash_str(x->ip), x, eq_vpn_ip, x->ip);
	}
	p = b->v[K_USER].v;
	if (htab_init(s, &s->users_off, b->v[K_USER].n) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_USER].n; i++)
		htab_put(&s->users_off, hash_str(p[i]), p[i], eq_str, p[i]);

	size_t n_mac = 0, n_uri = 0, n_tel = 0;
	p = b->v[K_EP].v;
	for (size_t i = 0; i < b->v[K_EP].n; i++) {
		struct endpoint_b *x = p[i];
		n_mac += x->e.has_mac;
		n_uri += x->e.uri != NULL;
		n_tel += x->e.tel != NULL;
	}
	if (htab_init(s, &s->ep_mac, n_mac) < 0 ||
	    htab_init(s, &s->ep_uri, n_uri) < 0 ||
	    htab_init(s, &s->ep_tel, n_tel) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_EP].n; i++) {
		struct endpoint_b *x = p[i];
		x->e.location = by_id(loc_id, x->location_id, eq_loc_id);
		x->e.cls = wm_lookup_class(s, x->e.class_key);
		if (x->e.has_mac)
			put_add(&u, &s->ep_mac, hash_mac(x->e.mac), &x->e, eq_ep_mac, x->e.mac);
		if (x->e.uri)
			put_add(&u, &s->ep_uri, hash_str(x->e.uri), &x->e, eq_ep_uri, x->e.uri);
		if (x->e.tel)
			put_add(&u, &s->ep_tel, hash_str(x->e.tel), &x->e, eq_ep_tel, x->e.tel);
	}
	put_flush(&u);

	/* subnets: count each table's prefixes, make the tables, then fill them; a subnet that
	 * leads nowhere is no answer (and no subnet to judge premises by) */
	struct subnet_b *sn = b->v[K_SUBNET].v;
	size_t per_plen[2][N_SUBNET_LENS] = {{0}};
	for (size_t i = 0; i < b->v[K_SUBNET].n; i++)
		if (sn[i].remote || by_id(loc_id, sn[i].location_id, eq_loc_id))
			per_plen[sn[i].k.fam == 6][sn[i].len]++;
	for (int f = 0; f < 2; f++) {
		struct sublens *l = NULL;
		for (int len = N_SUBNET_LENS - 1; len >= 0; len--) {
			if (!per_plen[f][len])
				continue;
			if (htab_init(s, &s->subnet[f][len], per_plen[f][len]) < 0 ||
			    (!l && !(l = arena_alloc(&s->arena, sizeof *l))))
				goto out;
			l->len[l->n++] = (uint8_t)len;
		}
		s->sublens[f] = l;
	}
	for (size_t i = 0; i < b->v[K_SUBNET].n; i++) {
		const struct wm_location *loc = sn[i].remote ? &remote_pool
					       : by_id(loc_id, sn[i].location_id, eq_loc_id);
		if (!loc)
			continue;
		int f = sn[i].k.fam == 6;
		const void *e = subnet_entry(&s->arena, f, sn[i].len, sn[i].k.a, loc);
		if (!e)
			goto out;
		put_add(&u, &s->subnet[f][sn[i].len], subnet_hash(f, sn[i].len, sn[i].k.a), e,
			subnet_exact(f, sn[i].len) ? NULL : eq_subnet6, sn[i].k.a);
	}
	put_flush(&u);

	if (finish_bindings(b, K_B_PORT, &s->g_mac_port, sw_id) < 0 ||
	    finish_bindings(b, K_B_IP, &s->g_ip_mac, sw_id) < 0 ||
	    finish_bindings(b, K_B_BSSID, &s->g_mac_bssid, sw_id) < 0)
		goto out;

	struct wm_snapshot_stats *st = &s->st;
	st->sites = b->v[K_SITE].n;
	st->locations = b->v[K_LOC].n;
	st->subnets = b->v[K_SUBNET].n;
	st->switches = b->v[K_SW].n;
	st->ports = b->v[K_PORT].n;
	st->bssids = b->v[K_BSSID].n;
	st->endpoints = b->v[K_EP].n;
	st->classes = b->v[K_CLASS].n;
	st->declared = b->v[K_DECL].n;
	st->vpn = b->v[K_VPN].n;
	st->users_inactive = b->v[K_USER].n;
	st->bind_mac_port = b->v[K_B_PORT].n;
	st->bind_ip_mac = b->v[K_B_IP].n;
	st->bind_mac_bssid = b->v[K_B_BSSID].n;
	rc = 0;
out:
	return rc;
}

struct wm_snapshot *wm_builder_finish(struct wm_builder *b, struct lis_error *err)
{
	if (!b->s) {
		lis_error_set(err, LIS_E_SYSTEM, "wiremap snapshot: builder already finished");
		return NULL;
	}
	if (finish(b) < 0) {
		oom(err);
		return NULL;
	}
	struct wm_snapshot *s = b->s;
	b->s = NULL;
	for (int k = 0; k < K_N; k++) {
		vec_free(s->arena.region, &b->v[k]);
		b->v[k] = (struct vec){.elem = b->v[k].elem};
	}
	region_close(s->arena.region);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	s->st.load_ms = (double)(now.tv_sec - b->started.tv_sec) * 1e3 +
			(double)(now.tv_nsec - b->started.tv_nsec) / 1e6;
	s->st.loaded_at = time(NULL);
	return s;
}

void wm_snapshot_free(struct wm_snapshot *s)
{
	if (!s)
		return;
	htab_free(s, &s->by_chassis);
	htab_free(s, &s->by_port);
	htab_free(s, &s->ep_mac);
	htab_free(s, &s->ep_uri);
	htab_free(s, &s->ep_tel);
	htab_free(s, &s->g_ip_mac);
	htab_free(s, &s->g_mac_port);
	htab_free(s, &s->g_mac_bssid);
	htab_free(s, &s->site_id);
	htab_free(s, &s->loc_id);
	htab_free(s, &s->sw_id);
	htab_free(s, &s->ep_id);
	htab_free(s, &s->decl_user);
	htab_free(s, &s->vpn_ip);
	htab_free(s, &s->users_off);
	for (int i = 0; i < N_BSSID_LENS; i++)
		htab_free(s, &s->bssid[i]);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < N_SUBNET_LENS; i++)
			htab_free(s, &s->subnet[f][i]);
	for (struct pidf_frag *f = atomic_load(&s->frags), *next; f; f = next) {
		next = f->next;
		pidf_frag_free(f);
	}
	arena_free(&s->arena);
	region_free(s->arena.region);
	free(s);
}

const struct pidf_frag *wm_location_set_frag(const struct wm_snapshot *s,
					     const struct wm_location *loc, struct pidf_frag *f)
{
	/* the snapshot is immutable but for these two fields, which only atomics touch */
	struct wm_snapshot *ws = (struct wm_snapshot *)s;
	struct pidf_frag *_Atomic *slot = &((struct wm_location *)loc)->frag;
	struct pidf_frag *had = NULL;
	if (!atomic_compare_exchange_strong(slot, &had, f)) {
		pidf_frag_free(f);
		return had;
	}
	f->next = atomic_load(&ws->frags);
	while (!atomic_compare_exchange_weak(&ws->frags, &f->next, f))
		;
	return f;
}

void wm_snapshot_get_stats(const struct wm_snapshot *s, struct wm_snapshot_stats *st)
{
	*st = s->st;
	st->bytes = sizeof *s + s->arena.bytes + s->table_bytes;
	st->prefaulted = s->arena.region ? s->arena.region->prefaulted : 0;
}

/* ------------------------------------------------------------------ lookups */

/* The keys of address k in the tables of family f's n prefix lengths l (a: masked, h:
 * hashed), and a start at loading their slots. */
static void subnet_keys(const struct wm_snapshot *s, const struct wm_ip *k, int f,
			const struct sublens *l, uint8_t a[][16], uint64_t *h)
{
	for (unsigned i = 0; i < l->n; i++) {
		memcpy(a[i], k->a, 16);
		mask_bits(a[i], l->len[i], 16);
		h[i] = subnet_hash(f, l->len[i], a[i]);
		htab_prefetch(&s->subnet[f][l->len[i]], h[i]);
	}
}

/* The longest stored prefix of address k: every length's slot is started loading first, so
 * that the probes' misses overlap, then the lengths are probed longest first. */
const struct wm_location *wm_lookup_subnet_at(const struct wm_snapshot *s, const struct wm_ip *k,
					      struct wm_prefix *matched, bool *remote)
{
	int f = k->fam == 6;
	const struct sublens *l = READ(s->sublens[f]);
	uint8_t a[N_SUBNET_LENS][16];
	uint64_t h[N_SUBNET_LENS];
	if (matched)
		matched->fam = 0;
	if (remote)
		*remote = false;
	if (!l)
		return NULL;
	subnet_keys(s, k, f, l, a, h);
	for (unsigned i = 0; i < l->n; i++) {
		unsigned len = l->len[i];
		bool exact = subnet_exact(f, len);
		const void *p = htab_get(&s->subnet[f][len], h[i], exact ? NULL : eq_subnet6, a[i]);
		if (!p)
			continue;
		if (matched) {
			matched->fam = k->fam;
			matched->len = (uint8_t)len;
			memcpy(matched->a, a[i], 16);
		}
		const struct wm_location *loc = exact ? p : ((const struct subnet6 *)p)->loc;
		if (loc == &remote_pool) {
			if (remote)
				*remote = true;
			return NULL;
		}
		return wm_location_current(loc);
	}
	return NULL;
}

void wm_prefetch_ip(const struct wm_snapshot *s, const struct wm_ip *k)
{
	int f = k->fam == 6;
	const struct sublens *l = READ(s->sublens[f]);
	uint8_t a[N_SUBNET_LENS][16];
	uint64_t h[N_SUBNET_LENS];
	htab_prefetch(&s->g_ip_mac, hash_bytes(k, sizeof *k));
	if (l)
		subnet_keys(s, k, f, l, a, h);
}

int wm_ip_parse(const char *text, struct wm_ip *ip)
{
	return ip_parse(text, ip, NULL);
}

void wm_prefix_format(const struct wm_prefix *p, char *buf, size_t size)
{
	struct wm_ip net = {.fam = p->fam};
	char a[INET6_ADDRSTRLEN];
	if (!size)
		return;
	buf[0] = '\0';
	if (p->fam != 4 && p->fam != 6)
		return;
	memcpy(net.a, p->a, 16);
	ip_format(&net, a, sizeof a);
	struct strbuf b;  /* on every answer of a subnet: no printf */
	strbuf_init_text(&b, buf, size);
	strbuf_cat(&b, a, "/");
	strbuf_put_int(&b, p->len);
}

const struct wm_location *wm_lookup_subnet(const struct wm_snapshot *s, const char *ip,
					   char *matched, size_t matched_size)
{
	bool remote;
	return wm_lookup_subnet_ex(s, ip, matched, matched_size, &remote);
}

bool wm_snapshot_has_subnets(const struct wm_snapshot *s)
{
	return READ(s->sublens[0]) || READ(s->sublens[1]);
}

const struct wm_class *wm_lookup_class(const struct wm_snapshot *s, const char *key)
{
	for (size_t i = 0; key && i < s->n_classes; i++)
		if (strcmp(s->classes[i]->key, key) == 0)
			return s->classes[i];
	return NULL;
}

const struct wm_declared *wm_lookup_declared(const struct wm_snapshot *s, const char *user)
{
	return user ? htab_get(&s->decl_user, hash_str(user), eq_decl_user, user) : NULL;
}

bool wm_user_is_active(const struct wm_snapshot *s, const char *user)
{
	return !user || !s->users_off.used ||
	       !htab_get(&s->users_off, hash_str(user), eq_str, user);
}

const struct wm_vpn *wm_lookup_vpn_at(const struct wm_snapshot *s, const struct wm_ip *k)
{
	char text[INET6_ADDRSTRLEN];
	if (!s->vpn_ip.used)
		return NULL; /* most wiremaps have none: no address to write */
	ip_format(k, text, sizeof text);
	return htab_get(&s->vpn_ip, hash_str(text), eq_vpn_ip, text);
}

const struct wm_vpn *wm_lookup_vpn(const struct wm_snapshot *s, const char *ip)
{
	struct wm_ip k;
	if (!ip || ip_parse(ip, &k, NULL) < 0)
		return NULL;
	return wm_lookup_vpn_at(s, &k);
}

const struct wm_location *wm_lookup_subnet_ex(const struct wm_snapshot *s, const char *ip,
					      char *matched, size_t matched_size, bool *remote)
{
	struct wm_ip k;
	struct wm_prefix p = {0};
	const struct wm_location *loc = ip_parse(ip, &k, NULL) < 0 ? NULL
				      : wm_lookup_subnet_at(s, &k, &p, remote);
	if (matched && matched_size)
		wm_prefix_format(&p, matched, matched_size);
	return loc;
}

const struct wm_port *wm_lookup_port(const struct wm_snapshot *s, const struct wm_switch *sw,
				     const char *port_id)
{
	if (!sw || !port_id)
		return NULL;
	struct portkey pk = {sw, port_id};
	return htab_get(&s->by_port, hash_port(sw, port_id), eq_port, &pk);
}

const struct wm_switch *wm_lookup_switch(const struct wm_snapshot *s, const char *chassis_id)
{
	if (!chassis_id)
		return NULL;
	/* lis-wiremap(5): a chassis ID that is a MAC is stored in canonical form */
	uint8_t mac[6];
	char canon[18];
	if (ident_mac_parse(chassis_id, mac) == 0) {
		ident_mac_format(mac, canon);
		chassis_id = canon;
	}
	return htab_get(&s->by_chassis, hash_str(chassis_id), eq_chassis, chassis_id);
}

const struct wm_bssid *wm_lookup_bssid(const struct wm_snapshot *s, const uint8_t bssid[6])
{
	for (unsigned i = 0; i < s->n_bssid_lens; i++) {
		unsigned len = s->bssid_lens[i];
		uint8_t k[6];
		memcpy(k, bssid, 6);
		mask_bits(k, len, 6);
		const struct wm_bssid *b = htab_get_exact(&s->bssid[len], hash_mac(k));
		if (b)
			return b;
	}
	return NULL;
}

const struct wm_endpoint *wm_lookup_endpoint_mac(const struct wm_snapshot *s, const uint8_t mac[6])
{
	return htab_get_exact(&s->ep_mac, hash_mac(mac));
}

void wm_prefetch_mac(const struct wm_snapshot *s, const uint8_t mac[6])
{
	uint64_t h = hash_mac(mac);
	htab_prefetch(&s->ep_mac, h);
	htab_prefetch(&s->g_mac_port, h);
	htab_prefetch(&s->g_mac_bssid, h);
}

void wm_prefetch_bindings(const struct wm_snapshot *s, const uint8_t mac[6])
{
	uint64_t h = hash_mac(mac);
	const struct bgroup *g = htab_get_exact(&s->g_mac_port, h);
	if (g)
		__builtin_prefetch(g);
	if ((g = htab_get_exact(&s->g_mac_bssid, h)))
		__builtin_prefetch(g);
}

void wm_prefetch_bssid(const struct wm_snapshot *s, const uint8_t bssid[6])
{
	for (unsigned i = 0; i < s->n_bssid_lens; i++) {
		unsigned len = s->bssid_lens[i];
		uint8_t k[6];
		memcpy(k, bssid, 6);
		mask_bits(k, len, 6);
		htab_prefetch(&s->bssid[len], hash_mac(k));
	}
}

/* A group's hint (binding_group()), started loading; returns the group. */
static const struct bgroup *prefetch_hint(const struct htab *t, const uint8_t mac[6])
{
	const struct bgroup *g = htab_get_exact(t, hash_mac(mac));
	const void *hint[2] = {NULL, NULL};
	if (g)
		memcpy(hint, g->hint, sizeof hint);
	for (int i = 0; i < 2; i++)
		if (hint[i])
			__builtin_prefetch(hint[i]);
	return g;
}

void wm_prefetch_access_points(const struct wm_snapshot *s, const uint8_t mac[6], size_t max)
{
	const struct bgroup *g = prefetch_hint(&s->g_mac_bssid, mac);
	for (size_t i = 0; g && i < g->n && i < max; i++)
		wm_prefetch_bssid(s, g->b[i].bssid);
}

void wm_prefetch_ports(const struct wm_snapshot *s, const uint8_t mac[6], size_t max)
{
	const struct bgroup *g = prefetch_hint(&s->g_mac_port, mac);
	for (size_t i = 0; g && i < g->n && i < max; i++)
		if (g->b[i].port)
			__builtin_prefetch(g->b[i].port);
}

/* Stored URIs are in normal form (dup_uri) and normalizing one gives it back: a URI found as
 * it is needs no normalizing, and the resolver's identities come normalized already. */
static const struct wm_endpoint *lookup_uri(const struct htab *t, eq_fn eq, const char *uri)
{
	char buf[512];
	if (!uri)
		return NULL;
	const struct wm_endpoint *e = htab_get(t, hash_str(uri), eq, uri);
	if (e || ident_uri_normalize(uri, buf, sizeof buf) < 0 || strcmp(buf, uri) == 0)
		return e;
	return htab_get(t, hash_str(buf), eq, buf);
}

const struct wm_endpoint *wm_lookup_endpoint_uri(const struct wm_snapshot *s, const char *uri)
{
	return lookup_uri(&s->ep_uri, eq_ep_uri, uri);
}

const struct wm_endpoint *wm_lookup_endpoint_tel(const struct wm_snapshot *s, const char *tel)
{
	return lookup_uri(&s->ep_tel, eq_ep_tel, tel);
}

static size_t slice(const struct bgroup *g, const struct wm_binding **out, size_t max)
{
	if (!g)
		return 0;
	size_t n = g->n < max ? g->n : max;
	for (size_t i = 0; i < n; i++)
		out[i] = &g->b[i];
	return n;
}

size_t wm_bindings_ip_mac_at(const struct wm_snapshot *s, const struct wm_ip *ip,
			     const struct wm_binding **out, size_t max)
{
	return slice(htab_get(&s->g_ip_mac, hash_bytes(ip, sizeof *ip), eq_group_ip, ip), out, max);
}

size_t wm_bindings_ip_mac(const struct wm_snapshot *s, const char *ip,
			  const struct wm_binding **out, size_t max)
{
	struct wm_ip k;
	return ip_parse(ip, &k, NULL) < 0 ? 0 : wm_bindings_ip_mac_at(s, &k, out, max);
}

size_t wm_bindings_mac_port(const struct wm_snapshot *s, const uint8_t mac[6],
			    const struct wm_binding **out, size_t max)
{
	return slice(htab_get_exact(&s->g_mac_port, hash_mac(mac)), out, max);
}

size_t wm_bindings_mac_bssid(const struct wm_snapshot *s, const uint8_t mac[6],
			     const struct wm_binding **out, size_t max)
{
	return slice(htab_get_exact(&s->g_mac_bssid, hash_mac(mac)), out, max);
}

const struct wm_port *wm_binding_port(const struct wm_snapshot *s, const struct wm_binding *b)
{
	const struct wm_port *p = b->port;
	if (p && !READ(p->gone))
		return p;
	/* not in the wiremap when loaded, or deleted since: a delta may have added it */
	return wm_lookup_port(s, b->sw, b->port_id);
}

/* ------------------------------------------------------------------ deltas */

const struct wm_location wm_location_gone;

struct dkey {
	long long id;
	char *text;
};

struct wm_delta {
	struct wm_builder b;            /* rows, into the live snapshot's arena */
	struct db_delta_sink sink;
	struct dkey *keys[DB_FEED_N];    /* by enum db_entity, DB_FEED_DECLARED, DB_FEED_VPN */
	size_t n_keys[DB_FEED_N], cap_keys[DB_FEED_N];
	size_t arena_before;
};

static int delta_key(void *ctx, int e, long long key_id, const char *key_text,
		     struct lis_error *err)
{
	struct wm_delta *d = ctx;
	if (e < 0 || e >= DB_FEED_N)
		return lis_error_set(err, LIS_E_SYSTEM, "wiremap delta: no table %d", e);
	if (d->n_keys[e] == d->cap_keys[e]) {
		size_t cap = d->cap_keys[e] ? d->cap_keys[e] * 2 : 16;
		void *p = realloc(d->keys[e], cap * sizeof *d->keys[e]);
		if (!p)
			return oom(err);
		d->keys[e] = p;
		d->cap_keys[e] = cap;
	}
	char *t = key_text ? strdup(key_text) : NULL;
	if (key_text && !t)
		return oom(err);
	d->keys[e][d->n_keys[e]++] = (struct dkey){key_id, t};
	return 0;
}

struct wm_delta *wm_delta_new(struct wm_snapshot *s)
{
	struct wm_builder *b = wm_builder_new();
	struct wm_delta *d = b ? calloc(1, sizeof *d) : NULL;
	if (!d) {
		wm_builder_free(b);
		return NULL;
	}
	/* the builder's own (empty) snapshot gives way to the live one */
	wm_snapshot_free(b->s);
	d->b = *b;
	free(b);
	d->b.s = s;
	d->b.sink.ctx = d; /* d->b comes first: the row callbacks see their builder */
	d->sink.rows = d->b.sink;
	d->sink.key = delta_key;
	d->arena_before = s->arena.used;
	return d;
}

const struct db_delta_sink *wm_delta_sink(struct wm_delta *d)
{
	return &d->sink;
}

void wm_delta_free(struct wm_delta *d)
{
	if (!d)
		return;
	for (int k = 0; k < K_N; k++)
		free(d->b.v[k].v);
	for (int e = 0; e < DB_FEED_N; e++) {
		for (size_t i = 0; i < d->n_keys[e]; i++)
			free(d->keys[e][i].text);
		free(d->keys[e]);
	}
	free(d);
}

/* Rows of the delta by key, to find the row (or rows) of a changed key. */
static int cmp_loc_row(const void *a, const void *b)
{
	long long x = (*(struct location_b *const *)a)->l.id;
	long long y = (*(struct location_b *const *)b)->l.id;
	return (x > y) - (x < y);
}
static int cmp_ep_row(const void *a, const void *b)
{
	long long x = (*(struct endpoint_b *const *)a)->e.id;
	long long y = (*(struct endpoint_b *const *)b)->e.id;
	return (x > y) - (x < y);
}
static int cmp_subnet_row(const void *a, const void *b)
{
	const struct subnet_b *x = a, *y = b;
	int c = memcmp(&x->k, &y->k, sizeof x->k);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}
static int cmp_port_row(const void *a, const void *b)
{
	const struct port_b *x = *(struct port_b *const *)a, *y = *(struct port_b *const *)b;
	if (x->switch_id != y->switch_id)
		return x->switch_id < y->switch_id ? -1 : 1;
	return strcmp(x->p.port_id, y->p.port_id);
}
static int cmp_bssid_row(const void *a, const void *b)
{
	const struct bssid_b *x = *(struct bssid_b *const *)a, *y = *(struct bssid_b *const *)b;
	if (x->b.prefix_len != y->b.prefix_len)
		return x->b.prefix_len < y->b.prefix_len ? -1 : 1;
	return memcmp(x->b.bssid, y->b.bssid, 6);
}

/* A location row: its new version, which every older version then points at. */
static int delta_location(struct wm_snapshot *s, struct location_b *x)
{
	x->l.site = by_id(&s->site_id, x->site_id, eq_site_id);
	if (!x->l.site)
		return 1;
	const struct wm_location *old = htab_set(&s->loc_id, hash_id(x->l.id), &x->l, eq_loc_id,
						 &x->l.id);
	if (old == TOMB)
		return 1;
	x->l.older = old;
	for (const struct wm_location *v = old; v; v = v->older)
		PUBLISH(((struct wm_location *)v)->newer, &x->l);
	s->st.locations += !old;
	return 0;
}

static void delta_location_gone(struct wm_snapshot *s, long long id)
{
	const struct wm_location *old = htab_del(&s->loc_id, hash_id(id), eq_loc_id, &id, NULL);
	for (const struct wm_location *v = old; v; v = v->older)
		PUBLISH(((struct wm_location *)v)->newer, &wm_location_gone);
	s->st.locations -= old != NULL;
}

/* A prefix (k masked to len) now at loc, or deleted (loc NULL). A length without a table
 * gets one, and the list of lengths with it is published after it. */
static int delta_subnet(struct wm_snapshot *s, const struct wm_ip *k, unsigned len,
			const struct wm_location *loc)
{
	int f = k->fam == 6;
	struct htab *t = &s->subnet[f][len];
	uint64_t h = subnet_hash(f, len, k->a);
	eq_fn eq = subnet_exact(f, len) ? NULL : eq_subnet6;
	if (!loc) {
		if (t->slot)
			htab_del(t, h, eq, k->a, NULL);
		return 0;
	}
	if (!t->slot) {
		struct sublens *l = sublens_with(&s->arena, s->sublens[f], len);
		if (!l || htab_init(s, t, SUBNET_DELTA_TABLE / 2) < 0)
			return -1;
		PUBLISH(s->sublens[f], l);
	}
	const void *e = subnet_entry(&s->arena, f, len, k->a, loc);
	if (!e)
		return -1;
	return htab_set(t, h, e, eq, k->a) == TOMB ? 1 : 0;
}

static int delta_port(struct wm_snapshot *s, struct port_b *x)
{
	x->p.sw = by_id(&s->sw_id, x->switch_id, eq_sw_id);
	if (!x->p.sw)
		return 1;
	x->p.location = by_id(&s->loc_id, x->location_id, eq_loc_id);
	struct portkey pk = {x->p.sw, x->p.port_id};
	uint64_t h = hash_port(pk.sw, pk.port_id);
	struct wm_port *old = (struct wm_port *)htab_get(&s->by_port, h, eq_port, &pk);
	if (old) {
		PUBLISH(old->location, x->p.location);
		return 0;
	}
	if (htab_set(&s->by_port, h, &x->p, eq_port, &pk) == TOMB)
		return 1;
	s->st.ports++;
	return 0;
}

static void delta_port_gone(struct wm_snapshot *s, long long switch_id, const char *port_id)
{
	const struct wm_switch *sw = by_id(&s->sw_id, switch_id, eq_sw_id);
	if (!sw || !port_id)
		return;
	struct portkey pk = {sw, port_id};
	struct wm_port *old = (struct wm_port *)htab_del(&s->by_port, hash_port(sw, port_id),
							 eq_port, &pk, NULL);
	if (old) {
		PUBLISH(old->gone, true);
		s->st.ports--;
	}
}

static int delta_bssid(struct wm_snapshot *s, struct bssid_b *x)
{
	struct htab *t = &s->bssid[x->b.prefix_len];
	if (!t->slot)
		return 1; /* no table for this prefix length: only a load makes one */
	x->b.location = by_id(&s->loc_id, x->location_id, eq_loc_id);
	uint64_t h = hash_mac(x->b.bssid);
	struct wm_bssid *old = (struct wm_bssid *)htab_get(t, h, eq_bssid, x->b.bssid);
	if (old) {
		PUBLISH(old->location, x->b.location);
		return 0;
	}
	if (htab_set(t, h, &x->b, eq_bssid, x->b.bssid) == TOMB)
		return 1;
	s->st.bssids++;
	return 0;
}

static void delta_bssid_gone(struct wm_snapshot *s, unsigned len, const uint8_t bssid[6])
{
	if (len < 1 || len > 48 || !s->bssid[len].slot)
		return;
	uint8_t k[6];
	memcpy(k, bssid, 6);
	mask_bits(k, len, 6);
	s->st.bssids -= htab_del(&s->bssid[len], hash_mac(k), eq_bssid, k, NULL) != NULL;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Take endpoint e out of the tables that find it by MAC, URI and tel. */
static void endpoint_unindex(struct wm_snapshot *s, const struct wm_endpoint *e)
{
	if (e->has_mac)
		htab_del(&s->ep_mac, hash_mac(e->mac), eq_ep_mac, e->mac, e);
	if (e->uri)
		htab_del(&s->ep_uri, hash_str(e->uri), eq_ep_uri, e->uri, e);
	if (e->tel)
		htab_del(&s->ep_tel, hash_str(e->tel), eq_ep_tel, e->tel, e);
}

static int delta_endpoint(struct wm_snapshot *s, struct endpoint_b *x)
{
	struct wm_endpoint *e = &x->e;
	e->location = by_id(&s->loc_id, x->location_id, eq_loc_id);
	e->cls = wm_lookup_class(s, e->class_key);
	struct wm_endpoint *old = (struct wm_endpoint *)by_id(&s->ep_id, e->id, eq_ep_id);
	if (old && old->cls == e->cls && same_str(old->owner, e->owner) &&
	    old->deactivated == e->deactivated &&
	    old->has_mac == e->has_mac &&
	    (!e->has_mac || memcmp(old->mac, e->mac, 6) == 0) && same_str(old->uri, e->uri) &&
	    same_str(old->tel, e->tel) && same_str(old->key, e->key)) {
		PUBLISH(old->location, e->location);
		return 0;
	}
	if (old)
		endpoint_unindex(s, old);
	if (htab_set(&s->ep_id, hash_id(e->id), e, eq_ep_id, &e->id) == TOMB ||
	    (e->has_mac && htab_set(&s->ep_mac, hash_mac(e->mac), e, eq_ep_mac, e->mac) == TOMB) ||
	    (e->uri && htab_set(&s->ep_uri, hash_str(e->uri), e, eq_ep_uri, e->uri) == TOMB) ||
	    (e->tel && htab_set(&s->ep_tel, hash_str(e->tel), e, eq_ep_tel, e->tel) == TOMB))
		return 1;
	s->st.endpoints += !old;
	return 0;
}

static void delta_endpoint_gone(struct wm_snapshot *s, long long id)
{
	const struct wm_endpoint *old = htab_del(&s->ep_id, hash_id(id), eq_ep_id, &id, NULL);
	if (old) {
		endpoint_unindex(s, old);
		s->st.endpoints--;
	}
}

/* The bindings of one key (rows[0..n), newest first): a new group replaces the old. */
static int delta_bindings(struct wm_snapshot *s, int kind, struct binding_b *rows, size_t n,
			  const struct wm_ip *ip, const uint8_t mac[6])
{
	struct htab *t = kind == K_B_PORT ? &s->g_mac_port : kind == K_B_IP ? &s->g_ip_mac
		       : &s->g_mac_bssid;
	uint64_t h = kind == K_B_IP ? hash_bytes(ip, sizeof *ip) : hash_mac(mac);
	eq_fn eq = kind == K_B_IP ? eq_group_ip : eq_group_mac;
	const void *key = kind == K_B_IP ? (const void *)ip : mac;
	size_t *count = kind == K_B_PORT ? &s->st.bind_mac_port : kind == K_B_IP
		      ? &s->st.bind_ip_mac : &s->st.bind_mac_bssid;
	const struct bgroup *old;
	if (n == 0) {
		old = htab_del(t, h, eq, key, NULL);
		*count -= old ? old->n : 0;
		return 0;
	}
	if (kind == K_B_PORT)
		resolve_ports(s, rows, n, &s->sw_id);
	struct bgroup *g = binding_group(s, kind, rows, n);
	if (!g)
		return -1;
	old = htab_set(t, h, g, eq, key);
	if (old == TOMB)
		return 1;
	*count += n - (old ? old->n : 0);
	return 0;
}

/* Apply one entity's changed keys; < 0 out of memory, 1 reload. */
static int apply_bindings(struct wm_delta *d, enum db_entity e, int kind)
{
	struct wm_snapshot *s = d->b.s;
	struct vec *v = &d->b.v[kind];
	struct binding_b *rows = v->v;
	bool by_ip = kind == K_B_IP;
	if (v->n > 1)
		qsort(rows, v->n, sizeof *rows, by_ip ? cmp_binding_ip : cmp_binding_mac);
	for (size_t i = 0; i < d->n_keys[e]; i++) {
		struct wm_ip ip;
		uint8_t mac[6];
		const char *t = d->keys[e][i].text;
		if (by_ip ? ip_parse(t, &ip, NULL) < 0 : ident_mac_parse(t ? t : "", mac) < 0)
			return 1; /* a key we cannot read: a load will tell */
		/* the rows of this key: a run of the sorted array */
		size_t lo = 0, hi = v->n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = by_ip ? memcmp(&rows[mid].ip, &ip, sizeof ip)
				      : memcmp(rows[mid].b.mac, mac, 6);
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t end = lo;
		while (end < v->n && (by_ip ? memcmp(&rows[end].ip, &ip, sizeof ip)
					    : memcmp(rows[end].b.mac, mac, 6)) == 0)
			end++;
		int rc = delta_bindings(s, kind, end > lo ? rows + lo : NULL, end - lo,
					by_ip ? &ip : NULL, mac);
		if (rc)
			return rc;
	}
	return 0;
}

static int cmp_decl_row(const void *a, const void *b)
{
	const struct wm_declared *x = *(struct wm_declared *const *)a;
	const struct wm_declared *y = *(struct wm_declared *const *)b;
	return strcmp(x->user, y->user);
}
static int cmp_vpn_row(const void *a, const void *b)
{
	return strcmp((*(struct wm_vpn *const *)a)->ip, (*(struct wm_vpn *const *)b)->ip);
}

/* A user's current declaration (x), or none now (x NULL). */
static int delta_declared(struct wm_snapshot *s, const char *user, struct wm_declared *x)
{
	uint64_t h = hash_str(user);
	if (!x) {
		s->st.declared -= htab_del(&s->decl_user, h, eq_decl_user, user, NULL) != NULL;
		return 0;
	}
	const void *old = htab_set(&s->decl_user, h, x, eq_decl_user, user);
	if (old == TOMB)
		return 1;
	s->st.declared += !old;
	return 0;
}

/* The VPN binding of an address (x), or none now (x NULL). */
static int delta_vpn(struct wm_snapshot *s, const char *ip, struct wm_vpn *x)
{
	uint64_t h = hash_str(ip);
	if (!x) {
		s->st.vpn -= htab_del(&s->vpn_ip, h, eq_vpn_ip, ip, NULL) != NULL;
		return 0;
	}
	x->cls = wm_lookup_class(s, x->class_key);
	const void *old = htab_set(&s->vpn_ip, h, x, eq_vpn_ip, ip);
	if (old == TOMB)
		return 1;
	s->st.vpn += !old;
	return 0;
}

static void *find_row(struct vec *v, const void *key, int (*cmp)(const void *, const void *))
{
	return v->n ? bsearch(key, v->v, v->n, v->elem, cmp) : NULL;
}

int wm_delta_apply(struct wm_delta *d, struct lis_error *err)
{
	struct wm_snapshot *s = d->b.s;
	struct vec *v = d->b.v;
	int rc = 0;

	/* Sort each kind's rows by key, then walk the changed keys: a key with a row is
	 * upserted, one without was deleted. Locations first: the rest refer to them. */
	static int (*const by_key[K_N])(const void *, const void *) = {
		[K_LOC] = cmp_loc_row, [K_EP] = cmp_ep_row, [K_SUBNET] = cmp_subnet_row,
		[K_PORT] = cmp_port_row, [K_BSSID] = cmp_bssid_row, [K_DECL] = cmp_decl_row,
		[K_VPN] = cmp_vpn_row,
	};
	for (int k = 0; k < K_N; k++)
		if (by_key[k] && v[k].n > 1)
			qsort(v[k].v, v[k].n, v[k].elem, by_key[k]);

	for (size_t i = 0; i < d->n_keys[DB_LOCATIONS] && !rc; i++) {
		struct location_b key = {.l.id = d->keys[DB_LOCATIONS][i].id}, *kp = &key;
		struct location_b **x = find_row(&v[K_LOC], &kp, cmp_loc_row);
		if (x)
			rc = delta_location(s, *x);
		else
			delta_location_gone(s, key.l.id);
	}
	for (size_t i = 0; i < d->n_keys[DB_SUBNETS] && !rc; i++) {
		struct subnet_b key = {0};
		if (ip_parse(d->keys[DB_SUBNETS][i].text, &key.k, &key.len) < 0) {
			rc = 1;
			break;
		}
		mask_bits(key.k.a, key.len, 16);
		struct subnet_b *x = find_row(&v[K_SUBNET], &key, cmp_subnet_row);
		const struct wm_location *loc = !x ? NULL : x->remote ? &remote_pool
					       : by_id(&s->loc_id, x->location_id, eq_loc_id);
		rc = delta_subnet(s, &key.k, key.len, loc);
	}
	for (size_t i = 0; i < d->n_keys[DB_PORTS] && !rc; i++) {
		const struct dkey *k = &d->keys[DB_PORTS][i];
		struct port_b key = {.switch_id = k->id, .p.port_id = k->text ? k->text : ""};
		struct port_b *kp = &key, **x = find_row(&v[K_PORT], &kp, cmp_port_row);
		if (x)
			rc = delta_port(s, *x);
		else
			delta_port_gone(s, k->id, k->text);
	}
	for (size_t i = 0; i < d->n_keys[DB_BSSIDS] && !rc; i++) {
		const struct dkey *k = &d->keys[DB_BSSIDS][i];
		struct bssid_b key = {.b.prefix_len = (unsigned)k->id}, *kp = &key;
		if (k->id < 1 || k->id > 48 || ident_mac_parse(k->text ? k->text : "",
							       key.b.bssid) < 0) {
			rc = 1;
			break;
		}
		mask_bits(key.b.bssid, key.b.prefix_len, 6);
		struct bssid_b **x = find_row(&v[K_BSSID], &kp, cmp_bssid_row);
		if (x)
			rc = delta_bssid(s, *x);
		else
			delta_bssid_gone(s, key.b.prefix_len, key.b.bssid);
	}
	for (size_t i = 0; i < d->n_keys[DB_ENDPOINTS] && !rc; i++) {
		struct endpoint_b key = {.e.id = d->keys[DB_ENDPOINTS][i].id}, *kp = &key;
		struct endpoint_b **x = find_row(&v[K_EP], &kp, cmp_ep_row);
		if (x)
			rc = delta_endpoint(s, *x);
		else
			delta_endpoint_gone(s, key.e.id);
	}
	if (!rc)
		rc = apply_bindings(d, DB_MAC_PORTS, K_B_PORT);
	if (!rc)
		rc = apply_bindings(d, DB_IP_MACS, K_B_IP);
	if (!rc)
		rc = apply_bindings(d, DB_MAC_BSSIDS, K_B_BSSID);
	for (size_t i = 0; i < d->n_keys[DB_FEED_DECLARED] && !rc; i++) {
		const char *user = d->keys[DB_FEED_DECLARED][i].text;
		if (!user) {
			rc = 1;
			break;
		}
		struct wm_declared key = {.user = user}, *kp = &key;
		struct wm_declared **x = find_row(&v[K_DECL], &kp, cmp_decl_row);
		rc = delta_declared(s, user, x ? *x : NULL);
	}
	for (size_t i = 0; i < d->n_keys[DB_FEED_VPN] && !rc; i++) {
		struct wm_ip k;
		char ip[INET6_ADDRSTRLEN];
		if (ip_parse(d->keys[DB_FEED_VPN][i].text, &k, NULL) < 0) {
			rc = 1; /* a key we cannot read: a load will tell */
			break;
		}
		ip_format(&k, ip, sizeof ip);
		struct wm_vpn key = {.ip = ip}, *kp = &key;
		struct wm_vpn **x = find_row(&v[K_VPN], &kp, cmp_vpn_row);
		rc = delta_vpn(s, ip, x ? *x : NULL);
	}

	s->st.deltas++;
	s->st.delta_bytes += s->arena.used - d->arena_before;
	d->arena_before = s->arena.used;
	if (rc < 0)
		return oom(err);
	return rc;
}
