/* stub: to be written */
typedef int stub_db_lookup_t;
