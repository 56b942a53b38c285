/*
 * cmd_keygen.c - reckon keygen --out PREFIX [--name NAME]
 *
 * Generate an Ed25519 key pair and write PREFIX.key (secret, mode 0600) and
 * PREFIX.pub (minisign public key file carrying the key name); neither is
 * ever overwritten.  Prints the file names and the key ids.  The key name
 * (default "reckon") names the key in signed-note signature lines; a
 * schema-less URL such as "example.com/ledger" avoids collisions.
 *
 * Exit codes: 0 written, 2 usage error, a file exists, or I/O error.
 */
#include <stdio.h>
#include <string.h>

#include "note.h"
#include "reckon.h"

static int usage(void)
{
    fprintf(stderr, "usage: reckon keygen --out PREFIX [--name NAME]\n");
    return RK_EXIT_USAGE;
}

int cmd_keygen(int argc, char **argv)
{
    const char *cmd = "keygen", *prefix = NULL, *name = "reckon";
    char err[RK_ERROR_SIZE] = "";
    char idhex[17];
    rk_signer *s = NULL;
    rk_verifier *v = NULL;
    rk_buf vkey = RK_BUF_INIT;
    int i, r, code = RK_EXIT_USAGE;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        r = rk_opt_value(cmd, argc, argv, &i, "--out", &prefix);
        if (r < 0)
            return RK_EXIT_USAGE;
        if (r > 0)
            continue;
        r = rk_opt_value(cmd, argc, argv, &i, "--name", &name);
        if (r < 0)
            return RK_EXIT_USAGE;
        if (r > 0)
            continue;
        rk_tool_error(cmd, "unknown argument '%s'", argv[i]);
        return usage();
    }
    if (prefix == NULL || prefix[0] == '\0')
        return usage();
    if (!rk_key_name_valid(name)) {
        rk_tool_error(cmd, "invalid key name '%s': need 1 to %d bytes without "
                      "spaces, '+' or control characters", name,
                      RK_KEY_NAME_MAX);
        return RK_EXIT_USAGE;
    }
    rc = rk_signer_generate(name, &s, err);
    if (rc != RK_OK)
        return rk_tool_fail(cmd, rc, err);
    rc = rk_signer_write(s, prefix, err);
    if (rc != RK_OK) {
        code = rk_tool_fail(cmd, rc, err);
        goto out;
    }
    v = rk_signer_verifier(s);
    if (v == NULL || rk_verifier_note_key(v, &vkey) != RK_OK) {
        code = rk_tool_fail(cmd, RK_ERR_NOMEM, NULL);
        goto out;
    }
    rk_minisign_keyid_hex(idhex, rk_verifier_minisign_keyid(v));
    printf("public key: %s.pub\n", prefix);
    printf("secret key: %s.key\n", prefix);
    printf("key name: %s\n", rk_verifier_name(v));
    printf("minisign key id: %s\n", idhex);
    printf("note key id: %08x\n", (unsigned)rk_verifier_note_id(v));
    printf("note verifier key: %s\n", (const char *)vkey.data);
    code = RK_EXIT_OK;
out:
    rk_buf_free(&vkey);
    rk_verifier_free(v);
    rk_signer_free(s);
    return code;
}
