/*
 * regtest.consensus._accel: optional C versions of the hottest whole-input script checks.
 *
 * Why: after the Python fast paths (fastpath.py) the remaining cost per input, besides the
 * libsecp256k1 call itself, is interpreter overhead: a few microseconds of hashing glue,
 * slicing and attribute lookups per input and per transaction. These functions do exactly
 * what fastpath.py's templates do, in C, and call the very same libsecp256k1 that coincurve
 * loaded (function pointers and context handed over by init(); no second copy of the library).
 *
 * Contract of every per-input check: it returns a ScriptError value (0 = OK) that is identical
 * to what the Python fast path / general interpreter would return, or FALLBACK (-1) when the
 * input is anything it does not handle (other hash types, non-DER signatures, odd shapes,
 * non-bytes arguments); the caller then runs the Python code, which stays the reference.
 * Nothing here has side effects, so a fallback after partial work is always safe.
 *
 * The only module-level state: the pointers given to init() and the four BIP340 tag midstates
 * computed once when the module is imported (constants from then on). The GIL is held
 * throughout (each call is a few tens of microseconds at most).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* SHA256_* and RIPEMD160_* are deprecated in OpenSSL 3 but present and the fastest way to
 * hash a few short buffers (no EVP fetch or context allocation per call). */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/ripemd.h>
#include <openssl/sha.h>

/* ---- ScriptError values (regtest/consensus/script_error.py) ------------------------------ */
enum {
    FALLBACK = -1,
    SE_OK = 0,
    SE_EVAL_FALSE = 2,
    SE_PUSH_SIZE = 6,
    SE_EQUALVERIFY = 12,
    SE_SIG_HASHTYPE = 23,
    SE_SIG_DER = 24,
    SE_SIG_HIGH_S = 27,
    SE_PUBKEYTYPE = 29,
    SE_SIG_NULLFAIL = 32,
    SE_WITNESS_PROGRAM_MISMATCH = 40,
    SE_WITNESS_UNEXPECTED = 43,
    SE_WITNESS_PUBKEYTYPE = 44,
    SE_SCHNORR_SIG_SIZE = 45,
    SE_SCHNORR_SIG_HASHTYPE = 46,
    SE_SCHNORR_SIG = 47,
};

/* ---- script verification flags (regtest/consensus/script_flags.py, Core's values) --------- */
#define F_P2SH (1u << 0)
#define F_STRICTENC (1u << 1)
#define F_DERSIG (1u << 2)
#define F_LOW_S (1u << 3)
#define F_WITNESS (1u << 11)
#define F_NULLFAIL (1u << 14)
#define F_WITNESS_PUBKEYTYPE (1u << 15)
#define F_TAPROOT (1u << 17)
/* any of these makes a non-empty ECDSA signature subject to BIP66 strict DER */
#define F_STRICT_DER (F_DERSIG | F_LOW_S | F_STRICTENC)

/* ---- libsecp256k1 through coincurve's copy ---------------------------------------------- */
/* Opaque libsecp256k1 objects: 64 bytes each in every released version. */
typedef struct { unsigned char data[64]; } pubkey_t;
typedef struct { unsigned char data[64]; } ecdsa_sig_t;
typedef struct { unsigned char data[64]; } xonly_t;

typedef int (*ec_pubkey_parse_fn)(const void *, pubkey_t *, const unsigned char *, size_t);
typedef int (*sig_parse_compact_fn)(const void *, ecdsa_sig_t *, const unsigned char *);
typedef int (*sig_normalize_fn)(const void *, ecdsa_sig_t *, const ecdsa_sig_t *);
typedef int (*ecdsa_verify_fn)(const void *, const ecdsa_sig_t *, const unsigned char *, const pubkey_t *);
typedef int (*xonly_parse_fn)(const void *, xonly_t *, const unsigned char *);
typedef int (*schnorr_verify_fn)(const void *, const unsigned char *, const unsigned char *, size_t, const xonly_t *);
typedef int (*tweak_add_check_fn)(const void *, const unsigned char *, int, const xonly_t *, const unsigned char *);

static const void *g_ctx;
static ec_pubkey_parse_fn g_pubkey_parse;
static sig_parse_compact_fn g_sig_parse_compact;
static sig_normalize_fn g_sig_normalize;
static ecdsa_verify_fn g_ecdsa_verify;
static xonly_parse_fn g_xonly_parse;
static schnorr_verify_fn g_schnorr_verify;
static tweak_add_check_fn g_tweak_add_check;

/* SHA256 states after the 64-byte BIP340 tag prefix sha256(tag) || sha256(tag). */
static SHA256_CTX MID_TAPSIGHASH, MID_TAPLEAF, MID_TAPBRANCH, MID_TAPTWEAK;

/* interned attribute names for tx_pieces() */
static PyObject *STR_VALUE, *STR_SCRIPT_PUBKEY;

/* ---- small helpers ---------------------------------------------------------------------- */
static void sha256d(const unsigned char *data, size_t n, unsigned char out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, n);
    SHA256_Final(out, &c);
    SHA256_Init(&c);
    SHA256_Update(&c, out, 32);
    SHA256_Final(out, &c);
}

