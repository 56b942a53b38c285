/*
 * note.h - signed notes, tlog checkpoints and proofs, Ed25519 key files and
 * minisign signatures.
 *
 * Everything here is text that leaves the system and is checked by others:
 *
 *   signed note      c2sp.org/signed-note: text, a blank line, then lines
 *                    "— <name> <base64(4-byte key id || Ed25519 signature)>"
 *   checkpoint       c2sp.org/tlog-checkpoint: the note text "origin\n
 *                    size\nbase64(root)\n" (formats/checkpoint.md)
 *   tlog proof       c2sp.org/tlog-proof@v1: index, inclusion hashes and the
 *                    signed checkpoint verbatim (formats/checkpoint.md)
 *   key files        PREFIX.key (our secret key text) and PREFIX.pub (a
 *                    minisign public key file carrying the key name)
 *                    (formats/keys.md)
 *   minisign         .minisig files in the prehashed "ED" variant, accepted
 *                    by stock `minisign -Vm FILE -p PREFIX.pub`
 *
 * One Ed25519 key pair serves both note signatures and minisign signatures.
 * It has two identifiers:
 *   note key id      SHA-256(name || 0x0A || 0x01 || public key)[0..4),
 *                    a big-endian uint32 (C2SP signed-note, Ed25519 type 0x01)
 *   minisign key id  BLAKE2b-256(public key)[0..8), stored as these 8 bytes;
 *                    shown as minisign shows it: 16 uppercase hex digits of
 *                    the bytes read as a little-endian uint64
 *
 * Secret key material lives only inside an rk_signer; it is wiped with
 * sodium_memzero on every path (including rk_signer_free) and never appears
 * in error messages.  Functions that take `char *err` write detail into a
 * caller-owned RK_ERROR_SIZE buffer and accept NULL.  Every function calls
 * sodium_init() itself where it needs libsodium (it is idempotent).
 *
 * Output functions that take an rk_buf *append* to it; pass an empty buffer
 * to get exactly the documented text.  On failure the buffer may hold a
 * partial append; the caller frees it as usual.
 */
#ifndef RK_NOTE_H
#define RK_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define RK_KEY_NAME_MAX 255          /* bytes of a key name, without NUL */
#define RK_NOTE_MAX (1024 * 1024)    /* largest note rk_note_verify reads */
#define RK_NOTE_MAX_SIGS 100         /* signature lines per note, at most */
#define RK_MINISIGN_COMMENT_MAX 1024 /* bytes of a trusted comment */
#define RK_MINISIGN_KEYID_SIZE 8
#define RK_PUBLIC_KEY_SIZE 32

typedef struct rk_signer rk_signer;     /* name, secret key, public key, ids */
typedef struct rk_verifier rk_verifier; /* name, public key, ids */

/* ---- keys ------------------------------------------------------------ */

/*
 * Whether name is a valid key name: 1 to RK_KEY_NAME_MAX bytes of valid
 * UTF-8 with no Unicode space, no '+' and no control character (the
 * C2SP signed-note rule, plus a length limit).
 */
int rk_key_name_valid(const char *name);

/*
 * Generate a fresh Ed25519 key pair named `name`.  *out is a new signer the
 * caller frees with rk_signer_free.
 *   RK_ERR_INVALID  name is not a valid key name
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_signer_generate(const char *name, rk_signer **out, char *err);

/*
 * Build a signer from a 32-byte Ed25519 seed (RFC 8032 private key).  The
 * seed is borrowed and not kept (the caller wipes its copy).  Used to load
 * test keys and by rk_signer_load.  Errors as rk_signer_generate.
 */
rk_err rk_signer_from_seed(const char *name, const uint8_t seed[32],
                           rk_signer **out, char *err);

/*
 * Write PREFIX.key (the secret key file, mode 0600) and PREFIX.pub (the
 * minisign public key file, mode 0644), both created with O_EXCL: an
 * existing file is never overwritten.  If PREFIX.pub cannot be written,
 * PREFIX.key is removed again.  Both are fsync'ed.
 *   RK_ERR_EXISTS    PREFIX.key or PREFIX.pub exists
 *   RK_ERR_INVALID   prefix is empty or too long for a path
 *   RK_ERR_NOTFOUND  the directory of PREFIX does not exist
 *   RK_ERR_IO        cannot create or write a file (message names it)
 */
rk_err rk_signer_write(const rk_signer *s, const char *prefix, char *err);

