/* stub: to be written */
typedef int stub_held_parse_t;