/* RIPEMD160(SHA256(data)): what OP_HASH160 computes. */
static void hash160(const unsigned char *data, size_t n, unsigned char out[20])
{
    unsigned char h[32];
    SHA256_CTX c;
    RIPEMD160_CTX r;
    SHA256_Init(&c);
    SHA256_Update(&c, data, n);
    SHA256_Final(h, &c);
    RIPEMD160_Init(&r);
    RIPEMD160_Update(&r, h, 32);
    RIPEMD160_Final(out, &r);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Bitcoin's compact size for n; returns the number of bytes written (1, 3, 5 or 9). */
static size_t put_compact(unsigned char *p, uint64_t n)
{
    if (n < 0xFD) {
        p[0] = (unsigned char)n;
        return 1;
    }
    if (n <= 0xFFFF) {
        p[0] = 0xFD;
        p[1] = (unsigned char)n;
        p[2] = (unsigned char)(n >> 8);
        return 3;
    }
    if (n <= 0xFFFFFFFFu) {
        p[0] = 0xFE;
        put_u32(p + 1, (uint32_t)n);
        return 5;
    }
    p[0] = 0xFF;
    put_u64(p + 1, n);
    return 9;
}

/* Reads a canonical compact size at *pos; 0 if truncated or not minimally encoded (our
 * codec never writes such a size; refusing it keeps the copied output count canonical). */
static int read_compact(const unsigned char *d, size_t n, size_t *pos, uint64_t *out)
{
    if (*pos >= n)
        return 0;
    unsigned char b = d[(*pos)++];
    size_t len = b < 0xFD ? 0 : b == 0xFD ? 2 : b == 0xFE ? 4 : 8;
    if (len == 0) {
        *out = b;
        return 1;
    }
    if (n - *pos < len)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v |= (uint64_t)d[*pos + i] << (8 * i);
    *pos += len;
    if ((len == 2 && v < 0xFD) || (len == 4 && v <= 0xFFFF) || (len == 8 && v <= 0xFFFFFFFFu))
        return 0;
    *out = v;
    return 1;
}

/* A Python int as an unsigned 64-bit value, or 0 (error cleared) when it is not one. */
static int as_u64(PyObject *o, uint64_t *out)
{
    if (!PyLong_Check(o))
        return 0;
    unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return 1;
}

/* A Python int that fits a signed 64-bit value (struct "<q"), or 0 (error cleared). */
static int as_i64(PyObject *o, int64_t *out)
{
    if (!PyLong_Check(o))
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return 1;
}

/* CastToBool of a witness program (never empty here): false only for all zero bytes, the
 * last one possibly 0x80 (negative zero). */
static int program_true(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i])
            return 1;
    return (p[n - 1] & 0x7F) != 0;
}

/* ---- ECDSA encoding rules and verification ---------------------------------------------- */
/* BIP66 strict DER of a signature including its trailing hash-type byte. */
static int is_strict_der(const unsigned char *s, size_t n)
{
    if (n < 9 || n > 73)
        return 0;
    if (s[0] != 0x30 || s[1] != n - 3)
        return 0;
    size_t len_r = s[3];
    if (5 + len_r >= n)
        return 0;
    size_t len_s = s[5 + len_r];
    if (len_r + len_s + 7 != n)
        return 0;
    if (s[2] != 0x02 || len_r == 0 || (s[4] & 0x80))
        return 0;
    if (len_r > 1 && s[4] == 0x00 && !(s[5] & 0x80))
        return 0;
    if (s[len_r + 4] != 0x02 || len_s == 0 || (s[len_r + 6] & 0x80))
        return 0;
    if (len_s > 1 && s[len_r + 6] == 0x00 && !(s[len_r + 7] & 0x80))
        return 0;
    return 1;
}

/* Copies a big-endian DER integer into 32 bytes, leading zeros dropped; 0 if longer. */
static int int_to_32(const unsigned char *p, size_t n, unsigned char out[32])
{
    while (n > 0 && *p == 0) {
        p++;
        n--;
    }
    if (n > 32)
        return 0;
    memset(out, 0, 32 - n);
    memcpy(out + 32 - n, p, n);
    return 1;
}

/* The signature object the lax DER parser (Core's reading of any signature) yields for a
 * signature already known to be BIP66 strict DER (`s` with its hash-type byte). Returns 1
 * with *sig set, or 0 where that parser substitutes the all-zero signature (r or s too long
 * or not below the group order), which never verifies and counts as low S. */
static int parse_strict_sig(const unsigned char *s, ecdsa_sig_t *sig)
{
    unsigned char rs[64];
    size_t len_r = s[3];
    size_t len_s = s[5 + len_r];
    if (!int_to_32(s + 4, len_r, rs) || !int_to_32(s + 6 + len_r, len_s, rs + 32))
        return 0;
    return g_sig_parse_compact(g_ctx, sig, rs);
}

/* Core's CPubKey::CheckLowS for a strict-DER signature. */
static int is_low_s(const unsigned char *s)
{
    ecdsa_sig_t sig;
    if (!parse_strict_sig(s, &sig))
        return 1;
    return !g_sig_normalize(g_ctx, NULL, &sig);
}

static int is_defined_hashtype(unsigned char t)
{
    t &= (unsigned char)~0x80;
    return t >= 1 && t <= 3;
}

static int is_compressed_or_uncompressed(const unsigned char *k, size_t n)
{
    if (n < 33)
        return 0;
    if (k[0] == 0x04)
        return n == 65;
    if (k[0] == 0x02 || k[0] == 0x03)
        return n == 33;
    return 0;
}

/* Check(Signature|Pubkey)Encoding for a non-empty strict-DER-or-unchecked signature, in the
 * interpreter's order; SE_OK when every rule selected by `flags` holds. */
static int encoding_checks(const unsigned char *sig, size_t ns, const unsigned char *pk, size_t npk,
                           uint64_t flags, int witness_v0)
{
    if (ns) {
        if ((flags & F_STRICT_DER) && !is_strict_der(sig, ns))
            return SE_SIG_DER;
        if ((flags & F_LOW_S) && !is_low_s(sig))
            return SE_SIG_HIGH_S;
        if ((flags & F_STRICTENC) && !is_defined_hashtype(sig[ns - 1]))
            return SE_SIG_HASHTYPE;
    }
    if ((flags & F_STRICTENC) && !is_compressed_or_uncompressed(pk, npk))
        return SE_PUBKEYTYPE;
    if (witness_v0 && (flags & F_WITNESS_PUBKEYTYPE) && !(npk == 33 && (pk[0] == 0x02 || pk[0] == 0x03)))
        return SE_WITNESS_PUBKEYTYPE;
    return SE_OK;
}

