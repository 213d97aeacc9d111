/* The in-memory wiremap: built once from rows (wm_builder), then only read.
 *
 * Memory: every row and string lives in one arena of large blocks, freed in one go; the
 * lookup structures are open-addressing hash tables (linear probing, load <= 1/2, the full
 * 64-bit hash kept beside each pointer so that a probe rarely touches the row) and, for
 * subnets, one path-compressed binary trie per address family. Bindings of one key sit next
 * to each other in one array, most recent first, so a lookup returns a slice of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "held_write.h"
#include "wm_builder.h"
#include "ident.h"

/* ------------------------------------------------------------------ arena */

#define ARENA_BLOCK (1u << 20)

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	alignas(16) unsigned char data[];
};
struct arena {
	struct arena_block *head;
	size_t bytes;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < n) {
		/* A large request gets a block of its own; the current block stays in use. */
		size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		struct arena_block *nb = malloc(sizeof *nb + size);
		if (!nb)
			return NULL;
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
		free(b);
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

static uint64_t hash_mac(const uint8_t m[6])
{
	uint64_t x = 0;
	for (int i = 0; i < 6; i++)
		x = x << 8 | m[i];
	return mix64(x);
}

struct hslot {
	uint64_t h;
	const void *p;  /* NULL: empty */
};
struct htab {
	struct hslot *slot;
	size_t mask;
};
typedef bool (*eq_fn)(const void *item, const void *key);

static int htab_init(struct htab *t, size_t n, size_t *bytes)
{
	size_t cap = 8;
	while (cap < n * 2)
		cap <<= 1;
	t->slot = calloc(cap, sizeof *t->slot);
	if (!t->slot)
		return -1;
	t->mask = cap - 1;
	*bytes += cap * sizeof *t->slot;
	return 0;
}

static const void *htab_get(const struct htab *t, uint64_t h, eq_fn eq, const void *key)
{
	if (!t->slot)
		return NULL;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct hslot *s = &t->slot[i];
		if (!s->p)
			return NULL;
		if (s->h == h && eq(s->p, key))
			return s->p;
	}
}

/* Keeps the first of two equal keys (the database's UNIQUE constraints make that rare). */
static void htab_put(struct htab *t, uint64_t h, const void *p, eq_fn eq, const void *key)
{
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		struct hslot *s = &t->slot[i];
		if (!s->p) {
			s->h = h;
			s->p = p;
			return;
		}
		if (s->h == h && eq(s->p, key))
			return;
	}
}

static void htab_free(struct htab *t)
{
	free(t->slot);
	t->slot = NULL;
}

/* ------------------------------------------------------------------ addresses */

struct ipkey {
	uint8_t fam;    /* 4 or 6 */
	uint8_t a[16];
};

/* "10.1.2.3" or "2001:db8::1", with "/len" when want_len (absent: a host). */
static int ip_parse(const char *text, struct ipkey *k, unsigned *len)
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

static void ip_format(const struct ipkey *k, char *buf, size_t size)
{
	if (!inet_ntop(k->fam == 4 ? AF_INET : AF_INET6, k->a, buf, (socklen_t)size))
		buf[0] = '\0';
}

static int bit_at(const uint8_t *a, unsigned i)
{
	return a[i >> 3] >> (7 - (i & 7)) & 1;
}

/* True when the first len bits of a and b are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned whole = len / 8, rest = len % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & m) == 0;
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

/* A node of the path-compressed trie: its prefix (key/len), a location when a stored subnet
 * ends here, and children by the bit after the prefix. Inner nodes without a location exist
 * only where two prefixes part. */
struct tnode {
	struct tnode *child[2];
	const struct wm_location *loc;
	uint8_t key[16];
	uint8_t len;
	bool set;
};

/* The bindings of one key: a slice of the kind's array, most recent first. */
struct bgroup {
	const struct wm_binding *first;
	size_t n;
	struct ipkey ip;  /* IP_MAC only */
};

