/* stub: to be written */
typedef int stub_lis_log_t;
