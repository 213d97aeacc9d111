/* The wiremap's eleven kinds of rows (lis-wiremap(5)), described once: for each entity its
 * names, its file's columns (what each holds, whether it is required or part of the row's
 * identity, where it lives in the entity's row struct of db.h) and how it maps onto its
 * table. lisctl's loader and checks, lisctl export, db_import_ex, db_wiremap_read and the
 * summary report walk this table, so that a new column is one db_column entry here (and a
 * field of the row struct), and a new entity one db_entity_desc entry. The snapshot loader
 * (db_snapshot.c) takes the entities and their order from here but reads lisd's own view
 * of each (ids, not keys, and only what an answer needs): a column lisd must answer with
 * is an entry there too.
 *
 * The fields marked "db/ only" name the entity's table and columns in PostgreSQL; only db/
 * reads them (it is the only code that speaks SQL). */
#ifndef DB_ENTITY_H
#define DB_ENTITY_H

#include <stdbool.h>
#include <stddef.h>

/* In the order the import writes them: each refers only to those before it (a site's
 * default location excepted: DB_COL_LATER). */
enum db_entity {
	DB_SITES, DB_LOCATIONS, DB_SUBNETS, DB_SWITCHES, DB_PORTS, DB_BSSIDS, DB_CLASSES,
	DB_ENDPOINTS, DB_MAC_PORTS, DB_IP_MACS, DB_MAC_BSSIDS, DB_ENTITY_N
};

/* What a column holds: how lisctl checks a file's text and stores it in the row, how it
 * is written back to a file, and how it travels to and from PostgreSQL. Unless said
 * otherwise the field is a `const char *`, NULL when the cell is empty. */
enum db_kind {
	/* text kinds, DB_K_TEXT..DB_K_TEL_URI: the field is a `const char *` */
	DB_K_TEXT,        /* any text */
	DB_K_KEY,         /* the row's own key: no white space (keys appear in logs as key=value) */
	DB_K_REF,         /* the key of a row of db_column.ref */
	DB_K_WORD,        /* one word, no white space (a binding's source) */
	DB_K_ENUM,        /* one of db_column.values */
	DB_K_PROFILE,     /* a [snmp.NAME] profile of wiremapd.conf: letters, digits, _ . - */
	DB_K_LANG,        /* a language tag (RFC 5646) */
	DB_K_COUNTRY,     /* two upper-case letters (RFC 5139 §3.3: ISO 3166 alpha-2) */
	DB_K_MAC,         /* a MAC address, canonical (ident_mac_format) */
	DB_K_CHASSIS,     /* an LLDP chassis ID: canonical when it is a MAC, else verbatim */
	DB_K_IP,          /* one host's address, as inet_ntop writes it */
	DB_K_CIDR,        /* a prefix without host bits, canonical */
	DB_K_BSSID,       /* "MAC" or "MAC/len": the MAC (canonical, bits past len zero) in the
			   * field, the length (unsigned, 48 for one BSSID) at aux */
	DB_K_SIP_URI,     /* a sip: or sips: URI, normalized (ident_uri_normalize) */
	DB_K_TEL_URI,     /* a tel: URI, normalized */
	/* the others: the field's type is said */
	DB_K_BOOL,        /* bool: true/false (yes/no, 1/0 read too) */
	DB_K_UINT,        /* unsigned in lo..hi; 0 when absent */
	DB_K_REAL,        /* double in lo..hi; present when the bool at aux is (without aux:
			   * when not 0) */
	DB_K_LAST_SEEN,   /* time_t: a binding's last observation (ISO 8601 in files) */
	DB_K_FIRST_SEEN,  /* time_t, present when the bool at aux is: its first observation; an
			   * absent one keeps what is stored (or starts at last_seen) */
};

enum {
	DB_COL_REQUIRED = 1u << 0, /* the file must have the column, and every row a value */
	DB_COL_ID = 1u << 1,       /* part of the row's identity, in column order */
	DB_COL_UNIQUE = 1u << 2,   /* no two rows may share a value (chassis_id, identities) */
	DB_COL_LATER = 1u << 3,    /* written once every entity is (a site's default location,
				    * which refers to a location of the site) */
	DB_COL_BYKEY = 1u << 4,    /* DB_K_REF stored as the referenced row's key, not its id
				    * (an endpoint's class) */
	DB_COL_KEEP = 1u << 5,     /* an empty cell (or no such column) keeps what is stored;
				    * a new row gets db_default (an endpoint's active: an
				    * import never reactivates what lisctl deactivated) */
};

