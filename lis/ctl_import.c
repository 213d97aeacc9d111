/* stub: to be written */
typedef int stub_ctl_import_t;
