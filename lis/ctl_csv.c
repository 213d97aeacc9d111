/* stub: to be written */
typedef int stub_ctl_csv_t;
