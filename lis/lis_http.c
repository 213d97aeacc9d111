/* stub: to be written */
typedef int stub_lis_http_t;
