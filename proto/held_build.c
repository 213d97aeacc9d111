/* stub: to be written */
typedef int stub_held_build_t;
