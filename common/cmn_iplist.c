/* cmn_iplist: see cmn_iplist.h. */
#include "cmn_iplist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int parse_address(const char *s, int *family, unsigned char *addr)
{
    if (inet_pton(AF_INET, s, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -EINVAL;
}

int cmn_iplist_parse(const char *text, cmn_iplist_t *list, char *err, size_t errlen)
{
    memset(list, 0, sizeof *list);
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == 0)
            break;
        char item[64];
        snprintf(item, sizeof item, "%.*s", (int)(len < 63 ? len : 63), p);
        p += len;
        if (strcmp(item, "*") == 0) {
            list->any = true;
            continue;
        }
        if (list->n == CMN_IPLIST_MAX ||
            parse_address(item, &list->entries[list->n].family, list->entries[list->n].addr) < 0) {
            snprintf(err, errlen, "'%s' is not an IP address (or too many entries)", item);
            return -EINVAL;
        }
        list->n++;
    }
    return 0;
}

bool cmn_iplist_has(const cmn_iplist_t *list, const char *addr)
{
    if (list->any)
        return true;
    int family;
    unsigned char bytes[16];
    if (parse_address(addr, &family, bytes) < 0)
        return false;
    size_t len = family == AF_INET ? 4 : 16;
    for (int i = 0; i < list->n; i++)
        if (list->entries[i].family == family && memcmp(list->entries[i].addr, bytes, len) == 0)
            return true;
    return false;
}

bool cmn_is_ip_address(const char *addr)
{
    int family;
    unsigned char bytes[16];
    return parse_address(addr, &family, bytes) == 0;
}
