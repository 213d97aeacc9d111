/* The migrations compiled into this build (generated from db/migrations/). */
#ifndef DB_MIGRATIONS_H
#define DB_MIGRATIONS_H

struct db_migration {
	int version;        /* NNNN of NNNN_name.sql; strictly increasing */
	const char *name;   /* the file name */
	const char *sql;
};
extern const struct db_migration db_migrations[];
extern const unsigned db_n_migrations;

#endif
