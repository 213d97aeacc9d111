/* stub: to be written */
typedef int stub_lis_error_t;