/*
 * Load a secret key file (PREFIX.key, formats/keys.md).  The file must be a
 * regular file with no group or other permission bits (like ssh, we refuse
 * a key others could read: chmod 600 it).  *out is a new signer.
 *   RK_ERR_NOTFOUND    no such file
 *   RK_ERR_IO          cannot open or read it
 *   RK_ERR_PERMISSION  the mode allows group or other access
 *   RK_ERR_INVALID     not a regular file
 *   RK_ERR_VERSION     a reckon secret key of a version other than 1
 *   RK_ERR_CORRUPT     not a key file, truncated, a bad line, a seed that is
 *                      not 32 bytes, or a public key that does not match
 *   RK_ERR_NOMEM       out of memory
 */
rk_err rk_signer_load(const char *path, rk_signer **out, char *err);

/*
 * Load a public key file (PREFIX.pub: minisign format whose untrusted
 * comment carries the key name, formats/keys.md).  *out is a new verifier.
 *   RK_ERR_NOTFOUND  no such file
 *   RK_ERR_IO        cannot read it
 *   RK_ERR_TOOBIG    larger than 4096 bytes
 *   RK_ERR_CORRUPT   not a reckon public key file, bad base64, wrong length,
 *                    algorithm other than "Ed", or a key id that does not
 *                    match the key
 *   RK_ERR_NOMEM     out of memory
 */
rk_err rk_verifier_load(const char *path, rk_verifier **out, char *err);

/*
 * Parse a Go sumdb/note verifier key "<name>+<hex8 key id>+<base64(0x01 ||
 * public key)>" (golang.org/x/mod/sumdb/note), checking the key id.
 *   RK_ERR_INVALID  malformed, wrong algorithm byte or length, or a key id
 *                   that does not match the name and key
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_verifier_from_note_key(const char *vkey, rk_verifier **out,
                                 char *err)
    __attribute__((warn_unused_result));

/* Append the Go-style verifier key of v ("name+hex8+base64") to out. */
rk_err rk_verifier_note_key(const rk_verifier *v, rk_buf *out);

/* A new verifier for s's public key and name; NULL when out of memory. */
rk_verifier *rk_signer_verifier(const rk_signer *s);

/* Borrowed accessors, valid until the handle is freed. */
const char *rk_signer_name(const rk_signer *s);
const char *rk_verifier_name(const rk_verifier *v);
uint32_t rk_verifier_note_id(const rk_verifier *v);
const uint8_t *rk_verifier_public_key(const rk_verifier *v);     /* 32 bytes */
const uint8_t *rk_verifier_minisign_keyid(const rk_verifier *v); /* 8 bytes */

/* The minisign display of a key id: 16 uppercase hex digits and a NUL. */
void rk_minisign_keyid_hex(char out[17], const uint8_t id[8]);

/* Free (and wipe) a handle; both accept NULL. */
void rk_signer_free(rk_signer *s);
void rk_verifier_free(rk_verifier *v);

/* ---- signed notes ---------------------------------------------------- */

/*
 * Sign text (len bytes: non-empty, ending in "\n", valid UTF-8 without
 * control characters other than newline) and append to out the signed note
 * text || "\n" || "— <name> <base64(key id || signature)>\n".
 *   RK_ERR_INVALID  the text breaks one of those rules
 *   RK_ERR_TOOBIG   text is larger than RK_NOTE_MAX
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_note_sign(const rk_signer *s, const char *text, size_t len,
                    rk_buf *out, char *err);

/*
 * Verify a signed note against v.  Lines by other keys (another name or key
 * id) are ignored; every line whose name and key id match v must verify,
 * and at least one must.  On RK_OK *text_len (may be NULL) is the length of
 * the note text, which starts at note[0] and includes its final newline.
 *   RK_ERR_INVALID    malformed: not UTF-8, a control character, no blank
 *                     line before the signatures, a bad signature line, or
 *                     more than RK_NOTE_MAX_SIGS signature lines
 *   RK_ERR_TOOBIG     note is larger than RK_NOTE_MAX
 *   RK_ERR_SIGNATURE  no line by v, or a line by v that does not verify
 */
rk_err rk_note_verify(const rk_verifier *v, const char *note, size_t len,
                      size_t *text_len, char *err)
    __attribute__((warn_unused_result));

/*
 * Split a signed note without verifying it: *text_len is the length of the
 * text (ending in its "\n"), before the blank line and the signature lines.
 * The text is NOT authenticated: use it only where the signature is checked
 * separately or cannot be (no key at hand), and say so.
 *   RK_ERR_INVALID  no blank line, or signature lines missing/unterminated
 */
