#!/bin/sh
# reckon keygen + reckon sign-file produce files stock minisign verifies.
set -eu
: "${RECKON:?}" "${TMPDIR:?}"
command -v minisign >/dev/null || { echo "minisign is not installed"; exit 1; }
cd "$TMPDIR"

fail() { echo "FAIL: $*"; exit 1; }

"$RECKON" keygen --out k --name example.com/evidence >keygen.out
grep -q '^public key: k.pub$' keygen.out || fail "keygen output"
grep -q '^minisign key id: [0-9A-F]\{16\}$' keygen.out || fail "key id"
grep -q '^note verifier key: example.com/evidence+[0-9a-f]\{8\}+' keygen.out \
    || fail "verifier key"
[ "$(stat -c %a k.key)" = 600 ] || fail "k.key mode is not 600"
head -1 k.pub | grep -q '^untrusted comment: reckon public key [0-9A-F]\{16\} name example.com/evidence$' \
    || fail "k.pub comment"
id=$(sed -n 's/^minisign key id: //p' keygen.out)
head -1 k.pub | grep -q "$id" || fail "k.pub comment does not name key $id"

# keygen never overwrites
cp k.key k.key.orig
set +e; "$RECKON" keygen --out k 2>err; rc=$?; set -e
[ $rc -eq 2 ] || fail "keygen over an existing key exit $rc"
grep -q "already exists" err || fail "overwrite message"
cmp -s k.key k.key.orig || fail "keygen changed k.key"
set +e; "$RECKON" keygen --out k2 --name 'bad name' 2>/dev/null; rc=$?; set -e
[ $rc -eq 2 ] || fail "bad name exit $rc"
set +e; "$RECKON" keygen 2>/dev/null; rc=$?; set -e
[ $rc -eq 2 ] || fail "keygen without --out exit $rc"

printf 'period close pack\n' >pack.tar
"$RECKON" sign-file --key k.key pack.tar >sign.out
grep -q '^signature: pack.tar.minisig$' sign.out || fail "sign-file output"
minisign -Vm pack.tar -p k.pub >verify.out || fail "minisign rejected our signature"
grep -q 'file:pack.tar' verify.out || fail "trusted comment not shown"
minisign -H -Vm pack.tar -p k.pub >/dev/null || fail "not prehashed"
minisign -Vm pack.tar -P "$(sed -n 2p k.pub)" >/dev/null || fail "minisign -P"

# a chosen trusted comment
"$RECKON" sign-file --key k.key --comment 'period 2026-10 close' pack.tar >/dev/null
minisign -Vm pack.tar -p k.pub | grep -q 'period 2026-10 close' \
    || fail "custom trusted comment"

# a modified file, a modified trusted comment, another key: rejected
printf 'x' >>pack.tar
if minisign -Vm pack.tar -p k.pub >/dev/null 2>&1; then fail "modified file accepted"; fi
printf 'period close pack\n' >pack.tar
minisign -Vm pack.tar -p k.pub >/dev/null || fail "restored file rejected"
sed '3s/2026-10/2026-11/' pack.tar.minisig >forged.minisig
if minisign -Vm pack.tar -x forged.minisig -p k.pub >/dev/null 2>&1; then
    fail "modified trusted comment accepted"
fi
"$RECKON" keygen --out other >/dev/null
if minisign -Vm pack.tar -p other.pub >/dev/null 2>&1; then fail "other key accepted"; fi

# sign-file errors: exit 2
chmod 644 k.key
set +e; "$RECKON" sign-file --key k.key pack.tar 2>err; rc=$?; set -e
[ $rc -eq 2 ] || fail "insecure key exit $rc"
grep -q 'chmod 600' err || fail "insecure key message"
chmod 600 k.key
set +e; "$RECKON" sign-file --key k.key missing.tar 2>/dev/null; rc=$?; set -e
[ $rc -eq 2 ] || fail "missing file exit $rc"
set +e; "$RECKON" sign-file --key nokey.key pack.tar 2>/dev/null; rc=$?; set -e
[ $rc -eq 2 ] || fail "missing key exit $rc"
set +e; "$RECKON" sign-file pack.tar 2>/dev/null; rc=$?; set -e
[ $rc -eq 2 ] || fail "usage exit $rc"
echo "minisign e2e ok"
