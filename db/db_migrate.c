/* stub: to be written */
typedef int stub_db_migrate_t;
