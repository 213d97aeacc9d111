/* stub: to be written */
typedef int stub_xml_safe_t;
