/* ctl_configfile: reading a --config file's "name = value" lines.
 *
 * Only the file's syntax lives here: lines, '#' comment lines, blank lines,
 * the '=', surrounding blanks, optional matching quotes around a value.
 * What a name means is the caller's business (ctl_options.c applies it as
 * the long option of that name), so this module knows no option. */
#ifndef CTL_CONFIGFILE_H
#define CTL_CONFIGFILE_H

#include <stddef.h>

#define CTL_CONFIGFILE_MAX (1 << 20) /* bytes: a config file is small */

/* Called for each setting, in file order. `value` points into the file's
 * text (it lives as long as *text) and may be changed in place. Returns 0,
 * or -EINVAL with one line in err (without file and line: the reader adds
 * them). */
typedef int (*ctl_configfile_setting_fn)(void *ctx, const char *name, char *value, char *err,
                                         size_t errlen);

/* Reads path and calls `setting` for each "name = value" line, stopping at
 * the first failure. *text receives the file's text, which the values
 * point into; the caller frees it (also on failure). Returns 0, or -EINVAL
 * with "PATH:LINE: why" (or why the file cannot be read) in err. */
int ctl_configfile_read(const char *path, char **text, ctl_configfile_setting_fn setting,
                        void *ctx, char *err, size_t errlen);

#endif