#define N_BSSID_LENS 49
struct wm_snapshot {
	struct arena arena;
	struct htab by_chassis, by_port, ep_mac, ep_uri, ep_tel;
	struct htab g_ip_mac, g_mac_port, g_mac_bssid;
	struct htab bssid[N_BSSID_LENS];
	uint8_t bssid_lens[N_BSSID_LENS]; /* prefix lengths in use, longest first */
	unsigned n_bssid_lens;
	/* IPv4: prefixes of /16 and longer hang under a direct table of their first 16 bits,
	 * which takes the ~16 densest levels out of every walk; shorter ones sit in root4 */
	struct tnode **v4_16;
	struct tnode *root4, *root6;
	size_t table_bytes;
	struct wm_snapshot_stats st;
	struct pidf_frag *_Atomic frags;  /* installed by wm_location_set_frag(), linked by next */
};

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
	struct ipkey k;
	unsigned len;
	long long location_id;
};
struct binding_b {
	struct wm_binding b;
	long long switch_id;
	struct ipkey ip;
	size_t arrival;        /* rows come in last_seen order: breaks ties within a second */
};

struct vec {
	void *v;
	size_t n, cap, elem;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *nv = realloc(v->v, cap * v->elem);
		if (!nv)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	void *p = (char *)v->v + v->n++ * v->elem;
	memset(p, 0, v->elem);
	return p;
}

enum { K_SITE, K_LOC, K_SW, K_PORT, K_BSSID, K_EP, K_SUBNET, K_B_PORT, K_B_IP, K_B_BSSID, K_N };

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
	void **slot = vec_push(&b->v[kind]);
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
	struct ipkey k;
	unsigned len;
	if (ip_parse(r->prefix, &k, &len) < 0)
		return lis_error_set(err, LIS_E_INPUT, "wiremap snapshot: subnet \"%s\" is not a prefix",
				     r->prefix ? r->prefix : "");
	struct subnet_b *x = vec_push(&b->v[K_SUBNET]);
	if (!x)
		return oom(err);
	mask_bits(k.a, len, 16);
	x->k = k;
	x->len = len;
	x->location_id = r->location_id;
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

static enum wm_endpoint_class endpoint_class(const char *c)
{
	if (!c)
		return WM_EP_OTHER;
	if (strcmp(c, "desk_phone") == 0)
		return WM_EP_DESK_PHONE;
	if (strcmp(c, "softphone") == 0)
		return WM_EP_SOFTPHONE;
	if (strcmp(c, "mobile") == 0)
		return WM_EP_MOBILE;
	return WM_EP_OTHER;
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
	x->e.cls = endpoint_class(r->class_);
	x->e.has_mac = r->has_mac;
	memcpy(x->e.mac, r->mac, 6);
	x->e.uri = dup_uri(&b->s->arena, r->uri, &o);
	x->e.tel = dup_uri(&b->s->arena, r->tel, &o);
	x->location_id = r->location_id;
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
	struct ipkey ip = {0};
	char ipbuf[INET6_ADDRSTRLEN];
	if (kind == K_B_IP) {
		if (ip_parse(r->ip, &ip, NULL) < 0)
			return lis_error_set(err, LIS_E_INPUT, "wiremap snapshot: binding ip \"%s\" is "
					     "not an address", r->ip ? r->ip : "");
		ip_format(&ip, ipbuf, sizeof ipbuf);
	}
	struct binding_b *x = vec_push(&b->v[kind]);
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
		.sw = add_switch, .port = add_port, .bssid = add_bssid, .endpoint = add_endpoint,
		.binding = add_binding,
	};
	clock_gettime(CLOCK_MONOTONIC, &b->started);
	return b;
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
		free(b->v[k].v);
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
	return memcmp(((const struct bgroup *)i)->first->mac, k, 6) == 0;
}
static bool eq_group_ip(const void *i, const void *k)
{
	return memcmp(&((const struct bgroup *)i)->ip, k, sizeof(struct ipkey)) == 0;
}

/* ------------------------------------------------------------------ finish */

static uint64_t hash_id(long long id)
{
	return mix64((uint64_t)id);
}

