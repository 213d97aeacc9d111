/* stub: to be written */
typedef int stub_lis_held_t;
