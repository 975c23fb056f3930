/* chd_stats: see chd_stats.h. */
#include "chd_stats.h"

#include "cmn_log.h"

#include <errno.h>
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

chd_stats_t *chd_stats_open(int fd)
{
    if (fd >= 0) {
        chd_stats_t *page = cmn_statspage_attach(fd);
        if (page)
            return page;
        cmn_warning("the controller's counter page is unusable (%s): counting privately; "
                    "status and /metrics will not show this child's numbers",
                    strerror(errno));
    }
    /* The factory probe, or a page of another layout: the numbers are kept
     * but nobody reads them. Lives as long as the process. */
    return calloc(1, sizeof(chd_stats_t));
}

int chd_stats_method_class(unsigned http_method, bool unknown)
{
    if (unknown)
        return CMN_METHOD_OTHER;
    switch (http_method) {
    case HTTP_GET: return CMN_METHOD_GET;
    case HTTP_HEAD: return CMN_METHOD_HEAD;
    case HTTP_POST: return CMN_METHOD_POST;
    case HTTP_PUT: return CMN_METHOD_PUT;
    case HTTP_DELETE: return CMN_METHOD_DELETE;
    default: return CMN_METHOD_OTHER;
    }
}
