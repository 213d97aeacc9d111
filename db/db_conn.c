/* stub: to be written */
typedef int stub_db_conn_t;
