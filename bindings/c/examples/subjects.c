/* Print the subjects of a Pulumi Deployments stack, then diagnose an AADSTS error.
 *
 *   cargo build -p pulumi-azure-oidc-capi
 *   ln -sf libpulumi_azure_oidc.so target/debug/libpulumi_azure_oidc.so.0   # its soname
 *   cc -std=c11 -Ibindings/c/include bindings/c/examples/subjects.c \
 *      -Ltarget/debug -Wl,-rpath,$PWD/target/debug -lpulumi_azure_oidc -o subjects
 *   ./subjects contoso core dev
 */
#include "pulumi_azure_oidc.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *org = argc > 1 ? argv[1] : "contoso";
    const char *project = argc > 2 ? argv[2] : "core";
    const char *stack = argc > 3 ? argv[3] : "dev";

    /* The arguments go into JSON text: refuse anything that would need escaping
     * (valid names never do) rather than let it change the JSON. */
    for (int i = 1; i < argc && i < 4; i++) {
        if (strpbrk(argv[i], "\"\\") != NULL || strlen(argv[i]) > 100) {
            fprintf(stderr, "`%s` is not a valid name\n", argv[i]);
            return 2;
        }
    }
    char spec[512];
    snprintf(spec, sizeof spec, "{\"kind\":\"deployment\",\"org\":\"%s\",\"project\":\"%s\",\"stack\":\"%s\"}", org,
             project, stack);

    char *json = NULL;
    int32_t status = paoidc_credentials(spec, &json);
    if (status != PAOIDC_STATUS_OK) {
        fprintf(stderr, "error %d (%s): %s\n", (int)status, paoidc_status_str(status), paoidc_last_error_message());
        return 2;
    }
    /* Print each "subject":"…" value of the JSON result. */
    for (const char *p = json; (p = strstr(p, "\"subject\":\"")) != NULL;) {
        p += strlen("\"subject\":\"");
        const char *end = strchr(p, '"');
        if (end == NULL) break;
        printf("%.*s\n", (int)(end - p), p);
        p = end;
    }
    paoidc_string_free(json);

    char *diagnosis = NULL;
    status = paoidc_diagnose_error("AADSTS700213: No matching federated identity record found for presented assertion "
                                   "subject 'pulumi:environments:org:contoso:env:<yaml>'.",
                                   &diagnosis);
    if (status == PAOIDC_STATUS_OK) {
        const char *title = strstr(diagnosis, "\"title\":\"");
        const char *end = title ? strchr(title + strlen("\"title\":\""), '"') : NULL;
        if (end) {
            title += strlen("\"title\":\"");
            printf("AADSTS700213: %.*s\n", (int)(end - title), title);
        }
    }
    paoidc_string_free(diagnosis);
    return status == PAOIDC_STATUS_OK ? 0 : 1;
}
