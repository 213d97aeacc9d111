/* Wiremap files as JSON (lis-wiremap(5)). Private to lisctl. */
#ifndef CTL_JSON_H
#define CTL_JSON_H

#include "ctl_rows.h"

/* A JSON wiremap file (an array of objects whose keys are the CSV columns) as the rows and
 * cells a CSV file gives: the header lists every key in order of first use; each cell
 * carries the line and column of its key (of its object when the key is absent). NULL
 * after adding to errs what is wrong. */
struct ctl_rows *ctl_json_read(const char *path, struct ctl_errors *errs);

#endif
