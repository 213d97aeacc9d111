/* libFuzzer target: a JSON wiremap file as lisctl import reads and checks it (fuzz_import.h):
 * jansson's parse, then lisctl's mapping of objects and values to rows and cells. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(data, size, CTL_FORMAT_JSON);
	return 0;
}
