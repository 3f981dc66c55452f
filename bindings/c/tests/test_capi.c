/* Tests of the C ABI against the committed header: the golden vectors of
 * tests/vectors/ (compiled in by `cargo xtask test-c` as vectors.h), every error path,
 * ownership (every returned string is freed; valgrind checks that nothing leaks), and
 * provisioning against the emulator binary that `cargo xtask test-c` starts and
 * describes in PAOIDC_TEST_* variables (see provisioning_env below).
 * Prints `N passed, N failed` and exits non-zero on any failure. */

#include "pulumi_azure_oidc.h"
#include "vectors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0;
static int failed = 0;

#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        if (cond) {                                                                 \
            passed++;                                                               \
        } else {                                                                    \
            failed++;                                                               \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                    \
            fprintf(stderr, __VA_ARGS__);                                           \
            fprintf(stderr, " (last error %d: %s)\n", (int)paoidc_last_error_code(), \
                    paoidc_last_error_message());                                   \
        }                                                                           \
    } while (0)

static void test_subject_vectors(void) {
    for (size_t i = 0; i < sizeof subject_cases / sizeof subject_cases[0]; i++) {
        const struct subject_case *c = &subject_cases[i];
        char *out = NULL;
        int32_t status = paoidc_credentials(c->spec, &out);
        CHECK(status == PAOIDC_STATUS_OK, "%s: status %d", c->name, (int)status);
        CHECK(out != NULL && strstr(out, c->expected) != NULL, "%s: credentials differ: %s", c->name,
              out ? out : "(null)");
        paoidc_string_free(out);
    }
}

static void test_error_vectors(void) {
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const struct error_case *c = &error_cases[i];
        char *out = (char *)"sentinel";
        int32_t status = paoidc_credentials(c->spec, &out);
        CHECK(status == c->code, "%s: status %d, expected %d", c->name, (int)status, c->code);
        CHECK(out == NULL, "%s: output must be NULL after a failure", c->name);
        CHECK(paoidc_last_error_code() == c->code, "%s: last error code", c->name);
        CHECK(strstr(paoidc_last_error_message(), c->contains) != NULL, "%s: message lacks `%s`", c->name,
              c->contains);
    }
}

static void test_token_vectors(void) {
    for (size_t i = 0; i < sizeof token_cases / sizeof token_cases[0]; i++) {
        const struct token_case *c = &token_cases[i];
        char *out = NULL;
        int32_t status = paoidc_diagnose_token(c->token, c->credentials, c->now, &out);
        CHECK(status == PAOIDC_STATUS_OK, "%s: status %d", c->name, (int)status);
        CHECK(out != NULL && strstr(out, c->accepted) != NULL, "%s: expected %s in %s", c->name, c->accepted,
              out ? out : "(null)");
        CHECK(out != NULL && strstr(out, c->aadsts) != NULL, "%s: expected %s", c->name, c->aadsts);
        CHECK(out != NULL && strstr(out, c->token) == NULL, "%s: the token leaked into the result", c->name);
        paoidc_string_free(out);
    }
}

static void test_error_text_vectors(void) {
    for (size_t i = 0; i < sizeof aadsts_cases / sizeof aadsts_cases[0]; i++) {
        const struct aadsts_case *c = &aadsts_cases[i];
        char *out = NULL;
        int32_t status = paoidc_diagnose_error(c->text, &out);
        if (c->code == NULL) {
            /* A known gap: not explained yet, but answered cleanly. */
            CHECK(status == PAOIDC_STATUS_OK || status == PAOIDC_STATUS_UNRECOGNISED_ERROR, "%s: status %d",
                  c->name, (int)status);
            paoidc_string_free(out);
            continue;
        }
        CHECK(status == PAOIDC_STATUS_OK, "%s: status %d", c->name, (int)status);
        CHECK(out != NULL && strstr(out, c->code) != NULL, "%s: expected %s", c->name, c->code);
        paoidc_string_free(out);
    }
}

static void test_plan_and_render(void) {
    static const char config[] = "org: contoso\n"
                                 "deployments:\n"
                                 "  - project: core\n"
                                 "    stacks: [a, b, c, d, e, f]\n";
    char *out = NULL;
    CHECK(paoidc_plan(config, &out) == PAOIDC_STATUS_OK, "plan");
    CHECK(out && strstr(out, "\"unique_name\":\"pulumi-oidc-contoso-") != NULL, "plan has apps");
    CHECK(out && strstr(out, "-2\",") != NULL, "a second app for the sixth stack");
    paoidc_string_free(out);

    static const char *formats[] = {"az", "esc", "pulumi-python", "pulumi-typescript", "json"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        out = NULL;
        CHECK(paoidc_render(config, formats[i], NULL, &out) == PAOIDC_STATUS_OK, "render %s", formats[i]);
        CHECK(out != NULL && strlen(out) > 0, "render %s output", formats[i]);
        paoidc_string_free(out);
    }
    out = NULL;
    CHECK(paoidc_render("org: contoso\nesc:\n  - project: azure\n    env: prod\n", "esc",
                        "{\"clientId\":\"11111111-1111-1111-1111-111111111111\"}", &out) == PAOIDC_STATUS_OK,
          "render esc with options");
    CHECK(out && strstr(out, "clientId: 11111111-1111-1111-1111-111111111111") != NULL, "client id in YAML");
    paoidc_string_free(out);

    out = NULL;
    CHECK(paoidc_render(config, "terraform", NULL, &out) == PAOIDC_STATUS_INVALID_CONFIG, "unknown render");
    CHECK(strstr(paoidc_last_error_message(), "terraform") != NULL, "unknown render named");
    CHECK(paoidc_render(config, "az", "{\"clientId\":", &out) == PAOIDC_STATUS_INVALID_CONFIG, "bad options");
    CHECK(paoidc_plan("org: contoso\nstak: x\n", &out) == PAOIDC_STATUS_INVALID_CONFIG, "unknown key");
    CHECK(strstr(paoidc_last_error_message(), "stak") != NULL, "unknown key named");
    CHECK(paoidc_plan("org: contoso\ndeployments:\n  - project: core\n    stacks: ['bad stack']\n", &out) ==
              PAOIDC_STATUS_INVALID_STACK,
          "bad value keeps its code");
    CHECK(out == NULL, "no output after failure");
}