/* Core's CPubKey::Verify for a strict-DER signature (with its hash-type byte) and a 33- or
 * 65-byte key: parse (hybrid keys accepted), normalise S, verify. */
static int ecdsa_ok(const unsigned char *sig, const unsigned char *pk, size_t npk, const unsigned char msg[32])
{
    pubkey_t key;
    ecdsa_sig_t s;
    if (!g_pubkey_parse(g_ctx, &key, pk, npk))
        return 0;
    if (!parse_strict_sig(sig, &s))
        return 0;
    g_sig_normalize(g_ctx, &s, &s);
    return g_ecdsa_verify(g_ctx, &s, msg, &key) == 1;
}

/* ---- per-transaction pieces --------------------------------------------------------------- */
/* Layout of the bytes object tx_pieces() returns; per-input records (prevout 36 bytes,
 * sequence 4) follow it, then the legacy outputs section (count and outputs) of outs_len. */
typedef struct {
    uint32_t version, locktime, n_in, has_tap, outs_len, pad;
    unsigned char sha_prevouts[32], sha_sequences[32], sha_outputs[32]; /* single SHA256 */
    unsigned char hash_prevouts[32], hash_sequences[32], hash_outputs[32]; /* BIP143: double */
    unsigned char sha_amounts[32], sha_scripts[32]; /* BIP341, valid when has_tap */
} pieces_t;

#define REC 40

/* Reads the header of a bytes object made by tx_pieces() and points at its per-input records
 * and outputs section; 0 if the object is not one (wrong type or inconsistent sizes). */
static int get_pieces(PyObject *blob, pieces_t *hdr, const unsigned char **recs, const unsigned char **outs)
{
    if (!PyBytes_Check(blob))
        return 0;
    size_t n = (size_t)PyBytes_GET_SIZE(blob);
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(blob);
    if (n < sizeof(pieces_t))
        return 0;
    memcpy(hdr, d, sizeof(pieces_t));
    /* subtract instead of add: no sum that could wrap where size_t is 32 bits */
    size_t body = n - sizeof(pieces_t);
    if (body / REC < hdr->n_in)
        return 0;
    body -= (size_t)hdr->n_in * REC;
    if (body != hdr->outs_len)
        return 0;
    *recs = d + sizeof(pieces_t);
    *outs = *recs + (size_t)hdr->n_in * REC;
    return 1;
}

PyDoc_STRVAR(tx_pieces_doc,
"tx_pieces(raw_nowit, spent_outputs) -> bytes | None\n\n"
"Per-transaction pieces every signature hash of the transaction shares, from its serialization\n"
"without witness: version, lock time, each input's prevout and sequence, the outputs section,\n"
"the BIP143 double and BIP341 single hashes of prevouts, sequences and outputs, and (when\n"
"spent_outputs is a sequence of TxOut-like objects, one per input, with int values that fit\n"
"64 bits and bytes scripts) BIP341's amount and script hashes. None when raw_nowit does not\n"
"parse as exactly one transaction.");

static PyObject *tx_pieces(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "tx_pieces(raw_nowit, spent_outputs)");
        return NULL;
    }
    if (!PyBytes_Check(args[0]))
        Py_RETURN_NONE;
    const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    size_t n = (size_t)PyBytes_GET_SIZE(args[0]);
    size_t pos = 4;
    uint64_t n_in, n_out, len;
    if (n < 4 || n > 0xFFFFFFFFu || !read_compact(d, n, &pos, &n_in) || n_in > (n - pos) / 41)
        Py_RETURN_NONE;
    size_t ins_start = pos;
    for (uint64_t i = 0; i < n_in; i++) {
        pos += 36;
        if (pos > n || !read_compact(d, n, &pos, &len) || len > n - pos || n - pos - len < 4)
            Py_RETURN_NONE;
        pos += len + 4;
    }
    size_t outs_start = pos;
    if (!read_compact(d, n, &pos, &n_out) || n_out > (n - pos) / 9)
        Py_RETURN_NONE;
    size_t outs_body = pos;
    for (uint64_t i = 0; i < n_out; i++) {
        pos += 8;
        if (pos > n || !read_compact(d, n, &pos, &len) || len > n - pos)
            Py_RETURN_NONE;
        pos += len;
    }
    if (n - pos != 4)
        Py_RETURN_NONE;
    size_t outs_end = pos;

    size_t total = sizeof(pieces_t) + (size_t)n_in * REC + (outs_end - outs_start);
    PyObject *blob = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (!blob)
        return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(blob);
    pieces_t h;
    memset(&h, 0, sizeof h);
    h.version = get_u32(d);
    h.locktime = get_u32(d + n - 4);
    h.n_in = (uint32_t)n_in;
    h.outs_len = (uint32_t)(outs_end - outs_start);

    /* prevouts and sequences, hashed as they are copied into the per-input records */
    unsigned char *rec = o + sizeof(pieces_t);
    SHA256_CTX cp, cs;
    SHA256_Init(&cp);
    SHA256_Init(&cs);
    pos = ins_start;
    for (uint64_t i = 0; i < n_in; i++, rec += REC) {
        memcpy(rec, d + pos, 36);
        SHA256_Update(&cp, d + pos, 36);
        pos += 36;
        read_compact(d, n, &pos, &len); /* validated above */
        pos += len;
        memcpy(rec + 36, d + pos, 4);
        SHA256_Update(&cs, d + pos, 4);
        pos += 4;
    }
    SHA256_Final(h.sha_prevouts, &cp);
    SHA256_Final(h.sha_sequences, &cs);
    memcpy(rec, d + outs_start, outs_end - outs_start);
    SHA256_Init(&cp);
    SHA256_Update(&cp, d + outs_body, outs_end - outs_body);
    SHA256_Final(h.sha_outputs, &cp);
    SHA256(h.sha_prevouts, 32, h.hash_prevouts);
    SHA256(h.sha_sequences, 32, h.hash_sequences);
    SHA256(h.sha_outputs, 32, h.hash_outputs);

    /* BIP341: amounts and scriptPubKeys of the spent outputs */
    PyObject *spent = args[1];
    if (spent != Py_None && (PyTuple_Check(spent) || PyList_Check(spent)) &&
        PySequence_Fast_GET_SIZE(spent) == (Py_ssize_t)n_in) {
        SHA256_CTX ca, cc;
        SHA256_Init(&ca);
        SHA256_Init(&cc);
        int good = 1;
        for (Py_ssize_t i = 0; good && i < (Py_ssize_t)n_in; i++) {
            /* attribute lookups may run Python code that alters a list: re-check its size
             * and hold the item */
            if (PySequence_Fast_GET_SIZE(spent) != (Py_ssize_t)n_in) {
                good = 0;
                break;
            }
            PyObject *txout = PySequence_Fast_GET_ITEM(spent, i);
            Py_INCREF(txout);
            PyObject *value = PyObject_GetAttr(txout, STR_VALUE);
            PyObject *spk = value ? PyObject_GetAttr(txout, STR_SCRIPT_PUBKEY) : NULL;
            int64_t v;
            if (!value || !spk || !as_i64(value, &v) || !PyBytes_Check(spk)) {
                PyErr_Clear();
                good = 0;
            } else {
                unsigned char buf[9];
                put_u64(buf, (uint64_t)v);
                SHA256_Update(&ca, buf, 8);
                size_t k = put_compact(buf, (uint64_t)PyBytes_GET_SIZE(spk));
                SHA256_Update(&cc, buf, k);
                SHA256_Update(&cc, PyBytes_AS_STRING(spk), (size_t)PyBytes_GET_SIZE(spk));
            }
            Py_XDECREF(value);
            Py_XDECREF(spk);
            Py_DECREF(txout);
        }
        if (good) {
            SHA256_Final(h.sha_amounts, &ca);
            SHA256_Final(h.sha_scripts, &cc);
            h.has_tap = 1;
        }
    }
    memcpy(o, &h, sizeof h);
    return blob;
}

