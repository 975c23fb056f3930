/* ctl_configfile: see ctl_configfile.h. */
#include "ctl_configfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static int read_whole_file(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "--config: cannot read '%s': %s", path, strerror(errno));
        return -EINVAL;
    }
    char *text = malloc(CTL_CONFIGFILE_MAX + 1);
    size_t n = text ? fread(text, 1, CTL_CONFIGFILE_MAX + 1, f) : 0;
    bool failed = !text || ferror(f) || n > CTL_CONFIGFILE_MAX;
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "--config: cannot read '%s': %s", path,
                 text ? "larger than 1 MiB, or a read error" : "out of memory");
        free(text);
        return -EINVAL;
    }
    text[n] = '\0';
    *out = text;
    return 0;
}

/* One line that is neither blank nor a comment. */
static int parse_line(char *line, ctl_configfile_setting_fn setting, void *ctx, char *err,
                      size_t errlen)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        snprintf(err, errlen, "expected 'name = value'");
        return -EINVAL;
    }
    *eq = '\0';
    char *name = trim(line), *value = trim(eq + 1);
    size_t vlen = strlen(value);
    if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
        value[vlen - 1] = '\0';
        value++;
    }
    return setting(ctx, name, value, err, errlen);
}

int ctl_configfile_read(const char *path, char **text, ctl_configfile_setting_fn setting,
                        void *ctx, char *err, size_t errlen)
{
    *text = NULL;
    if (read_whole_file(path, text, err, errlen) < 0)
        return -EINVAL;
    int lineno = 0;
    char *rest = *text, *line;
    while ((line = strsep(&rest, "\n"))) {
        lineno++;
        line = trim(line);
        if (!*line || *line == '#')
            continue;
        char why[400];
        if (parse_line(line, setting, ctx, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            return -EINVAL;
        }
    }
    return 0;
}
