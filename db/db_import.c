/* stub: to be written */
typedef int stub_db_import_t;