/* ---- signature hashes -------------------------------------------------------------------- */
/* BIP143 SIGHASH_ALL digest for input `i` with a P2WPKH scriptCode of `program` (20 bytes). */
static void bip143_all_p2wpkh(const pieces_t *h, const unsigned char *rec, const unsigned char *program,
                              int64_t amount, unsigned char out[32])
{
    unsigned char m[4 + 32 + 32 + 36 + 26 + 8 + 4 + 32 + 4 + 4];
    unsigned char *p = m;
    put_u32(p, h->version), p += 4;
    memcpy(p, h->hash_prevouts, 32), p += 32;
    memcpy(p, h->hash_sequences, 32), p += 32;
    memcpy(p, rec, 36), p += 36;
    /* scriptCode: 25 bytes `DUP HASH160 <20> EQUALVERIFY CHECKSIG`, length-prefixed */
    *p++ = 0x19, *p++ = 0x76, *p++ = 0xA9, *p++ = 0x14;
    memcpy(p, program, 20), p += 20;
    *p++ = 0x88, *p++ = 0xAC;
    put_u64(p, (uint64_t)amount), p += 8;
    memcpy(p, rec + 36, 4), p += 4;
    memcpy(p, h->hash_outputs, 32), p += 32;
    put_u32(p, h->locktime), p += 4;
    put_u32(p, 1), p += 4;
    sha256d(m, (size_t)(p - m), out);
}

/* Legacy SignatureHash for input `n_in` when every input's sequence and every output are
 * committed (no ANYONECANPAY, base type neither NONE nor SINGLE), scriptCode `code` free of
 * OP_CODESEPARATOR: version, inputs with empty scripts except this one, outputs, lock time,
 * and the hash type as 32 bits. */
static void legacy_all(const pieces_t *h, const unsigned char *recs, const unsigned char *outs, uint32_t n_in,
                       const unsigned char *code, size_t ncode, uint32_t hash_type, unsigned char out[32])
{
    unsigned char buf[9];
    SHA256_CTX c;
    SHA256_Init(&c);
    put_u32(buf, h->version);
    SHA256_Update(&c, buf, 4);
    SHA256_Update(&c, buf, put_compact(buf, h->n_in));
    for (uint32_t i = 0; i < h->n_in; i++) {
        const unsigned char *rec = recs + (size_t)i * REC;
        SHA256_Update(&c, rec, 36);
        if (i == n_in) {
            SHA256_Update(&c, buf, put_compact(buf, ncode));
            SHA256_Update(&c, code, ncode);
        } else {
            SHA256_Update(&c, "", 1);
        }
        SHA256_Update(&c, rec + 36, 4);
    }
    SHA256_Update(&c, outs, h->outs_len);
    put_u32(buf, h->locktime);
    put_u32(buf + 4, hash_type);
    SHA256_Update(&c, buf, 8);
    SHA256_Final(out, &c);
    SHA256_Init(&c);
    SHA256_Update(&c, out, 32);
    SHA256_Final(out, &c);
}

/* BIP341 SigMsg digest for hash type DEFAULT (0) or ALL (1), no annex; `leaf` NULL for the key
 * path, else the tapscript extension (leaf hash, key version 0, no code separator). */
