#include "check.h"
int main(void) { return t_done(); }