/* An id -> row table, only while finishing. */
static int id_table(struct htab *t, const struct vec *v, size_t id_off, eq_fn eq)
{
	size_t dummy = 0;
	if (htab_init(t, v->n, &dummy) < 0)
		return -1;
	void **p = v->v;
	for (size_t i = 0; i < v->n; i++) {
		const long long *id = (const long long *)((const char *)p[i] + id_off);
		htab_put(t, hash_id(*id), p[i], eq, id);
	}
	return 0;
}

static const void *by_id(const struct htab *t, long long id, eq_fn eq)
{
	return id ? htab_get(t, hash_id(id), eq, &id) : NULL;
}

static struct tnode *tnode_new(struct arena *a, const uint8_t *key, unsigned len)
{
	struct tnode *n = arena_alloc(a, sizeof *n);
	if (!n)
		return NULL;
	memcpy(n->key, key, 16);
	mask_bits(n->key, len, 16);
	n->len = (uint8_t)len;
	return n;
}

/* Patricia insertion: walk while the node's prefix covers the new one; where they part,
 * splice in a node for their common prefix. */
static int trie_insert(struct arena *a, struct tnode **root, const uint8_t *key, unsigned len,
		       const struct wm_location *loc)
{
	struct tnode **link = root, *n = *root;
	while (n && n->len <= len && bits_equal(n->key, key, n->len)) {
		if (n->len == len) {
			if (!n->set) {
				n->set = true;
				n->loc = loc;
			}
			return 0;
		}
		link = &n->child[bit_at(key, n->len)];
		n = *link;
	}
	struct tnode *leaf = tnode_new(a, key, len);
	if (!leaf)
		return -1;
	leaf->set = true;
	leaf->loc = loc;
	if (!n) {
		*link = leaf;
		return 0;
	}
	/* n is not covered by the new prefix along this path: find where they part */
	unsigned common = 0, limit = n->len < len ? n->len : len;
	while (common < limit && bit_at(n->key, common) == bit_at(key, common))
		common++;
	if (common == len) {
		/* the new prefix covers n: it goes above it */
		leaf->child[bit_at(n->key, len)] = n;
		*link = leaf;
		return 0;
	}
	struct tnode *fork = tnode_new(a, key, common);
	if (!fork)
		return -1;
	fork->child[bit_at(n->key, common)] = n;
	fork->child[bit_at(key, common)] = leaf;
	*link = fork;
	return 0;
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

/* Sort one kind's bindings, copy them into the arena in that order, and index the groups. */
static int finish_bindings(struct wm_builder *b, int kind, struct htab *groups,
			   const struct htab *sw_by_id)
{
	struct wm_snapshot *s = b->s;
	struct vec *v = &b->v[kind];
	struct binding_b *rows = v->v;
	bool by_ip = kind == K_B_IP;
	if (v->n)
		qsort(rows, v->n, sizeof *rows, by_ip ? cmp_binding_ip : cmp_binding_mac);
	struct wm_binding *arr = v->n ? arena_alloc(&s->arena, v->n * sizeof *arr) : NULL;
	size_t n_groups = 0;
	for (size_t i = 0; i < v->n; i++)
		n_groups += i == 0 || (by_ip ? memcmp(&rows[i - 1].ip, &rows[i].ip, sizeof rows[i].ip)
					     : memcmp(rows[i - 1].b.mac, rows[i].b.mac, 6)) != 0;
	if ((v->n && !arr) || htab_init(groups, n_groups, &s->table_bytes) < 0)
		return -1;
	struct bgroup *g = NULL;
	for (size_t i = 0; i < v->n; i++) {
		arr[i] = rows[i].b;
		if (kind == K_B_PORT) {
			arr[i].sw = by_id(sw_by_id, rows[i].switch_id, eq_sw_id);
			if (arr[i].sw) {
				struct portkey pk = {arr[i].sw, arr[i].port_id};
				arr[i].port = htab_get(&s->by_port, hash_port(pk.sw, pk.port_id),
						       eq_port, &pk);
			}
		}
		bool same = g && (by_ip ? memcmp(&g->ip, &rows[i].ip, sizeof g->ip) == 0
				       : memcmp(g->first->mac, arr[i].mac, 6) == 0);
		if (same) {
			g->n++;
			continue;
		}
		g = arena_alloc(&s->arena, sizeof *g);
		if (!g)
			return -1;
		g->first = &arr[i];
		g->n = 1;
		if (by_ip) {
			g->ip = rows[i].ip;
			htab_put(groups, hash_bytes(&g->ip, sizeof g->ip), g, eq_group_ip, &g->ip);
		} else {
			htab_put(groups, hash_mac(arr[i].mac), g, eq_group_mac, arr[i].mac);
		}
	}
	return 0;
}

static int finish(struct wm_builder *b)
{
	struct wm_snapshot *s = b->s;
	struct htab site_id = {0}, loc_id = {0}, sw_id = {0};
	int rc = -1;

	if (id_table(&site_id, &b->v[K_SITE], offsetof(struct wm_site, id), eq_site_id) < 0 ||
	    id_table(&loc_id, &b->v[K_LOC], offsetof(struct wm_location, id), eq_loc_id) < 0 ||
	    id_table(&sw_id, &b->v[K_SW], offsetof(struct wm_switch, id), eq_sw_id) < 0)
		goto out;

	void **p = b->v[K_SITE].v;
	for (size_t i = 0; i < b->v[K_SITE].n; i++) {
		struct site_b *x = p[i];
		x->s.default_location = by_id(&loc_id, x->default_location_id, eq_loc_id);
	}
	p = b->v[K_LOC].v;
	for (size_t i = 0; i < b->v[K_LOC].n; i++) {
		struct location_b *x = p[i];
		x->l.site = by_id(&site_id, x->site_id, eq_site_id);
	}

	p = b->v[K_SW].v;
	if (htab_init(&s->by_chassis, b->v[K_SW].n, &s->table_bytes) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_SW].n; i++) {
		struct switch_b *x = p[i];
		x->s.site = by_id(&site_id, x->site_id, eq_site_id);
		x->s.location = by_id(&loc_id, x->location_id, eq_loc_id);
		htab_put(&s->by_chassis, hash_str(x->s.chassis_id), &x->s, eq_chassis,
			 x->s.chassis_id);
	}

	p = b->v[K_PORT].v;
	if (htab_init(&s->by_port, b->v[K_PORT].n, &s->table_bytes) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_PORT].n; i++) {
		struct port_b *x = p[i];
		x->p.sw = by_id(&sw_id, x->switch_id, eq_sw_id);
		x->p.location = by_id(&loc_id, x->location_id, eq_loc_id);
		if (!x->p.sw)
			continue; /* unreachable: no lookup can name its switch */
		struct portkey pk = {x->p.sw, x->p.port_id};
		htab_put(&s->by_port, hash_port(pk.sw, pk.port_id), &x->p, eq_port, &pk);
	}

	/* BSSIDs: one table per prefix length in use, probed longest first */
	size_t per_len[N_BSSID_LENS] = {0};
	p = b->v[K_BSSID].v;
	for (size_t i = 0; i < b->v[K_BSSID].n; i++)
		per_len[((struct bssid_b *)p[i])->b.prefix_len]++;
	for (int len = 48; len >= 1; len--) {
		if (!per_len[len])
			continue;
		if (htab_init(&s->bssid[len], per_len[len], &s->table_bytes) < 0)
			goto out;
		s->bssid_lens[s->n_bssid_lens++] = (uint8_t)len;
	}
	for (size_t i = 0; i < b->v[K_BSSID].n; i++) {
		struct bssid_b *x = p[i];
		x->b.location = by_id(&loc_id, x->location_id, eq_loc_id);
		htab_put(&s->bssid[x->b.prefix_len], hash_mac(x->b.bssid), &x->b, eq_bssid,
			 x->b.bssid);
	}

	size_t n_mac = 0, n_uri = 0, n_tel = 0;
	p = b->v[K_EP].v;
	for (size_t i = 0; i < b->v[K_EP].n; i++) {
		struct endpoint_b *x = p[i];
		n_mac += x->e.has_mac;
		n_uri += x->e.uri != NULL;
		n_tel += x->e.tel != NULL;
	}
	if (htab_init(&s->ep_mac, n_mac, &s->table_bytes) < 0 ||
	    htab_init(&s->ep_uri, n_uri, &s->table_bytes) < 0 ||
	    htab_init(&s->ep_tel, n_tel, &s->table_bytes) < 0)
		goto out;
	for (size_t i = 0; i < b->v[K_EP].n; i++) {
		struct endpoint_b *x = p[i];
		x->e.location = by_id(&loc_id, x->location_id, eq_loc_id);
		if (x->e.has_mac)
			htab_put(&s->ep_mac, hash_mac(x->e.mac), &x->e, eq_ep_mac, x->e.mac);
		if (x->e.uri)
			htab_put(&s->ep_uri, hash_str(x->e.uri), &x->e, eq_ep_uri, x->e.uri);
		if (x->e.tel)
			htab_put(&s->ep_tel, hash_str(x->e.tel), &x->e, eq_ep_tel, x->e.tel);
	}

	struct subnet_b *sn = b->v[K_SUBNET].v;
	for (size_t i = 0; i < b->v[K_SUBNET].n; i++) {
		const struct wm_location *loc = by_id(&loc_id, sn[i].location_id, eq_loc_id);
		if (!loc)
			continue; /* a subnet that leads nowhere is no answer */
		struct tnode **root = sn[i].k.fam == 4 ? &s->root4 : &s->root6;
		if (sn[i].k.fam == 4 && sn[i].len >= 16) {
			if (!s->v4_16) {
				s->v4_16 = calloc(1u << 16, sizeof *s->v4_16);
				if (!s->v4_16)
					goto out;
				s->table_bytes += (1u << 16) * sizeof *s->v4_16;
			}
			root = &s->v4_16[sn[i].k.a[0] << 8 | sn[i].k.a[1]];
		}
		if (trie_insert(&s->arena, root, sn[i].k.a, sn[i].len, loc) < 0)
			goto out;
	}

	if (finish_bindings(b, K_B_PORT, &s->g_mac_port, &sw_id) < 0 ||
	    finish_bindings(b, K_B_IP, &s->g_ip_mac, &sw_id) < 0 ||
	    finish_bindings(b, K_B_BSSID, &s->g_mac_bssid, &sw_id) < 0)
		goto out;

	struct wm_snapshot_stats *st = &s->st;
	st->sites = b->v[K_SITE].n;
	st->locations = b->v[K_LOC].n;
	st->subnets = b->v[K_SUBNET].n;
	st->switches = b->v[K_SW].n;
	st->ports = b->v[K_PORT].n;
	st->bssids = b->v[K_BSSID].n;
	st->endpoints = b->v[K_EP].n;
	st->bind_mac_port = b->v[K_B_PORT].n;
	st->bind_ip_mac = b->v[K_B_IP].n;
	st->bind_mac_bssid = b->v[K_B_BSSID].n;
	rc = 0;
