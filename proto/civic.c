/* stub: to be written */
typedef int stub_civic_t;