static void taproot_all(const pieces_t *h, uint32_t n_in, unsigned char hash_type, const unsigned char *leaf,
                        unsigned char out[32])
{
    unsigned char m[2 + 4 + 4 + 5 * 32 + 1 + 4 + 32 + 1 + 4];
    unsigned char *p = m;
    *p++ = 0x00; /* epoch */
    *p++ = hash_type;
    put_u32(p, h->version), p += 4;
    put_u32(p, h->locktime), p += 4;
    memcpy(p, h->sha_prevouts, 32), p += 32;
    memcpy(p, h->sha_amounts, 32), p += 32;
    memcpy(p, h->sha_scripts, 32), p += 32;
    memcpy(p, h->sha_sequences, 32), p += 32;
    memcpy(p, h->sha_outputs, 32), p += 32;
    *p++ = leaf ? 0x02 : 0x00; /* spend type: ext flag 1 for tapscript, no annex */
    put_u32(p, n_in), p += 4;
    if (leaf) {
        memcpy(p, leaf, 32), p += 32;
        *p++ = 0x00;
        put_u32(p, 0xFFFFFFFFu), p += 4;
    }
    SHA256_CTX c = MID_TAPSIGHASH;
    SHA256_Update(&c, m, (size_t)(p - m));
    SHA256_Final(out, &c);
}

/* ---- per-input checks -------------------------------------------------------------------- */
#define RETURN_INT(v) return PyLong_FromLong((long)(v))

static int bytes_arg(PyObject *o, const unsigned char **p, size_t *n)
{
    if (!PyBytes_Check(o))
        return 0;
    *p = (const unsigned char *)PyBytes_AS_STRING(o);
    *n = (size_t)PyBytes_GET_SIZE(o);
    return 1;
}

PyDoc_STRVAR(p2wpkh_doc,
"p2wpkh(witness, script_pubkey, amount, flags, n_in, pieces) -> int\n\n"
"Verdict for a P2WPKH spend (script_pubkey `0 <20 bytes>`, WITNESS set; the caller has checked\n"
"that the scriptSig is empty): the\n"
"ScriptError value fastpath._p2wpkh returns, or -1 to fall back (hash type other than ALL, a\n"
"signature that is not strict DER where the flags allow that, unexpected argument types).");

static PyObject *p2wpkh(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *spk, *sig, *pk;
    size_t nspk, ns, npk;
    uint64_t flags, n_in;
    int64_t amount;
    pieces_t h;
    const unsigned char *recs, *outs;
    if (nargs != 6 || !g_ctx) {
        PyErr_SetString(PyExc_TypeError, "p2wpkh(witness, script_pubkey, amount, flags, n_in, pieces) after init()");
        return NULL;
    }
    PyObject *wit = args[0];
    if (!PyTuple_Check(wit) || !bytes_arg(args[1], &spk, &nspk) || nspk != 22 || spk[0] != 0x00 || spk[1] != 20 ||
        !as_u64(args[3], &flags) || !(flags & F_WITNESS))
        RETURN_INT(FALLBACK);
    const unsigned char *program = spk + 2;
    if (!program_true(program, 20))
        RETURN_INT(SE_EVAL_FALSE);
    if (PyTuple_GET_SIZE(wit) != 2)
        RETURN_INT(SE_WITNESS_PROGRAM_MISMATCH);
    if (!bytes_arg(PyTuple_GET_ITEM(wit, 0), &sig, &ns) || !bytes_arg(PyTuple_GET_ITEM(wit, 1), &pk, &npk))
        RETURN_INT(FALLBACK);
    if (ns > 520 || npk > 520)
        RETURN_INT(SE_PUSH_SIZE);
    unsigned char h160[20];
    hash160(pk, npk, h160);
    if (memcmp(h160, program, 20) != 0)
        RETURN_INT(SE_EQUALVERIFY);
    int e = encoding_checks(sig, ns, pk, npk, flags, 1);
    if (e != SE_OK)
        RETURN_INT(e);
    int ok = 0;
    if (ns && (npk == 33 || npk == 65)) {
        if (sig[ns - 1] != 1 || !is_strict_der(sig, ns) || !as_i64(args[2], &amount) ||
            !as_u64(args[4], &n_in) || !get_pieces(args[5], &h, &recs, &outs) || n_in >= h.n_in)
            RETURN_INT(FALLBACK);
        unsigned char msg[32];
        bip143_all_p2wpkh(&h, recs + n_in * REC, program, amount, msg);
        ok = ecdsa_ok(sig, pk, npk, msg);
    }
    if (!ok)
        RETURN_INT((flags & F_NULLFAIL) && ns ? SE_SIG_NULLFAIL : SE_EVAL_FALSE);
    RETURN_INT(SE_OK);
}

PyDoc_STRVAR(p2pkh_doc,
"p2pkh(script_sig, script_pubkey, witness, flags, n_in, pieces) -> int\n\n"
"Verdict for a P2PKH spend whose scriptSig is two direct pushes `<sig> <pubkey>` (2-75 bytes\n"
"each, the signature longer than 24 bytes): fastpath._p2pkh's result, or -1 to fall back\n"
"(other scriptSig shapes, ANYONECANPAY/NONE/SINGLE, non-DER signatures where allowed).");