out:
	htab_free(&site_id);
	htab_free(&loc_id);
	htab_free(&sw_id);
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
		free(b->v[k].v);
		b->v[k] = (struct vec){.elem = b->v[k].elem};
	}
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
	htab_free(&s->by_chassis);
	htab_free(&s->by_port);
	htab_free(&s->ep_mac);
	htab_free(&s->ep_uri);
	htab_free(&s->ep_tel);
	htab_free(&s->g_ip_mac);
	htab_free(&s->g_mac_port);
	htab_free(&s->g_mac_bssid);
	for (int i = 0; i < N_BSSID_LENS; i++)
		htab_free(&s->bssid[i]);
	free(s->v4_16);
	for (struct pidf_frag *f = atomic_load(&s->frags), *next; f; f = next) {
		next = f->next;
		pidf_frag_free(f);
	}
	arena_free(&s->arena);
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
}

/* ------------------------------------------------------------------ lookups */

/* The deepest node on the path of addr whose prefix is a stored subnet. */
static const struct tnode *trie_match(const struct tnode *n, const uint8_t *addr, unsigned max)
{
	const struct tnode *best = NULL;
	while (n && n->len <= max && bits_equal(n->key, addr, n->len)) {
		if (n->set)
			best = n;
		if (n->len == max)
			break;
		n = n->child[bit_at(addr, n->len)];
	}
	return best;
}

