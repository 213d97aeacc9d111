/* libFuzzer target: a CSV wiremap file as lisctl import reads and checks it (fuzz_import.h);
 * RFC 4180 quoting, byte order marks, line ends and cell encodings included. */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(data, size, CTL_FORMAT_CSV);
	return 0;
}