static PyObject *p2pkh(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *ss, *spk;
    size_t end, nspk;
    uint64_t flags, n_in;
    pieces_t h;
    const unsigned char *recs, *outs;
    if (nargs != 6 || !g_ctx) {
        PyErr_SetString(PyExc_TypeError, "p2pkh(script_sig, script_pubkey, witness, flags, n_in, pieces) after init()");
        return NULL;
    }
    if (!bytes_arg(args[0], &ss, &end) || !bytes_arg(args[1], &spk, &nspk) || nspk != 25 || spk[0] != 0x76 ||
        spk[1] != 0xA9 || spk[2] != 20 || spk[23] != 0x88 || spk[24] != 0xAC || !PyTuple_Check(args[2]) ||
        !as_u64(args[3], &flags))
        RETURN_INT(FALLBACK);
    if (end < 2)
        RETURN_INT(FALLBACK);
    size_t n1 = ss[0];
    if (n1 < 2 || n1 > 75 || end < n1 + 2)
        RETURN_INT(FALLBACK);
    size_t n2 = ss[n1 + 1];
    if (n2 < 2 || n2 > 75 || end != n1 + n2 + 2)
        RETURN_INT(FALLBACK);
    const unsigned char *sig = ss + 1, *pk = ss + n1 + 2;
    unsigned char h160[20];
    hash160(pk, n2, h160);
    if (memcmp(h160, spk + 3, 20) != 0)
        RETURN_INT(SE_EQUALVERIFY);
    if (n1 + 1 <= 25) /* the signature push could occur in the scriptCode: FindAndDelete */
        RETURN_INT(FALLBACK);
    int e = encoding_checks(sig, n1, pk, n2, flags, 0);
    if (e != SE_OK)
        RETURN_INT(e);
    int ok = 0;
    if (n2 == 33 || n2 == 65) {
        unsigned char ht = sig[n1 - 1];
        if ((ht & 0x80) || (ht & 0x1F) == 2 || (ht & 0x1F) == 3 || !is_strict_der(sig, n1) ||
            !as_u64(args[4], &n_in) || !get_pieces(args[5], &h, &recs, &outs) || n_in >= h.n_in)
            RETURN_INT(FALLBACK);
        unsigned char msg[32];
        legacy_all(&h, recs, outs, (uint32_t)n_in, spk, 25, ht, msg);
        ok = ecdsa_ok(sig, pk, n2, msg);
    }
    if (!ok)
        RETURN_INT((flags & F_NULLFAIL) ? SE_SIG_NULLFAIL : SE_EVAL_FALSE);
    if ((flags & F_WITNESS) && PyTuple_GET_SIZE(args[2]))
        RETURN_INT(SE_WITNESS_UNEXPECTED);
    RETURN_INT(SE_OK);
}

PyDoc_STRVAR(p2sh_multisig_doc,
"p2sh_multisig(script_sig, script_pubkey, witness, flags, n_in, pieces) -> int\n\n"
"Verdict for a P2SH spend of a bare m-of-n CHECKMULTISIG redeem script (33/65-byte key pushes),\n"
"scriptSig `OP_0 <sig>... <redeem>` with exactly m direct signature pushes and the redeem\n"
"script pushed minimally: fastpath._p2sh_multisig's result, or -1 to fall back (other shapes,\n"
"a signature push found inside the redeem script (FindAndDelete), hash types that are not\n"
"ALL-like, non-DER signatures where allowed).");

static PyObject *p2sh_multisig(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *ss, *spk;
    size_t end, nspk;
    uint64_t flags, n_in;
    pieces_t h;
    const unsigned char *recs, *outs;
    if (nargs != 6 || !g_ctx) {
        PyErr_SetString(PyExc_TypeError, "p2sh_multisig(script_sig, script_pubkey, witness, flags, n_in, pieces) after init()");
        return NULL;
    }
    if (!bytes_arg(args[0], &ss, &end) || !bytes_arg(args[1], &spk, &nspk) || nspk != 23 || spk[0] != 0xA9 ||
        spk[1] != 20 || spk[22] != 0x87 || !PyTuple_Check(args[2]) || !as_u64(args[3], &flags) ||
        !(flags & F_P2SH) || end < 1 || ss[0] != 0)
        RETURN_INT(FALLBACK);
    /* signature pushes (direct, 2-75 bytes) up to the push that ends the scriptSig */
    size_t sig_at[17], sig_len[17], n_sigs = 0, pc = 1, op;
    for (;;) {
        if (pc >= end)
            RETURN_INT(FALLBACK);
        op = ss[pc];
        if (op < 2 || op > 0x4D)
            RETURN_INT(FALLBACK);
        if (op == 0x4C || op == 0x4D || pc + 1 + op == end)
            break;
        if (n_sigs == 16 || pc + 1 + op > end)
            RETURN_INT(FALLBACK); /* more than 16 can never match m; a truncated push */
        sig_at[n_sigs] = pc + 1;
        sig_len[n_sigs++] = op;
        pc += 1 + op;
    }
    size_t size, start;
    if (op == 0x4C) {
        if (end - pc < 2 || (size = ss[pc + 1]) <= 75)
            RETURN_INT(FALLBACK);
        start = pc + 2;
    } else if (op == 0x4D) {
        if (end - pc < 3 || (size = ss[pc + 1] | ((size_t)ss[pc + 2] << 8)) <= 255)
            RETURN_INT(FALLBACK);
        start = pc + 3;
    } else {
        size = op;
        start = pc + 1;
    }
    if (start + size != end || size > 520)
        RETURN_INT(FALLBACK);
    const unsigned char *redeem = ss + start;
    size_t rn = size;
    /* the redeem script: OP_m <key>... OP_n OP_CHECKMULTISIG */
    if (rn < 37 || redeem[rn - 1] != 0xAE)
        RETURN_INT(FALLBACK);
    int m = (int)redeem[0] - 0x50, n_keys = (int)redeem[rn - 2] - 0x50;
    if (m < 1 || m > 16 || n_keys < 1 || n_keys > 16 || m > n_keys || (size_t)m != n_sigs)
        RETURN_INT(FALLBACK);
    size_t key_at[16], key_len[16];
    int nk = 0;
    pc = 1;
    while (pc < rn - 2) {
        op = redeem[pc];
        if ((op != 33 && op != 65) || nk == 16)
            RETURN_INT(FALLBACK);
        key_at[nk] = pc + 1;
        key_len[nk++] = op;
        pc += 1 + op;
    }
    if (pc != rn - 2 || nk != n_keys)
        RETURN_INT(FALLBACK);
    unsigned char h160[20];
    hash160(redeem, rn, h160);
    if (memcmp(h160, spk + 2, 20) != 0)
        RETURN_INT(SE_EVAL_FALSE); /* OP_EQUAL leaves false */
    /* FindAndDelete would remove a signature push found in the scriptCode; any occurrence
     * as a substring (a superset of whole-opcode matches) goes to Python */
    for (size_t i = 0; i < n_sigs; i++) {
        size_t k = sig_len[i] + 1;
        for (size_t at = 0; k <= rn && at + k <= rn; at++)
            if (redeem[at] == sig_len[i] && memcmp(redeem + at + 1, ss + sig_at[i], sig_len[i]) == 0)
                RETURN_INT(FALLBACK);
    }
    if (!as_u64(args[4], &n_in) || !get_pieces(args[5], &h, &recs, &outs) || n_in >= h.n_in)
        RETURN_INT(FALLBACK);
    /* CHECKMULTISIG: signatures and keys matched from the last down, one digest per hash type */
    unsigned char msgs[17][32], types[17];
    int n_msgs = 0;
    int isig = m - 1, ikey = n_keys - 1, left = m, remaining = n_keys, success = 1;
    while (success && left > 0) {
        const unsigned char *sig = ss + sig_at[isig], *pk = redeem + key_at[ikey];
        size_t ns = sig_len[isig], npk = key_len[ikey];
        int e = encoding_checks(sig, ns, pk, npk, flags, 0);
        if (e != SE_OK)
            RETURN_INT(e);
        unsigned char ht = sig[ns - 1];
        if ((ht & 0x80) || (ht & 0x1F) == 2 || (ht & 0x1F) == 3 || !is_strict_der(sig, ns))
            RETURN_INT(FALLBACK);
        int j = 0;
        while (j < n_msgs && types[j] != ht)
            j++;
        if (j == n_msgs) {
            types[j] = ht;
            legacy_all(&h, recs, outs, (uint32_t)n_in, redeem, rn, ht, msgs[j]);
            n_msgs++;
        }
        if (ecdsa_ok(sig, pk, npk, msgs[j])) {
            isig--;
            left--;
        }
        ikey--;
        remaining--;
        if (left > remaining)
            success = 0;
    }
    if (!success)
        RETURN_INT((flags & F_NULLFAIL) ? SE_SIG_NULLFAIL : SE_EVAL_FALSE);
    if ((flags & F_WITNESS) && PyTuple_GET_SIZE(args[2]))
        RETURN_INT(SE_WITNESS_UNEXPECTED);
    RETURN_INT(SE_OK);
}