const struct wm_location *wm_lookup_subnet(const struct wm_snapshot *s, const char *ip,
					   char *matched, size_t matched_size)
{
	struct ipkey k;
	if (matched && matched_size)
		matched[0] = '\0';
	if (ip_parse(ip, &k, NULL) < 0)
		return NULL;
	unsigned max = k.fam == 4 ? 32 : 128;
	const struct tnode *best = NULL;
	if (k.fam == 4 && s->v4_16)
		best = trie_match(s->v4_16[k.a[0] << 8 | k.a[1]], k.a, max);
	if (!best)
		best = trie_match(k.fam == 4 ? s->root4 : s->root6, k.a, max);
	if (!best)
		return NULL;
	if (matched && matched_size) {
		struct ipkey net = {.fam = k.fam};
		char buf[INET6_ADDRSTRLEN];
		memcpy(net.a, best->key, 16);
		ip_format(&net, buf, sizeof buf);
		snprintf(matched, matched_size, "%s/%u", buf, best->len);
	}
	return best->loc;
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
		const struct wm_bssid *b = htab_get(&s->bssid[len], hash_mac(k), eq_bssid, k);
		if (b)
			return b;
	}
	return NULL;
}

const struct wm_endpoint *wm_lookup_endpoint_mac(const struct wm_snapshot *s, const uint8_t mac[6])
{
	return htab_get(&s->ep_mac, hash_mac(mac), eq_ep_mac, mac);
}

