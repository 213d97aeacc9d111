/* stub: to be written */
typedef int stub_lis_config_t;