static void test_permissions(void) {
    static const char config[] =
        "org: contoso\n"
        "holder: { managedIdentity: { subscription: 0b1f6471-1bf0-4dda-aec3-cb9272f09590, resourceGroup: rg-oidc, "
        "location: westeurope } }\n"
        "deployments:\n"
        "  - project: core\n"
        "    stack: dev\n"
        "    roles: [{ role: Reader, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590 }]\n";
    char *out = NULL;
    CHECK(paoidc_permissions(config, NULL, &out) == PAOIDC_STATUS_OK, "permissions");
    CHECK(out && strstr(out, "\"graph\":[]") != NULL, "identities need no Graph permission");
    CHECK(out && strstr(out, "Managed Identity Contributor") != NULL, "identity contributor on the group");
    CHECK(out && strstr(out, "GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}") != NULL, "condition names the role");
    CHECK(out && strstr(out, "\"az\"") == NULL, "no script without an operator");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_permissions(config, "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", &out) == PAOIDC_STATUS_OK,
          "permissions with an operator");
    CHECK(out && strstr(out, "az role assignment create") != NULL, "the script grants the roles");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_permissions(config, "not-a-guid", &out) == PAOIDC_STATUS_INVALID_GUID, "a bad operator");
    CHECK(strstr(paoidc_last_error_message(), "not-a-guid") != NULL, "the bad operator is named");
    CHECK(out == NULL, "no output after failure");
}