const struct wm_endpoint *wm_lookup_endpoint_uri(const struct wm_snapshot *s, const char *uri)
{
	char buf[512];
	if (!uri)
		return NULL;
	if (ident_uri_normalize(uri, buf, sizeof buf) == 0)
		uri = buf;
	return htab_get(&s->ep_uri, hash_str(uri), eq_ep_uri, uri);
}

const struct wm_endpoint *wm_lookup_endpoint_tel(const struct wm_snapshot *s, const char *tel)
{
	char buf[512];
	if (!tel)
		return NULL;
	if (ident_uri_normalize(tel, buf, sizeof buf) == 0)
		tel = buf;
	return htab_get(&s->ep_tel, hash_str(tel), eq_ep_tel, tel);
}

static size_t slice(const struct bgroup *g, const struct wm_binding **out, size_t max)
{
	if (!g)
		return 0;
	size_t n = g->n < max ? g->n : max;
	for (size_t i = 0; i < n; i++)
		out[i] = &g->first[i];
	return n;
}

size_t wm_bindings_ip_mac(const struct wm_snapshot *s, const char *ip,
			  const struct wm_binding **out, size_t max)
{
	struct ipkey k;
	if (ip_parse(ip, &k, NULL) < 0)
		return 0;
	return slice(htab_get(&s->g_ip_mac, hash_bytes(&k, sizeof k), eq_group_ip, &k), out, max);
}

size_t wm_bindings_mac_port(const struct wm_snapshot *s, const uint8_t mac[6],
			    const struct wm_binding **out, size_t max)
{
	return slice(htab_get(&s->g_mac_port, hash_mac(mac), eq_group_mac, mac), out, max);
}

size_t wm_bindings_mac_bssid(const struct wm_snapshot *s, const uint8_t mac[6],
			     const struct wm_binding **out, size_t max)
{
	return slice(htab_get(&s->g_mac_bssid, hash_mac(mac), eq_group_mac, mac), out, max);
}
