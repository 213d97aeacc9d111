/* stub: to be written */
typedef int stub_pidf_build_t;