/* BIP340 check of a 64/65-byte taproot signature for DEFAULT/ALL; FALLBACK for other hash
 * types (the general BIP341 message is left to Python). */
static int schnorr_check(const unsigned char *sig, size_t ns, const unsigned char *key, const pieces_t *h,
                         uint32_t n_in, const unsigned char *leaf)
{
    unsigned char hash_type;
    if (ns == 64) {
        hash_type = 0;
    } else if (ns == 65) {
        hash_type = sig[64];
        if (hash_type == 0)
            return SE_SCHNORR_SIG_HASHTYPE;
        if (hash_type != 1)
            return FALLBACK;
    } else {
        return SE_SCHNORR_SIG_SIZE;
    }
    if (!h->has_tap)
        return FALLBACK;
    unsigned char msg[32];
    taproot_all(h, n_in, hash_type, leaf, msg);
    xonly_t pk;
    if (!g_xonly_parse(g_ctx, &pk, key))
        return SE_SCHNORR_SIG;
    if (g_schnorr_verify(g_ctx, sig, msg, 32, &pk) != 1)
        return SE_SCHNORR_SIG;
    return SE_OK;
}

/* BIP341 tagged hash from a precomputed tag midstate. */
static void tagged(const SHA256_CTX *mid, const unsigned char *a, size_t na, const unsigned char *b, size_t nb,
                   unsigned char out[32])
{
    SHA256_CTX c = *mid;
    SHA256_Update(&c, a, na);
    if (nb)
        SHA256_Update(&c, b, nb);
    SHA256_Final(out, &c);
}

PyDoc_STRVAR(p2tr_doc,
"p2tr(witness, script_pubkey, flags, n_in, pieces) -> int\n\n"
"Verdict for a P2TR spend (script_pubkey `1 <32 bytes>`, WITNESS set; the caller has checked\n"
"that the scriptSig is empty): key\n"
"path, and script path with leaf `<32-byte key> OP_CHECKSIG` (tapscript version, no annex).\n"
"fastpath._p2tr's result, or -1 to fall back (hash types other than DEFAULT/ALL, other\n"
"witness shapes, missing taproot pieces).");