struct db_column {
	const char *name;          /* the CSV column and JSON key */
	enum db_kind kind;
	unsigned flags;            /* DB_COL_* */
	size_t at;                 /* offsetof the value in the row struct */
	size_t aux;                /* offsetof DB_K_BSSID's length or the bool saying that a
				    * REAL or FIRST_SEEN is present; 0: none (no row struct
				    * starts with one) */
	size_t col_at;             /* offsetof the unsigned that records the column the value
				    * came from, for messages; 0: none */
	enum db_entity ref;        /* DB_K_REF: whose key */
	const char *label;         /* messages: how they name the value (UINT, BOOL, PROFILE,
				    * WORD: "poll_interval (seconds)"; NULL: the value alone) or
				    * what it should be (REAL, ENUM: "a latitude (...)") */
	double lo, hi;             /* UINT, REAL: the range, both ends included */
	const char *dflt;          /* what an empty cell stands for (poll_enabled: "true") */
	const char *const *values; /* ENUM: the values, NULL-terminated */
	/* db/ only */
	const char *db;            /* the table's column (DB_K_REF: the id column, or with
				    * DB_COL_BYKEY the key column) */
	const char *db_aux;        /* DB_K_BSSID: the column of the length */
	const char *cast;          /* the parameter's type; NULL: text */
	const char *db_default;    /* the value stored when the parameter is NULL */
	const char *select;        /* its value in db_entity_desc.from, as the file writes it */
	const char *select_aux;    /* DB_K_BSSID: the length's */
};

struct db_entity_desc {
	const char *name;          /* lisctl import --NAME FILE, --replace NAME: "mac-ports" */
	const char *file;          /* export's file name, without .csv or .json: "mac_ports" */
	const char *noun;          /* counts: "imported 3 MAC-port bindings" */
	const char *one;           /* one row's key in messages: "unknown switch", "switch key" */
	const char *dup;           /* duplicates: "duplicate switch and port \"sw1 Gi1/0/1\"" */
	bool binding;              /* an observation (exported with --bindings only) */
	bool whole_only;           /* --replace removes its rows for the whole wiremap only,
				    * never for one site (sites; rows that belong to none) */
	bool summary;              /* lisctl report summary counts its rows per site */
	size_t row_size;           /* its row struct (db.h) */
	size_t file_at, line_at;   /* offsetof the row's file and line (messages) */
	const struct db_column *cols;
	size_t n_cols;
	/* db/ only */
	const char *table;         /* its table */
	const char *from;          /* the table and what its selects join, for reading rows */
	const char *site;          /* in from: a row's site key; NULL: no site */
	const char *order;         /* in from: key order */
	const char *remove;        /* DELETE the rows whose identity is not in the arrays $1..,
				    * of the site $N+1 (NULL: every site), RETURNING their keys
				    * as the import writes them */
	const char *in_use;        /* of the rows remove would delete ($1: the keys, $2: the
				    * site), one still used by a row that stays: (key, what) */
};

/* Indexed by enum db_entity. */
extern const struct db_entity_desc db_entities[DB_ENTITY_N];

/* The entity whose db_entity_desc.name is name, or -1. */
int db_entity_by_name(const char *name);
/* The index of entity e's column named name, or -1. */
int db_column_index(enum db_entity e, const char *name);

/* Column c of row r as a wiremap file writes it (lisctl export), which is also how the
 * import hands it to PostgreSQL: NULL when absent; numbers and times go in buf (32 bytes
 * or more). A BSSID is "MAC", or "MAC/len" for a range. */
const char *db_column_text(const struct db_column *c, const void *r, char *buf, size_t size);

/* Values in a row: the field of column c in row r, by its kind's type. */
#define DB_FIELD(type, row, off) (*(type *)(void *)((char *)(row) + (off)))
#define DB_CFIELD(type, row, off) (*(type const *)(const void *)((const char *)(row) + (off)))

#endif