static void test_boundary_errors(void) {
    char *out = NULL;
    CHECK(paoidc_credentials(NULL, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL spec");
    CHECK(strstr(paoidc_last_error_message(), "spec_json") != NULL, "NULL named");
    CHECK(paoidc_credentials("{\"kind\":\"deployment\",\"org\":\"contoso\",\"project\":\"core\",\"stack\":\"dev\"}",
                             NULL) == PAOIDC_STATUS_NULL_ARGUMENT,
          "NULL out");
    CHECK(paoidc_plan(NULL, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL config");
    CHECK(paoidc_render(NULL, "az", NULL, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL render config");
    CHECK(paoidc_render("org: contoso", NULL, NULL, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL format");
    CHECK(paoidc_diagnose_token(NULL, NULL, 0, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL token");
    CHECK(paoidc_diagnose_error(NULL, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL error text");

    static const char bad_utf8[] = {'{', '"', (char)0xff, (char)0xfe, '"', '}', 0};
    CHECK(paoidc_credentials(bad_utf8, &out) == PAOIDC_STATUS_INVALID_UTF8, "invalid UTF-8");
    CHECK(paoidc_credentials("not json", &out) == PAOIDC_STATUS_INVALID_CONFIG, "malformed JSON");
    CHECK(paoidc_diagnose_token("abc", NULL, 0, &out) == PAOIDC_STATUS_MALFORMED_TOKEN, "malformed token");
    CHECK(strstr(paoidc_last_error_message(), "abc") == NULL, "token text not echoed");
    CHECK(paoidc_diagnose_error("nothing here", &out) == PAOIDC_STATUS_UNRECOGNISED_ERROR, "no AADSTS code");
    CHECK(out == NULL, "no output after failures");

    /* A success clears the last error. */
    CHECK(paoidc_diagnose_error("AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.",
                                &out) == PAOIDC_STATUS_OK,
          "success");
    CHECK(paoidc_last_error_code() == 0 && strcmp(paoidc_last_error_message(), "") == 0, "last error cleared");
    paoidc_string_free(out);
    paoidc_string_free(NULL);
}

/* Hostile input: text that is not UTF-8 at every string entry point (a clean status
 * naming the argument and the byte, never a crash), and oversized input (refused by
 * its size, without echoing it). */
static void expect_invalid_utf8(const char *what, int32_t status, char *out, const char *arg) {
    CHECK(status == PAOIDC_STATUS_INVALID_UTF8, "%s: status %d", what, (int)status);
    CHECK(out == NULL, "%s: no output", what);
    CHECK(paoidc_last_error_code() == PAOIDC_STATUS_INVALID_UTF8, "%s: last error code", what);
    const char *message = paoidc_last_error_message();
    CHECK(strstr(message, arg) != NULL && strstr(message, "not UTF-8") != NULL, "%s: message `%s`", what,
          message);
    CHECK(strcmp(paoidc_status_str(PAOIDC_STATUS_INVALID_UTF8), "invalid_utf8") == 0, "%s: status name", what);
}

static void test_hostile_input(void) {
    /* A lone continuation byte, an overlong encoding, a UTF-16 surrogate (ED A0 80),
     * a truncated sequence at the end. */
    static const char cont[] = {'o', 'r', 'g', ':', ' ', (char)0x80, 0};
    static const char overlong[] = {'{', (char)0xc0, (char)0xaf, '}', 0};
    static const char surrogate[] = {'a', 'z', (char)0xed, (char)0xa0, (char)0x80, 0};
    static const char truncated[] = {'e', 'y', 'J', (char)0xe2, (char)0x82, 0};
    /* The call first, then the checks: C leaves the order of arguments unspecified. */
    char *out;
    int32_t status;
    out = (char *)"sentinel";
    status = paoidc_credentials(overlong, &out);
    expect_invalid_utf8("credentials", status, out, "spec_json");
    out = (char *)"sentinel";
    status = paoidc_plan(cont, &out);
    expect_invalid_utf8("plan", status, out, "config");
    out = (char *)"sentinel";
    status = paoidc_render(cont, "az", NULL, &out);
    expect_invalid_utf8("render config", status, out, "config");
    out = (char *)"sentinel";
    status = paoidc_render("org: contoso", surrogate, NULL, &out);
    expect_invalid_utf8("render format", status, out, "format");
    out = (char *)"sentinel";
    status = paoidc_render("org: contoso", "az", overlong, &out);
    expect_invalid_utf8("render options", status, out, "options_json");
    out = (char *)"sentinel";
    status = paoidc_diagnose_token(truncated, NULL, 0, &out);
    expect_invalid_utf8("diagnose token", status, out, "token");
    out = (char *)"sentinel";
    status = paoidc_diagnose_token("a.b.c", surrogate, 0, &out);
    expect_invalid_utf8("diagnose token list", status, out, "credentials_json");
    out = (char *)"sentinel";
    status = paoidc_diagnose_error(cont, &out);
    expect_invalid_utf8("diagnose error", status, out, "text");

    /* A 10 MB token: refused by size, its text never echoed. */
    size_t len = 10u * 1024 * 1024;
    char *token = malloc(len + 1);
    CHECK(token != NULL, "allocate 10 MB");
    if (token != NULL) {
        memset(token, 'A', len);
        memcpy(token, "eyJzZWNyZXQi", 12);
        token[len] = 0;
        out = (char *)"sentinel";
        status = paoidc_diagnose_token(token, NULL, 0, &out);
        CHECK(status == PAOIDC_STATUS_INPUT_TOO_LARGE, "10 MB token: status %d", (int)status);
        CHECK(out == NULL, "10 MB token: no output");
        const char *message = paoidc_last_error_message();
        CHECK(strstr(message, "the token") != NULL && strstr(message, "65536") != NULL,
              "10 MB token: message `%s`", message);
        CHECK(strstr(message, "eyJzZWNyZXQi") == NULL && strlen(message) < 200, "10 MB token: echoed");
        free(token);
    }

    /* Deep nesting and an alias bomb in a config: refused by the rule, quickly. */
    size_t depth = 100000;
    char *nested = malloc(depth + 6);
    CHECK(nested != NULL, "allocate nesting");
    if (nested != NULL) {
        memcpy(nested, "org: ", 5);
        memset(nested + 5, '[', depth);
        nested[depth + 5] = 0;
        out = (char *)"sentinel";
        status = paoidc_plan(nested, &out);
        CHECK(status == PAOIDC_STATUS_INVALID_CONFIG, "deep nesting: status %d", (int)status);
        CHECK(strstr(paoidc_last_error_message(), "nest") != NULL, "deep nesting: message `%s`",
              paoidc_last_error_message());
        free(nested);
    }
    const char *laughs = "org: contoso\n"
                         "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                         "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    out = (char *)"sentinel";
    status = paoidc_plan(laughs, &out);
    CHECK(status == PAOIDC_STATUS_INVALID_CONFIG, "alias bomb: status %d", (int)status);
    CHECK(strstr(paoidc_last_error_message(), "alias") != NULL, "alias bomb: message `%s`",
          paoidc_last_error_message());
    CHECK(out == NULL, "no output after hostile input");
}

static void test_static_strings(void) {
    CHECK(strcmp(paoidc_status_str(PAOIDC_STATUS_OK), "ok") == 0, "ok name");
    CHECK(strcmp(paoidc_status_str(PAOIDC_STATUS_INVALID_STACK), "invalid_stack") == 0, "stack name");
    CHECK(strcmp(paoidc_status_str(PAOIDC_STATUS_NULL_ARGUMENT), "null_argument") == 0, "null name");
    CHECK(strcmp(paoidc_status_str(-7), "unknown_status") == 0, "unknown status");
    CHECK(strlen(paoidc_version()) > 0, "version");
}

/* Provisioning against the emulator. `cargo xtask test-c` starts the emulator binary,
 * mints the tokens over its admin endpoint and sets:
 *   PAOIDC_TEST_OPTIONS      run options JSON: endpoint, CA file, operator credentials
 *                            (the marker secrets below, which the emulator accepts)
 *   PAOIDC_TEST_BASE_OPTIONS the same without azure_client_secret and pulumi_access_token
 *   PAOIDC_TEST_TENANT       the emulated tenant id
 *   PAOIDC_TEST_TOKEN        a Pulumi OIDC token for contoso/core/dev (update)
 *   PAOIDC_TEST_BAD_TOKEN    the same with the ESC audience `azure:contoso` (refused)
 * Without them the provisioning tests fail, unless PAOIDC_TEST_SKIP_PROVISIONING=1. */
/* Marker values for every secret (as in crates/cli/tests/provision.rs): the emulator's
 * operator secret and Pulumi token (set by `cargo xtask test-c`, which also fails if
 * any marker reaches this program's stdout or stderr), wrong ones, and token parts. */
#define MARKER_CLIENT_SECRET "MARKER-client-secret-9d2e"
#define MARKER_PULUMI_TOKEN "MARKER-pulumi-token-4a7c"
#define MARKER_WRONG_SECRET "MARKER-wrong-secret-1f60"
#define MARKER_WRONG_PULUMI_TOKEN "MARKER-wrong-pulumi-token-b3d8"
#define MARKER_SIGNATURE "MARKER-signature-7e15"
#define MARKER_MALFORMED "MARKER-malformed-token-c5a9"

struct provisioning_env {
    const char *options;
    const char *base_options;
    const char *tenant;
    const char *token;
    const char *bad_token;
};

static int provisioning_env(struct provisioning_env *env) {
    env->options = getenv("PAOIDC_TEST_OPTIONS");
    env->base_options = getenv("PAOIDC_TEST_BASE_OPTIONS");
    env->tenant = getenv("PAOIDC_TEST_TENANT");
    env->token = getenv("PAOIDC_TEST_TOKEN");
    env->bad_token = getenv("PAOIDC_TEST_BAD_TOKEN");
    return env->options && env->base_options && env->tenant && env->token && env->bad_token;
}

/* `base` (a JSON object) with `extra` (members, no braces) added; freed by the caller. */
static char *with_members(const char *base, const char *extra) {
    size_t n = strlen(base);
    char *out = malloc(n + strlen(extra) + 3);
    if (out == NULL) {
        return NULL;
    }
    const char *end = strrchr(base, '}');
    size_t keep = end ? (size_t)(end - base) : n;
    memcpy(out, base, keep);
    sprintf(out + keep, ",%s}", extra);
    return out;
}

static void test_provisioning(void) {
    struct provisioning_env env;
    if (!provisioning_env(&env)) {
        const char *skip = getenv("PAOIDC_TEST_SKIP_PROVISIONING");
        CHECK(skip != NULL && strcmp(skip, "1") == 0,
              "PAOIDC_TEST_* not set: run through `cargo xtask test-c`, or set PAOIDC_TEST_SKIP_PROVISIONING=1");
        return;
    }
    char config[256];
    snprintf(config, sizeof config,
             "org: contoso\n"
             "azure:\n"
             "  tenant: %s\n"
             "deployments:\n"
             "  - project: core\n"
             "    stacks: [dev]\n",
             env.tenant);

    /* A dry run writes nothing; the apply creates the app and its four credentials. */
    char *dry_options = with_members(env.options, "\"dry_run\":true");
    char *out = NULL;
    CHECK(paoidc_apply(config, dry_options, &out) == PAOIDC_STATUS_OK, "apply dry run");
    CHECK(out && strstr(out, "\"dry_run\":true") != NULL, "dry run report: %s", out ? out : "(null)");
    paoidc_string_free(out);
    free(dry_options);

    out = NULL;
    CHECK(paoidc_apply(config, env.options, &out) == PAOIDC_STATUS_OK, "apply");
    CHECK(out && strstr(out, "\"dry_run\":false") != NULL, "apply report: %s", out ? out : "(null)");
    CHECK(out && strstr(out, "\"client_id\":\"") != NULL, "the app's client id is reported");
    CHECK(out && strstr(out, MARKER_CLIENT_SECRET) == NULL, "no secret in the report");
    paoidc_string_free(out);

    out = NULL;
    CHECK(paoidc_status_report(config, env.options, &out) == PAOIDC_STATUS_OK, "status");
    CHECK(out && strstr(out, "\"converged\":true") != NULL, "converged after apply: %s", out ? out : "(null)");
    paoidc_string_free(out);

    /* The minted token is exchanged for real at the emulator's Entra token endpoint. */
    char extra[4096];
    snprintf(extra, sizeof extra, "\"token\":\"%s\",\"wait_secs\":30", env.token);
    char *verify_options = with_members(env.options, extra);
    out = NULL;
    CHECK(paoidc_verify(config, verify_options, &out) == PAOIDC_STATUS_OK, "verify");
    CHECK(out && strncmp(out, "{\"ok\":true", 10) == 0, "token accepted: %s", out ? out : "(null)");
    CHECK(out && strstr(out, env.token) == NULL, "the token is not in the report");
    paoidc_string_free(out);
    free(verify_options);

    /* A refused token is a result (status OK, "ok":false) with the AADSTS code. */
    snprintf(extra, sizeof extra, "\"token\":\"%s\",\"wait_secs\":0", env.bad_token);
    verify_options = with_members(env.options, extra);
    out = NULL;
    CHECK(paoidc_verify(config, verify_options, &out) == PAOIDC_STATUS_OK, "verify, wrong audience");
    CHECK(out && strncmp(out, "{\"ok\":false", 11) == 0, "wrong audience refused: %s", out ? out : "(null)");
    CHECK(out && strstr(out, "\"aadsts\":700212") != NULL, "AADSTS700212 named");
    paoidc_string_free(out);
    free(verify_options);

    /* doctor: what apply made is healthy, by config and by the stack's name alone. */
    out = NULL;
    CHECK(paoidc_doctor(config, NULL, NULL, env.options, &out) == PAOIDC_STATUS_OK, "doctor");
    CHECK(out && strstr(out, "{\"healthy\":true,\"checked\":true,") == out, "healthy after apply: %s",
          out ? out : "(null)");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_doctor(NULL, "contoso/core/dev", NULL, env.options, &out) == PAOIDC_STATUS_OK, "doctor --stack");
    CHECK(out && strstr(out, "\"healthy\":true") != NULL, "the stack alone: %s", out ? out : "(null)");
    paoidc_string_free(out);
    out = (char *)"sentinel";
    CHECK(paoidc_doctor(NULL, "contoso/core", NULL, env.options, &out) == PAOIDC_STATUS_INVALID_CONFIG,
          "a stack that is not ORG/PROJECT/STACK");
    CHECK(out == NULL && strstr(paoidc_last_error_message(), "ORG/PROJECT/NAME") != NULL, "the rule named");
    CHECK(paoidc_doctor(config, "contoso/core/dev", NULL, env.options, &out) == PAOIDC_STATUS_INVALID_CONFIG,
          "a config and a stack at once");

    /* A "*" entry is filled from Pulumi Cloud's list of the org's stacks. */
    out = NULL;
    CHECK(paoidc_status_report("org: contoso\ndeployments:\n  - project: core\n    stacks: \"*\"\n", env.options,
                               &out) == PAOIDC_STATUS_OK,
          "status of a discovered config");
    CHECK(out && strstr(out, "\"target\":\"stack contoso/core/dev\"") != NULL, "the stack found: %s",
          out ? out : "(null)");
    paoidc_string_free(out);

    /* adopt describes the org as it is: a config pinned to the app apply made. */
    out = NULL;
    CHECK(paoidc_adopt("contoso", env.options, &out) == PAOIDC_STATUS_OK, "adopt");
    CHECK(out && strstr(out, "\"stack contoso/core/dev\"") != NULL, "the stack adopted: %s", out ? out : "(null)");
    CHECK(out && strstr(out, "holder: { clientId: ") != NULL, "pinned to its app");
    paoidc_string_free(out);
    out = (char *)"sentinel";
    CHECK(paoidc_adopt("x", env.options, &out) == PAOIDC_STATUS_INVALID_ORG && out == NULL, "an org name that is not one");

    /* Destroy removes what apply made; the next status sees nothing to keep. */
    out = NULL;
    CHECK(paoidc_destroy(config, env.options, &out) == PAOIDC_STATUS_OK, "destroy");
    CHECK(out && strstr(out, "\"removed\":[\"") != NULL, "destroy removed objects: %s", out ? out : "(null)");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_status_report(config, env.options, &out) == PAOIDC_STATUS_OK, "status after destroy");
    CHECK(out && strstr(out, "\"converged\":false") != NULL, "not converged after destroy");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_doctor(NULL, "contoso/core/dev", NULL, env.options, &out) == PAOIDC_STATUS_OK, "doctor after destroy");
    CHECK(out && strstr(out, "\"healthy\":false") != NULL && strstr(out, "\"oidc_not_enabled\"") != NULL,
          "OIDC off after destroy: %s", out ? out : "(null)");
    paoidc_string_free(out);

    /* Error paths: each is a status and a message, with nothing to free. */
    out = (char *)"sentinel";
    CHECK(paoidc_apply(config, "{\"endpoint\":", &out) == PAOIDC_STATUS_INVALID_CONFIG, "malformed options");
    CHECK(out == NULL, "no output after a failure");
    CHECK(paoidc_apply(config, "{\"dry_runn\":true}", &out) == PAOIDC_STATUS_INVALID_CONFIG, "unknown option");
    CHECK(strstr(paoidc_last_error_message(), "dry_runn") != NULL, "unknown option named");
    CHECK(paoidc_status_report(config, "[]", &out) == PAOIDC_STATUS_INVALID_CONFIG, "options not an object");
    CHECK(paoidc_apply(NULL, env.options, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL config");
    CHECK(strstr(paoidc_last_error_message(), "config") != NULL, "NULL config named");
    CHECK(paoidc_status_report(NULL, env.options, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL status config");
    CHECK(paoidc_destroy(NULL, env.options, &out) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL destroy config");
    CHECK(paoidc_apply(config, env.options, NULL) == PAOIDC_STATUS_NULL_ARGUMENT, "NULL out");
    CHECK(paoidc_apply("org: contoso\nstak: x\n", env.options, &out) == PAOIDC_STATUS_INVALID_CONFIG,
          "bad config");
    static const char bad_utf8[] = {'{', '"', (char)0xff, '"', '}', 0};
    CHECK(paoidc_apply(config, bad_utf8, &out) == PAOIDC_STATUS_INVALID_UTF8, "options not UTF-8");

    /* Client-secret authentication without AZURE_* (cargo xtask test-c removes them). */
    char missing[1024];
    const char *endpoint = strstr(env.options, "\"endpoint\":");
    const char *endpoint_end = endpoint ? strchr(endpoint + 12, '"') : NULL;
    if (endpoint && endpoint_end) {
        snprintf(missing, sizeof missing,
                 "{%.*s,\"auth\":\"client-secret\",\"pulumi_access_token\":\"" MARKER_PULUMI_TOKEN "\"}",
                 (int)(endpoint_end + 1 - endpoint), endpoint);
        CHECK(paoidc_apply(config, missing, &out) == PAOIDC_STATUS_MISSING_CREDENTIALS, "no Azure credentials");
        CHECK(strstr(paoidc_last_error_message(), "AZURE_CLIENT_SECRET") != NULL, "the variable is named");
    } else {
        CHECK(0, "PAOIDC_TEST_OPTIONS has no endpoint: %s", env.options);
    }
    /* verify with neither a token nor PULUMI_OIDC_TOKEN. */
    CHECK(paoidc_verify(NULL, "{\"client_id\":\"11111111-1111-1111-1111-111111111111\"}", &out) ==
              PAOIDC_STATUS_MISSING_CREDENTIALS,
          "no token");
    CHECK(strstr(paoidc_last_error_message(), "PULUMI_OIDC_TOKEN") != NULL, "the token variable is named");
    CHECK(out == NULL, "no output after failures");
}

/* A formatted string on the heap; freed by the caller. */
static char *format(const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (n < 0) {
        return NULL;
    }
    char *out = malloc((size_t)n + 1);
    if (out == NULL) {
        return NULL;
    }
    va_start(args, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, args);
    va_end(args);
    return out;
}

/* Which secret `text` holds, or NULL: a marker, an Azure access token the emulator
 * issued (`emu.<uuid>.<uuid>`), or one of `extra` (NULL-terminated; may be NULL). */
static const char *secret_in(const char *text, const char *const *extra) {
    static const char *const markers[] = {
        MARKER_CLIENT_SECRET, MARKER_PULUMI_TOKEN, MARKER_WRONG_SECRET, MARKER_WRONG_PULUMI_TOKEN,
        MARKER_SIGNATURE,     MARKER_MALFORMED,    "MARKER-",           "emu.",
    };
    if (text == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        if (strstr(text, markers[i]) != NULL) {
            return markers[i];
        }
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        if (extra[i][0] != '\0' && strstr(text, extra[i]) != NULL) {
            return extra[i];
        }
    }
    return NULL;
}

/* A call's status is `expected`, and neither its result nor the last error message
 * holds a secret. Frees `out`. */
static void expect_redacted(const char *what, int32_t status, int32_t expected, char *out,
                            const char *const *extra) {
    CHECK(status == expected, "%s: status %d (%s), expected %d", what, (int)status, paoidc_status_str(status),
          (int)expected);
    CHECK(expected == PAOIDC_STATUS_OK || strlen(paoidc_last_error_message()) > 0, "%s: a message", what);
    CHECK(secret_in(paoidc_last_error_message(), extra) == NULL, "%s: a secret in the error message", what);
    CHECK(secret_in(out, extra) == NULL, "%s: a secret in the result: %s", what, out);
    CHECK(expected == PAOIDC_STATUS_OK || out == NULL, "%s: no result after a failure", what);
    paoidc_string_free(out);
}

/* A Deployments token for contoso/core/dev (update), unsigned; the signature is added. */
#define UNSIGNED_HEADER_PAYLOAD                                                                                    \
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."                                                                         \
    "eyJpc3MiOiJodHRwczovL2FwaS5wdWx1bWkuY29tL29pZGMiLCJzdWIiOiJwdWx1bWk6ZGVwbG95Om9yZzpjb250b3NvOnByb2plY3Q6Y29yZT" \
    "pzdGFjazpkZXY6b3BlcmF0aW9uOnVwZGF0ZTpzY29wZTp3cml0ZSIsImF1ZCI6ImNvbnRvc28iLCJleHAiOjE3NjcyMjkyMDAsImlhdCI6MTc2" \
    "NzIyNTYwMH0"

/* Diagnosis shows a token by its claims only: never its signature or its text. */
/* A stack held by a user-assigned managed identity: the emulator meters identity
   credential writes at Azure's rates (scaled, as the options say), and the run keeps
   under them; destroy deletes the identity. */
static void test_identity_provisioning(void) {
    struct provisioning_env env;
    if (!provisioning_env(&env)) {
        return;
    }
    char config[512];
    snprintf(config, sizeof config,
             "org: contoso\n"
             "azure:\n"
             "  tenant: %s\n"
             "  subscription: 00000000-0000-4000-8000-000000000001\n"
             "deployments:\n"
             "  - project: platform\n"
             "    stacks: [prod]\n"
             "    holder: { managedIdentity: { resourceGroup: pulumi-oidc, location: westeurope } }\n",
             env.tenant);
    char *out = NULL;
    CHECK(paoidc_apply(config, env.options, &out) == PAOIDC_STATUS_OK, "apply an identity: %s",
          paoidc_last_error_message());
    CHECK(out && strstr(out, "+ managed identity pulumi-oidc-contoso-") != NULL, "the identity is created: %s",
          out ? out : "(null)");
    CHECK(out && strstr(out, "\"client_id\":\"") != NULL, "its client id is reported");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_status_report(config, env.options, &out) == PAOIDC_STATUS_OK, "status of the identity");
    CHECK(out && strstr(out, "\"converged\":true") != NULL, "converged: %s", out ? out : "(null)");
    paoidc_string_free(out);
    out = NULL;
    CHECK(paoidc_destroy(config, env.options, &out) == PAOIDC_STATUS_OK, "destroy the identity");
    CHECK(out && strstr(out, "- managed identity pulumi-oidc-contoso-") != NULL, "the identity is deleted: %s",
          out ? out : "(null)");
    paoidc_string_free(out);
}

static void test_diagnose_redaction(void) {
    static const char forged[] = UNSIGNED_HEADER_PAYLOAD "." MARKER_SIGNATURE;
    static const char bearer[] = "Bearer " UNSIGNED_HEADER_PAYLOAD "." MARKER_SIGNATURE;
    const char *const extra[] = {UNSIGNED_HEADER_PAYLOAD, NULL};
    static const char credentials[] =
        "[{\"name\":\"deploy-core-dev-update\",\"issuer\":\"https://api.pulumi.com/oidc\","
        "\"subject\":\"pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write\","
        "\"audiences\":[\"contoso\"]}]";
    char *out = NULL;
    int32_t status = paoidc_diagnose_token(forged, NULL, 1767225700, &out);
    CHECK(out && strstr(out, "operation:update:scope:write") != NULL, "the claims are shown: %s", out ? out : "");
    expect_redacted("diagnose a forged token", status, PAOIDC_STATUS_OK, out, extra);
    out = NULL;
    status = paoidc_diagnose_token(forged, credentials, 1767225700, &out);
    CHECK(out && strstr(out, "\"accepted\":true") != NULL, "accepted by its claims: %s", out ? out : "");
    expect_redacted("diagnose a forged token with credentials", status, PAOIDC_STATUS_OK, out, extra);
    out = NULL;
    status = paoidc_diagnose_token(bearer, credentials, 1767225700, &out);
    expect_redacted("diagnose a Bearer token", status, PAOIDC_STATUS_OK, out, extra);

    static const char *const malformed[] = {
        MARKER_MALFORMED,
        MARKER_MALFORMED "." MARKER_MALFORMED,
        MARKER_MALFORMED "." MARKER_MALFORMED "." MARKER_SIGNATURE,
        "eyJhbGciOiJSUzI1NiJ9." MARKER_MALFORMED "." MARKER_SIGNATURE,
        MARKER_MALFORMED "." MARKER_MALFORMED "." MARKER_MALFORMED "." MARKER_MALFORMED "." MARKER_SIGNATURE,
        "Bearer " MARKER_MALFORMED,
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        out = (char *)"sentinel";
        status = paoidc_diagnose_token(malformed[i], NULL, 0, &out);
        expect_redacted("diagnose a malformed token", status, PAOIDC_STATUS_MALFORMED_TOKEN, out, extra);
    }
    /* The marker in the credential list's place: a malformed list, not echoed either. */
    out = (char *)"sentinel";
    status = paoidc_diagnose_token(forged, "[\"" MARKER_MALFORMED "\"]", 0, &out);
    expect_redacted("diagnose with a malformed credential list", status, PAOIDC_STATUS_MALFORMED_CREDENTIAL_LIST,
                    out, extra);
}

/* Provisioning with marker secrets, right and WRONG, and marker tokens: no secret in
 * any result or error message. */
static void test_provisioning_redaction(void) {
    struct provisioning_env env;
    if (!provisioning_env(&env)) {
        return; /* test_provisioning says why */
    }
    CHECK(strstr(env.options, MARKER_CLIENT_SECRET) && strstr(env.options, MARKER_PULUMI_TOKEN),
          "cargo xtask test-c starts the emulator with this file's marker secrets");
    char config[256];
    snprintf(config, sizeof config,
             "org: contoso\nazure:\n  tenant: %s\ndeployments:\n  - project: core\n    stacks: [dev]\n", env.tenant);
    const char *signature = strrchr(env.token, '.');
    size_t signed_part = signature ? (size_t)(signature - env.token) : strlen(env.token);
    char *forged = format("%.*s.%s", (int)signed_part, env.token, MARKER_SIGNATURE);
    char *header_payload = format("%.*s", (int)signed_part, env.token);
    const char *const extra[] = {env.token, env.bad_token, signature ? signature + 1 : "", header_payload, NULL};
    char *wrong_secret = with_members(env.base_options, "\"azure_client_secret\":\"" MARKER_WRONG_SECRET
                                                        "\",\"pulumi_access_token\":\"" MARKER_PULUMI_TOKEN "\"");
    char *wrong_pulumi = with_members(env.base_options, "\"azure_client_secret\":\"" MARKER_CLIENT_SECRET
                                                        "\",\"pulumi_access_token\":\"" MARKER_WRONG_PULUMI_TOKEN "\"");
    char *wrong_secret_dry = with_members(wrong_secret, "\"dry_run\":true");
    char *verify_wrong_secret = format("%.*s,\"token\":\"%s\",\"wait_secs\":0}",
                                       (int)(strrchr(wrong_secret, '}') - wrong_secret), wrong_secret, env.token);
    char *verify_forged = format("%.*s,\"token\":\"%s\",\"wait_secs\":0}",
                                 (int)(strrchr(env.options, '}') - env.options), env.options, forged);
    char *verify_wrong = format("%.*s,\"token\":\"%s\",\"wait_secs\":0}",
                                (int)(strrchr(env.options, '}') - env.options), env.options, env.bad_token);
    char *verify_malformed = with_members(env.options, "\"token\":\"" MARKER_MALFORMED "\",\"wait_secs\":0");
    char *verify_malformed3 = with_members(env.options, "\"token\":\"" MARKER_MALFORMED "." MARKER_MALFORMED
                                                        "." MARKER_SIGNATURE "\",\"wait_secs\":0");
    char *verify_by_id = format("%.*s,\"client_id\":\"5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b\",\"tenant_id\":\"%s\","
                                "\"token\":\"%s\",\"wait_secs\":0}",
                                (int)(strrchr(env.options, '}') - env.options), env.options, env.tenant, forged);
    if (!forged || !header_payload || !wrong_secret || !wrong_pulumi || !wrong_secret_dry || !verify_wrong_secret ||
        !verify_forged || !verify_wrong || !verify_malformed || !verify_malformed3 || !verify_by_id) {
        CHECK(0, "out of memory");
        return;
    }

    char *out = NULL;
    int32_t status = paoidc_apply(config, env.options, &out);
    expect_redacted("apply", status, PAOIDC_STATUS_OK, out, extra);

    /* Tokens: a forged signature and a wrong audience are refused results; a
     * malformed token is an error; none is echoed. */
    out = NULL;
    status = paoidc_verify(config, verify_forged, &out);
    CHECK(out && strncmp(out, "{\"ok\":false", 11) == 0, "a forged token is refused");
    CHECK(out && strstr(out, "operation:update:scope:write") != NULL, "shown by its claims");
    expect_redacted("verify a forged token", status, PAOIDC_STATUS_OK, out, extra);
    out = NULL;
    status = paoidc_verify(config, verify_wrong, &out);
    CHECK(out && strstr(out, "\"aadsts\":700212") != NULL, "the wrong audience is refused");
    expect_redacted("verify a wrong token", status, PAOIDC_STATUS_OK, out, extra);
    out = NULL;
    status = paoidc_verify(NULL, verify_by_id, &out);
    CHECK(out && strncmp(out, "{\"ok\":false", 11) == 0, "a forged token for an unknown app is refused");
    expect_redacted("verify a forged token by client id", status, PAOIDC_STATUS_OK, out, extra);
    out = (char *)"sentinel";
    status = paoidc_verify(config, verify_malformed, &out);
    expect_redacted("verify a malformed token", status, PAOIDC_STATUS_MALFORMED_TOKEN, out, extra);
    out = (char *)"sentinel";
    status = paoidc_verify(config, verify_malformed3, &out);
    expect_redacted("verify a malformed three-part token", status, PAOIDC_STATUS_MALFORMED_TOKEN, out, extra);

    /* A WRONG client secret: authentication fails, and the message does not quote it. */
    out = (char *)"sentinel";
    status = paoidc_apply(config, wrong_secret, &out);
    CHECK(strstr(paoidc_last_error_message(), "AADSTS7000215") != NULL, "the AADSTS code is named");
    expect_redacted("apply, wrong secret", status, PAOIDC_STATUS_AUTHENTICATION_FAILED, out, extra);
    out = (char *)"sentinel";
    status = paoidc_apply(config, wrong_secret_dry, &out);
    expect_redacted("apply dry run, wrong secret", status, PAOIDC_STATUS_AUTHENTICATION_FAILED, out, extra);
    out = (char *)"sentinel";
    status = paoidc_status_report(config, wrong_secret, &out);
    expect_redacted("status, wrong secret", status, PAOIDC_STATUS_AUTHENTICATION_FAILED, out, extra);
    out = (char *)"sentinel";
    status = paoidc_verify(config, verify_wrong_secret, &out);
    expect_redacted("verify, wrong secret", status, PAOIDC_STATUS_AUTHENTICATION_FAILED, out, extra);
    out = (char *)"sentinel";
    status = paoidc_destroy(config, wrong_secret, &out);
    expect_redacted("destroy, wrong secret", status, PAOIDC_STATUS_AUTHENTICATION_FAILED, out, extra);

    /* A WRONG Pulumi access token: Pulumi Cloud's 401, as a service error. */
    out = (char *)"sentinel";
    status = paoidc_apply(config, wrong_pulumi, &out);
    CHECK(strstr(paoidc_last_error_message(), "401") != NULL, "the HTTP status is named");
    expect_redacted("apply, wrong Pulumi token", status, PAOIDC_STATUS_SERVICE_ERROR, out, extra);
    out = (char *)"sentinel";
    status = paoidc_status_report(config, wrong_pulumi, &out);
    expect_redacted("status, wrong Pulumi token", status, PAOIDC_STATUS_SERVICE_ERROR, out, extra);
    out = (char *)"sentinel";
    status = paoidc_destroy(config, wrong_pulumi, &out);
    expect_redacted("destroy, wrong Pulumi token", status, PAOIDC_STATUS_SERVICE_ERROR, out, extra);

    out = NULL;
    status = paoidc_destroy(config, env.options, &out);
    expect_redacted("destroy", status, PAOIDC_STATUS_OK, out, extra);

    free(forged);
    free(header_payload);
    free(wrong_secret);
    free(wrong_pulumi);
    free(wrong_secret_dry);
    free(verify_wrong_secret);
    free(verify_forged);
    free(verify_wrong);
    free(verify_malformed);
    free(verify_malformed3);
    free(verify_by_id);
}

int main(void) {
    test_subject_vectors();
    test_error_vectors();
    test_token_vectors();
    test_error_text_vectors();
    test_plan_and_render();
    test_permissions();
    test_boundary_errors();
    test_hostile_input();
    test_static_strings();
    test_provisioning();
    test_identity_provisioning();
    test_diagnose_redaction();
    test_provisioning_redaction();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
