/* cmn_iplist: a list of IP addresses, as given on the command line
 * ("127.0.0.1,::1", or "*" for any), and membership tests. Used for
 * --forwarded-allow-ips: the controller validates the option with it, the
 * child matches peers against it. Plain C, no allocation. */
#ifndef CMN_IPLIST_H
#define CMN_IPLIST_H

#include <stdbool.h>
#include <stddef.h>

#define CMN_IPLIST_MAX 32

typedef struct {
    bool any; /* "*" */
    int n;
    struct {
        int family;
        unsigned char addr[16];
    } entries[CMN_IPLIST_MAX];
} cmn_iplist_t;

/* Parses "127.0.0.1,::1" or "*" (spaces allowed). Returns 0, or -EINVAL
 * naming the bad entry in err. */
int cmn_iplist_parse(const char *text, cmn_iplist_t *list, char *err, size_t errlen);

/* True when addr (text, as inet_ntop writes it) is in the list. */
bool cmn_iplist_has(const cmn_iplist_t *list, const char *addr);

/* True when addr is an IPv4 or IPv6 address in text form. */
bool cmn_is_ip_address(const char *addr);

#endif