rk_err rk_note_text(const char *note, size_t len, size_t *text_len, char *err)
    __attribute__((warn_unused_result));

/* ---- checkpoints ----------------------------------------------------- */

typedef struct rk_checkpoint {
    char origin[256]; /* NUL-terminated, 1..255 bytes, no control chars */
    uint64_t size;    /* number of leaves */
    uint8_t root[32]; /* RFC 6962 root hash at size */
} rk_checkpoint;

/*
 * Append the checkpoint note text "origin\nsize\nbase64(root)\n" to out.
 *   RK_ERR_INVALID  origin is empty, unterminated or has a control character
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_checkpoint_format(const rk_checkpoint *c, rk_buf *out);

/*
 * Parse a checkpoint note text (the text of a verified note: pass
 * text_len from rk_note_verify).  Strict: origin non-empty and at most 255
 * bytes, size in decimal without leading zeros (unless 0) and without sign,
 * root exactly 44 base64 characters of 32 bytes, every line ending in "\n".
 * Extension lines after the root are allowed by the spec: they must be
 * non-empty and are ignored.
 *   RK_ERR_INVALID  any rule broken (message names the line)
 *   RK_ERR_RANGE    size does not fit in 64 bits
 */
rk_err rk_checkpoint_parse(const char *text, size_t len, rk_checkpoint *c,
                           char *err)
    __attribute__((warn_unused_result));

/* ---- tlog proofs ----------------------------------------------------- */

/*
 * Append a c2sp.org/tlog-proof@v1 text to out: the header line, "index N",
 * the n inclusion hashes in base64 one per line (leaf's sibling first), an
 * empty line, then the signed checkpoint verbatim.  No "extra" line is
 * written.  proof may be NULL when n is 0.
 *   RK_ERR_INVALID  signed_checkpoint is empty or does not end in "\n"
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_tlog_proof_format(uint64_t index, const uint8_t proof[][32],
                            size_t n, const char *signed_checkpoint,
                            size_t cplen, rk_buf *out);

/*
 * Parse a tlog-proof text.  Sets *index, stores up to max hashes in proof
 * and their count in *n, and *checkpoint_off to the offset of the signed
 * checkpoint, which runs to the end of text (verify it with rk_note_verify
 * and rk_checkpoint_parse).  An "extra" line is checked for base64 and
 * skipped: it is unauthenticated and we attach no meaning to it.
 *   RK_ERR_VERSION  the first line is not "c2sp.org/tlog-proof@v1"
 *   RK_ERR_INVALID  a malformed line, index with leading zeros, a hash that
 *                   is not 32 bytes, no empty line, or no checkpoint after it
 *   RK_ERR_RANGE    index does not fit in 64 bits
 *   RK_ERR_TOOBIG   more than max hashes
 */
rk_err rk_tlog_proof_parse(const char *text, size_t len, uint64_t *index,
                           uint8_t proof[][32], size_t max, size_t *n,
                           size_t *checkpoint_off, char *err)
    __attribute__((warn_unused_result));

/* ---- minisign -------------------------------------------------------- */

/*
 * Sign file (len bytes) the minisign way and append the .minisig text:
 *   untrusted comment: signature from reckon key <KEYID>
 *   base64("ED" || minisign key id || Ed25519(BLAKE2b-512(file)))
 *   trusted comment: <trusted_comment>
 *   base64(Ed25519(signature || trusted_comment))
 * trusted_comment (NULL means "reckon") is at most RK_MINISIGN_COMMENT_MAX
 * bytes with no control characters other than tab.
 *   RK_ERR_INVALID  bad trusted comment
 *   RK_ERR_NOMEM    out of memory
 */
rk_err rk_minisign_sign(const rk_signer *s, const uint8_t *file, size_t len,
                        const char *trusted_comment, rk_buf *out, char *err);

/*
 * Verify a .minisig text (siglen bytes, exactly the four lines above, each
 * ending in "\n") over file with v.  Only the prehashed "ED" algorithm is
 * accepted.  Both the file signature and the global signature over the
 * trusted comment must verify.
 *   RK_ERR_INVALID    malformed lines or base64, wrong lengths
 *   RK_ERR_VERSION    legacy "Ed" or another algorithm
 *   RK_ERR_SIGNATURE  key id is not v's, or a signature does not verify
 */
rk_err rk_minisign_verify(const rk_verifier *v, const uint8_t *file,
                          size_t len, const char *sig, size_t siglen,
                          char *err)
    __attribute__((warn_unused_result));

#endif