static PyObject *p2tr(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    const unsigned char *spk, *sig;
    size_t nspk, ns;
    uint64_t flags, n_in;
    pieces_t h;
    const unsigned char *recs, *outs;
    if (nargs != 5 || !g_ctx) {
        PyErr_SetString(PyExc_TypeError, "p2tr(witness, script_pubkey, flags, n_in, pieces) after init()");
        return NULL;
    }
    PyObject *wit = args[0];
    if (!PyTuple_Check(wit) || !bytes_arg(args[1], &spk, &nspk) || nspk != 34 || spk[0] != 0x51 || spk[1] != 32 ||
        !as_u64(args[2], &flags) || !(flags & F_WITNESS))
        RETURN_INT(FALLBACK);
    const unsigned char *program = spk + 2;
    if (!program_true(program, 32))
        RETURN_INT(SE_EVAL_FALSE);
    if (!(flags & F_TAPROOT))
        RETURN_INT(SE_OK);
    Py_ssize_t nw = PyTuple_GET_SIZE(wit);
    if ((nw != 1 && nw != 3) || !bytes_arg(PyTuple_GET_ITEM(wit, 0), &sig, &ns) || !as_u64(args[3], &n_in) ||
        !get_pieces(args[4], &h, &recs, &outs) || n_in >= h.n_in)
        RETURN_INT(FALLBACK);
    if (nw == 1)
        RETURN_INT(schnorr_check(sig, ns, program, &h, (uint32_t)n_in, NULL));

    /* script path: <sig> <leaf script> <control block> */
    const unsigned char *script, *control;
    size_t nscript, nc;
    if (!bytes_arg(PyTuple_GET_ITEM(wit, 1), &script, &nscript) ||
        !bytes_arg(PyTuple_GET_ITEM(wit, 2), &control, &nc))
        RETURN_INT(FALLBACK);
    if (nscript != 34 || script[0] != 0x20 || script[33] != 0xAC)
        RETURN_INT(FALLBACK);
    if (nc < 33 || nc > 33 + 32 * 128 || (nc - 33) % 32 || (control[0] & 0xFE) != 0xC0)
        RETURN_INT(FALLBACK);
    /* leaf hash, then the Merkle path to the root, then the output key's tweak */
    unsigned char leaf[32], k[32], lv[2] = {0xC0, 34};
    tagged(&MID_TAPLEAF, lv, 2, script, 34, leaf);
    memcpy(k, leaf, 32);
    for (size_t pos = 33; pos < nc; pos += 32) {
        unsigned char pair[64];
        const unsigned char *node = control + pos;
        if (memcmp(node, k, 32) < 0) {
            memcpy(pair, node, 32);
            memcpy(pair + 32, k, 32);
        } else {
            memcpy(pair, k, 32);
            memcpy(pair + 32, node, 32);
        }
        tagged(&MID_TAPBRANCH, pair, 64, NULL, 0, k);
    }
    xonly_t internal;
    unsigned char tweak[32];
    if (!g_xonly_parse(g_ctx, &internal, control + 1))
        RETURN_INT(SE_WITNESS_PROGRAM_MISMATCH);
    tagged(&MID_TAPTWEAK, control + 1, 32, k, 32, tweak);
    if (g_tweak_add_check(g_ctx, program, control[0] & 1, &internal, tweak) != 1)
        RETURN_INT(SE_WITNESS_PROGRAM_MISMATCH);
    /* the leaf runs: one stack item (the signature), at most 520 bytes, then CHECKSIG */
    if (ns > 520)
        RETURN_INT(SE_PUSH_SIZE);
    if (ns == 0)
        RETURN_INT(SE_EVAL_FALSE);
    RETURN_INT(schnorr_check(sig, ns, script + 1, &h, (uint32_t)n_in, leaf));
}

PyDoc_STRVAR(init_doc,
"init(ctx, ec_pubkey_parse, ecdsa_signature_parse_compact, ecdsa_signature_normalize,\n"
"     ecdsa_verify, xonly_pubkey_parse, schnorrsig_verify, xonly_pubkey_tweak_add_check)\n\n"
"Addresses (ints) of a libsecp256k1 verification context and of those library functions,\n"
"as loaded by coincurve. Must be called before the checks; the context must stay alive.");

static PyObject *init(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    uint64_t v[8];
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "init() takes 8 addresses");
        return NULL;
    }
    for (int i = 0; i < 8; i++) {
        if (!as_u64(args[i], &v[i]) || v[i] == 0) {
            PyErr_SetString(PyExc_ValueError, "init(): every address must be a non-zero int");
            return NULL;
        }
    }
    g_pubkey_parse = (ec_pubkey_parse_fn)(uintptr_t)v[1];
    g_sig_parse_compact = (sig_parse_compact_fn)(uintptr_t)v[2];
    g_sig_normalize = (sig_normalize_fn)(uintptr_t)v[3];
    g_ecdsa_verify = (ecdsa_verify_fn)(uintptr_t)v[4];
    g_xonly_parse = (xonly_parse_fn)(uintptr_t)v[5];
    g_schnorr_verify = (schnorr_verify_fn)(uintptr_t)v[6];
    g_tweak_add_check = (tweak_add_check_fn)(uintptr_t)v[7];
    g_ctx = (const void *)(uintptr_t)v[0];
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"init", (PyCFunction)(void (*)(void))init, METH_FASTCALL, init_doc},
    {"tx_pieces", (PyCFunction)(void (*)(void))tx_pieces, METH_FASTCALL, tx_pieces_doc},
    {"p2wpkh", (PyCFunction)(void (*)(void))p2wpkh, METH_FASTCALL, p2wpkh_doc},
    {"p2pkh", (PyCFunction)(void (*)(void))p2pkh, METH_FASTCALL, p2pkh_doc},
    {"p2sh_multisig", (PyCFunction)(void (*)(void))p2sh_multisig, METH_FASTCALL, p2sh_multisig_doc},
    {"p2tr", (PyCFunction)(void (*)(void))p2tr, METH_FASTCALL, p2tr_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "regtest.consensus._accel",
    "C versions of the hot whole-input script checks (see fastpath.py).", -1, methods,
};

static void tag_midstate(const char *tag, SHA256_CTX *out)
{
    unsigned char t[32];
    SHA256((const unsigned char *)tag, strlen(tag), t);
    SHA256_Init(out);
    SHA256_Update(out, t, 32);
    SHA256_Update(out, t, 32);
}

PyMODINIT_FUNC PyInit__accel(void)
{
    tag_midstate("TapSighash", &MID_TAPSIGHASH);
    tag_midstate("TapLeaf", &MID_TAPLEAF);
    tag_midstate("TapBranch", &MID_TAPBRANCH);
    tag_midstate("TapTweak", &MID_TAPTWEAK);
    STR_VALUE = PyUnicode_InternFromString("value");
    STR_SCRIPT_PUBKEY = PyUnicode_InternFromString("script_pubkey");
    if (!STR_VALUE || !STR_SCRIPT_PUBKEY)
        return NULL;
    return PyModule_Create(&moduledef);
}
