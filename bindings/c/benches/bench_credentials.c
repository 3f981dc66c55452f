/* Per-call cost of paoidc_credentials (parse the spec JSON, generate, serialise,
 * copy out, free), for `cargo xtask bench`. Prints one JSON line with the median and
 * the spread of per-call nanoseconds over batches. Not a test: nothing is asserted. */
#define _POSIX_C_SOURCE 199309L
#include "pulumi_azure_oidc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { BATCHES = 15, CALLS = 20000 };

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    static const char spec[] = "{\"kind\":\"deployment\",\"org\":\"contoso\",\"project\":\"core\",\"stack\":\"dev\"}";
    double per_call[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < CALLS; i++) {
            char *out = NULL;
            if (paoidc_credentials(spec, &out) != PAOIDC_STATUS_OK) return 1;
            paoidc_string_free(out);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        per_call[b] = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / CALLS;
    }
    qsort(per_call, BATCHES, sizeof per_call[0], compare);
    printf("{\"median_ns\":%.1f,\"min_ns\":%.1f,\"max_ns\":%.1f,\"batches\":%d,\"calls_per_batch\":%d}\n",
           per_call[BATCHES / 2], per_call[0], per_call[BATCHES - 1], BATCHES, CALLS);
    return 0;
}
