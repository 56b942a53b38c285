/*
 * cmd_sign_file.c - reckon sign-file --key PREFIX.key [--comment TEXT] FILE
 *
 * The low-level signing step of evidence packs: write FILE.minisig, a
 * minisign signature (prehashed "ED" variant) that stock
 * `minisign -Vm FILE -p PREFIX.pub` verifies.  An existing FILE.minisig is
 * replaced.  The trusted comment defaults to
 * "timestamp:<unix seconds>\tfile:<base name>\thashed", minisign's own
 * layout; --comment replaces it (no control characters other than tab, at
 * most 1024 bytes).  FILE is read whole, at most 1 GiB.
 *
 * Exit codes: 0 written, 2 usage error, unreadable or insecure key, or I/O
 * error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "note.h"
#include "reckon.h"

#define SIGN_FILE_MAX ((size_t)1 << 30)

static int usage(void)
{
    fprintf(stderr,
            "usage: reckon sign-file --key PREFIX.key [--comment TEXT] FILE\n");
    return RK_EXIT_USAGE;
}

static int write_sig(const char *cmd, const char *path, const rk_buf *sig)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        rk_tool_error(cmd, "cannot create '%s': %s", path, strerror(errno));
        return RK_EXIT_USAGE;
    }
    if (fwrite(sig->data, 1, sig->len, f) != sig->len || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        rk_tool_error(cmd, "cannot write '%s': %s", path, strerror(errno));
        fclose(f);
        return RK_EXIT_USAGE;
    }
    if (fclose(f) != 0) {
        rk_tool_error(cmd, "cannot write '%s': %s", path, strerror(errno));
        return RK_EXIT_USAGE;
    }
    return RK_EXIT_OK;
}

int cmd_sign_file(int argc, char **argv)
{
    const char *cmd = "sign-file", *keypath = NULL, *comment = NULL;
    const char *file = NULL, *base;
    char err[RK_ERROR_SIZE] = "";
    char defcomment[RK_MINISIGN_COMMENT_MAX + 1];
    char sigpath[4096];
    rk_signer *s = NULL;
    rk_buf data = RK_BUF_INIT, sig = RK_BUF_INIT;
    int i, r, code = RK_EXIT_USAGE;
    rk_err rc;

    for (i = 1; i < argc; i++) {
        r = rk_opt_value(cmd, argc, argv, &i, "--key", &keypath);
        if (r < 0)
            return RK_EXIT_USAGE;
        if (r > 0)
            continue;
        r = rk_opt_value(cmd, argc, argv, &i, "--comment", &comment);
        if (r < 0)
            return RK_EXIT_USAGE;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            rk_tool_error(cmd, "unknown option '%s'", argv[i]);
            return usage();
        }
        if (file != NULL)
            return usage();
        file = argv[i];
    }
    if (keypath == NULL || file == NULL)
        return usage();
    r = snprintf(sigpath, sizeof sigpath, "%s.minisig", file);
    if (r < 0 || (size_t)r >= sizeof sigpath) {
        rk_tool_error(cmd, "file name '%s' is too long", file);
        return RK_EXIT_USAGE;
    }
    if (comment == NULL) {
        base = strrchr(file, '/');
        base = base == NULL ? file : base + 1;
        snprintf(defcomment, sizeof defcomment, "timestamp:%lld\tfile:%s\thashed",
                 (long long)time(NULL), base);
        comment = defcomment;
    }
    rc = rk_signer_load(keypath, &s, err);
    if (rc != RK_OK)
        return rk_tool_fail(cmd, rc, err);
    rc = rk_buf_read_file(&data, file, SIGN_FILE_MAX, err);
    if (rc == RK_OK)
        rc = rk_minisign_sign(s, data.data, data.len, comment, &sig, err);
    if (rc != RK_OK) {
        code = rk_tool_fail(cmd, rc, err);
        goto out;
    }
    code = write_sig(cmd, sigpath, &sig);
    if (code == RK_EXIT_OK)
        printf("signature: %s\n", sigpath);
out:
    rk_buf_free(&sig);
    rk_buf_free(&data);
    rk_signer_free(s);
    return code;
}
