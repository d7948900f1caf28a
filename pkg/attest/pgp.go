package attest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Errors about an OpenPGP key's validity. When a signature is refused for
// one of them, the error wraps ErrBadSignature as well.
var (
	// ErrKeyExpired: the OpenPGP key (or the subkey that signed) has
	// expired, or claims to be created in the future.
	ErrKeyExpired = errors.New("the key has expired")
	// ErrKeyRevoked: the OpenPGP key (or the subkey that signed, or its
	// primary user id) has been revoked.
	ErrKeyRevoked = errors.New("the key has been revoked")
)

// MaxPGPSignatureBytes bounds a detached OpenPGP signature (after removing
// its ASCII armor). A signature comes from the registry, which anyone who
// can push to the repository can write; real ones are well under 1 KiB
// (post-quantum SLH-DSA ones about 30 KiB).
const MaxPGPSignatureBytes = 64 << 10

// PGPClockSkew is how far in the future an OpenPGP signature's creation
// time may be and still count, to tolerate a signer whose clock runs ahead
// of the cluster's: OpenPGP treats a signature "made" in the future as not
// yet valid.
const PGPClockSkew = 5 * time.Minute

// PGPKey is an OpenPGP public key: one primary key with its user ids and
// subkeys, as `gpg --export --armor KEY` writes it. Make it with
// ParsePGPPublicKey or NewPGPKey; it is the Key of a PublicKey and is safe
// for concurrent use.
//
// A signature verifies under it (VerifyRaw) when it is a detached OpenPGP
// signature over exactly the payload bytes (signature type "binary";
// `gpg --detach-sign`, not --textmode or --clearsign), in binary or
// ASCII-armored form, made by the primary key or a subkey that carries the
// signing flag, with a digest other than MD5, SHA-1 or RIPEMD-160, and when,
// at verification time, neither the key, nor the signing subkey, nor the
// primary user id is revoked or expired and the signature has not expired.
// Expiry and revocation are judged by the signatures the key held when it
// was read: publish a revocation or expiry by updating the authority's key.
// Signing keys must be RSA of MinRSABits to MaxRSABits bits, ECDSA on a NIST
// or Brainpool curve, EdDSA (Ed25519, Ed448) or one of the post-quantum
// schemes go-crypto verifies; DSA and ElGamal keys are refused.
type PGPKey struct {
	entity      *openpgp.Entity
	fingerprint string
	now         func() time.Time // nil: time.Now; tests move the clock
}

// Fingerprint is the primary key's OpenPGP fingerprint (RFC 4880 V4, or
// V6 for version 6 keys) in upper-case hex without spaces, as Binary
// Authorization and kritis spell PGP key ids.
func (k *PGPKey) Fingerprint() string {
	if k == nil {
		return ""
	}
	return k.fingerprint
}

func (k *PGPKey) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

// NewPGPKey makes the PublicKey of a spec.publicKeys entry of keyType PGP:
// id is its keyId and asciiArmored its asciiArmoredPgpPublicKey, read by
// ParsePGPPublicKey. An empty id defaults to the key's fingerprint
// (PGPKey.Fingerprint, upper-case hex), as kritis and Binary Authorization
// do, so a signature that records a key id must record that fingerprint; a
// non-empty id is used as given and compared exactly.
func NewPGPKey(id, asciiArmored string) (PublicKey, error) {
	k, err := ParsePGPPublicKey(asciiArmored)
	if err != nil {
		return PublicKey{}, err
	}
	if id == "" {
		id = k.fingerprint
	}
	return PublicKey{ID: id, Key: k}, nil
}

// ParsePGPPublicKey reads one ASCII-armored OpenPGP public key ("-----BEGIN
// PGP PUBLIC KEY BLOCK-----", as `gpg --export --armor KEY` prints it). It
// refuses, with errors wrapping the sentinel in brackets:
//
//   - empty input [ErrEmptyKey];
//   - a private key block, or secret key material in a public block
//     [ErrPrivateKey];
//   - anything that is not one armored OpenPGP public key block: garbage,
//     binary (unarmored) keys, PEM keys, signatures, more than one armor
//     block, or a block holding more than one primary key [ErrInvalidKey]
//     (put each key in its own publicKeys entry, so each has its own id);
//   - a key that is revoked [ErrKeyRevoked] or expired [ErrKeyExpired] now;
//   - a key with no key that may sign now: no primary key or subkey with
//     the signing flag that is valid and of an accepted algorithm and size
//     (see PGPKey) [ErrUnsupportedKey, or ErrKeyExpired / ErrKeyRevoked when
//     every signing key is expired / revoked].
//
// No error repeats key bytes.
func ParsePGPPublicKey(asciiArmored string) (*PGPKey, error) {
	return parsePGPPublicKey(asciiArmored, time.Now())
}

func parsePGPPublicKey(text string, now time.Time) (k *PGPKey, err error) {
	defer func() {
		// go-crypto is large and reads untrusted bytes; a panic in it must
		// not take the hook down.
		if r := recover(); r != nil {
			k, err = nil, fmt.Errorf("%w: the OpenPGP key does not parse", ErrInvalidKey)
		}
	}()
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return nil, ErrEmptyKey
	}
	label, blocks := armorLabel(trimmed)
	if strings.Contains(trimmed, "-----BEGIN PGP PRIVATE KEY BLOCK-----") || strings.Contains(label, "PRIVATE KEY") {
		if label == "" || !strings.Contains(label, "PRIVATE KEY") {
			label = "PGP PRIVATE KEY BLOCK"
		}
		return nil, fmt.Errorf("%w (armor block %q); export the public key with gpg --export --armor", ErrPrivateKey, label)
	}
	switch {
	case blocks == 0:
		return nil, fmt.Errorf("%w: not an ASCII-armored OpenPGP public key (want \"-----BEGIN PGP PUBLIC KEY BLOCK-----\" ..., as gpg --export --armor prints it)", ErrInvalidKey)
	case blocks > 1:
		return nil, fmt.Errorf("%w: %d armor blocks; give one OpenPGP public key per publicKeys entry", ErrInvalidKey, blocks)
	case label == "PUBLIC KEY" || label == "RSA PUBLIC KEY" || label == "CERTIFICATE":
		return nil, fmt.Errorf("%w: %q is a PEM (PKIX) key, not an OpenPGP key; use keyType PKIX", ErrInvalidKey, label)
	case label != openpgp.PublicKeyType:
		return nil, fmt.Errorf("%w: armor block %q is not an OpenPGP public key (want %q)", ErrInvalidKey, truncate(label, 64), openpgp.PublicKeyType)
	}
	block, err := armor.Decode(strings.NewReader(trimmed))
	if err != nil {
		return nil, fmt.Errorf("%w: the OpenPGP armor does not decode", ErrInvalidKey)
	}
	el, err := openpgp.ReadKeyRing(block.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: the OpenPGP public key does not parse (%s)", ErrInvalidKey, truncate(err.Error(), 200))
	}
	switch len(el) {
	case 0:
		return nil, fmt.Errorf("%w: the armor block holds no OpenPGP key", ErrInvalidKey)
	case 1:
	default:
		fps := make([]string, len(el))
		for i, e := range el {
			fps[i] = pgpFingerprint(e.PrimaryKey)
		}
		return nil, fmt.Errorf("%w: the armor block holds %d OpenPGP keys (%s); give one key per publicKeys entry", ErrInvalidKey, len(el), strings.Join(fps, ", "))
	}
	e := el[0]
	fp := pgpFingerprint(e.PrimaryKey)
	if e.PrivateKey != nil {
		return nil, fmt.Errorf("%w (OpenPGP key %s holds secret key material); export the public key with gpg --export --armor", ErrPrivateKey, fp)
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil {
			return nil, fmt.Errorf("%w (a subkey of OpenPGP key %s holds secret key material); export the public key with gpg --export --armor", ErrPrivateKey, fp)
		}
	}
	if err := checkPGPEntity(e, fp, now); err != nil {
		return nil, err
	}
	return &PGPKey{entity: e, fingerprint: fp}, nil
}

// armorLabel returns the label of the first "-----BEGIN <label>-----" line
// and how many such lines there are.
func armorLabel(s string) (string, int) {
	const begin = "-----BEGIN "
	n := strings.Count(s, begin)
	i := strings.Index(s, begin)
	if i < 0 {
		return "", 0
	}
	rest := s[i+len(begin):]
	if j := strings.IndexAny(rest, "\r\n"); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSuffix(strings.TrimSpace(rest), "-----"), n
}

func pgpFingerprint(pk *packet.PublicKey) string {
	return strings.ToUpper(hex.EncodeToString(pk.Fingerprint))
}

// checkPGPEntity checks that e may sign now: a self-signed, unrevoked,
// unexpired primary key with at least one valid signing key (primary or
// subkey) of an accepted algorithm.
func checkPGPEntity(e *openpgp.Entity, fp string, now time.Time) error {
	selfSig, ident := e.PrimarySelfSignature()
	if selfSig == nil {
		return fmt.Errorf("%w: OpenPGP key %s has no valid self-signature", ErrInvalidKey, fp)
	}
	if e.Revoked(now) || (ident != nil && ident.Revoked(now)) {
		return fmt.Errorf("%w: OpenPGP key %s", ErrKeyRevoked, fp)
	}
	if e.PrimaryKey.KeyExpired(selfSig, now) || selfSig.SigExpired(now) {
		return fmt.Errorf("%w: OpenPGP key %s %s", ErrKeyExpired, fp, pgpExpiry(e.PrimaryKey, selfSig, now))
	}
	type candidate struct {
		pk       *packet.PublicKey
		name     string
		revoked  bool
		expired  bool
		sigValid bool
	}
	var cands []candidate
	if selfSig.FlagsValid && selfSig.FlagSign {
		cands = append(cands, candidate{pk: e.PrimaryKey, name: "primary key"})
	}
	for _, sk := range e.Subkeys {
		if sk.Sig == nil || !sk.Sig.FlagsValid || !sk.Sig.FlagSign {
			continue
		}
		cands = append(cands, candidate{
			pk:      sk.PublicKey,
			name:    "subkey " + sk.PublicKey.KeyIdString(),
			revoked: sk.Revoked(now),
			expired: sk.PublicKey.KeyExpired(sk.Sig, now) || sk.Sig.SigExpired(now),
		})
	}
	if len(cands) == 0 {
		return fmt.Errorf("%w: OpenPGP key %s has no key that may sign (neither its primary key nor a subkey carries the signing flag)", ErrUnsupportedKey, fp)
	}
	var problems []string
	allExpired, allRevoked := true, true
	for _, c := range cands {
		allExpired = allExpired && c.expired
		allRevoked = allRevoked && c.revoked
		switch {
		case c.revoked:
			problems = append(problems, c.name+" is revoked")
		case c.expired:
			problems = append(problems, c.name+" has expired")
		default:
			if err := checkPGPSigningKey(c.pk); err != nil {
				problems = append(problems, c.name+": "+err.Error())
				continue
			}
			if _, ok := e.SigningKeyById(now, c.pk.KeyId); !ok {
				problems = append(problems, c.name+" is not valid for signing")
				continue
			}
			return nil
		}
	}
	sentinel := ErrUnsupportedKey
	switch {
	case allRevoked:
		sentinel = ErrKeyRevoked
	case allExpired:
		sentinel = ErrKeyExpired
	}
	return fmt.Errorf("%w: OpenPGP key %s has no usable signing key (%s)", sentinel, fp, strings.Join(problems, "; "))
}

// pgpExpiry says when a key expired, for messages.
func pgpExpiry(pk *packet.PublicKey, selfSig *packet.Signature, now time.Time) string {
	if pk.CreationTime.After(now) {
		return "claims to be created in the future (" + pk.CreationTime.UTC().Format(time.RFC3339) + "); check the clock of the machine that made it"
	}
	if selfSig.KeyLifetimeSecs != nil && *selfSig.KeyLifetimeSecs != 0 {
		return "expired at " + pk.CreationTime.Add(time.Duration(*selfSig.KeyLifetimeSecs)*time.Second).UTC().Format(time.RFC3339)
	}
	return "has an expired self-signature"
}

// checkPGPSigningKey refuses signing key algorithms and sizes this package
// does not trust (see PGPKey). The error does not wrap a sentinel.
func checkPGPSigningKey(pk *packet.PublicKey) error {
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		rk, ok := pk.PublicKey.(*rsa.PublicKey)
		if !ok || rk == nil || rk.N == nil {
			return errors.New("malformed RSA key")
		}
		if bits := rk.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("RSA key of %d bits (supported: %d to %d)", bits, MinRSABits, MaxRSABits)
		}
		return nil
	case packet.PubKeyAlgoECDSA:
		curve, err := pk.Curve()
		if err != nil {
			return errors.New("ECDSA key on an unknown curve")
		}
		switch curve {
		case packet.CurveNistP256, packet.CurveNistP384, packet.CurveNistP521,
			packet.CurveBrainpoolP256, packet.CurveBrainpoolP384, packet.CurveBrainpoolP512:
			return nil
		}
		return fmt.Errorf("ECDSA curve %s (supported: NIST P-256/P-384/P-521, Brainpool)", curve)
	case packet.PubKeyAlgoEdDSA:
		if _, err := pk.Curve(); err != nil {
			return errors.New("EdDSA key on an unknown curve")
		}
		return nil
	case packet.PubKeyAlgoEd25519, packet.PubKeyAlgoEd448,
		packet.PubKeyAlgoMldsa65Ed25519, packet.PubKeyAlgoMldsa87Ed448,
		packet.PubKeyAlgoSlhdsaShake128s, packet.PubKeyAlgoSlhdsaShake128f, packet.PubKeyAlgoSlhdsaShake256s:
		return nil
	case packet.PubKeyAlgoDSA:
		return errors.New("DSA key (too weak; supported: RSA, ECDSA, EdDSA)")
	}
	return fmt.Errorf("%s key cannot sign or is not supported", pgpAlgorithm(pk))
}

// pgpAlgorithm names an OpenPGP key's algorithm in GenerateKey's style:
// "rsa-3072", "ecdsa-p256", "ed25519", ...
func pgpAlgorithm(pk *packet.PublicKey) string {
	if pk == nil {
		return "unknown"
	}
	curve := func() string {
		c, err := pk.Curve()
		if err != nil {
			return "unknown"
		}
		return strings.ToLower(string(c))
	}
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoRSAEncryptOnly:
		if rk, ok := pk.PublicKey.(*rsa.PublicKey); ok && rk != nil && rk.N != nil {
			return fmt.Sprintf("rsa-%d", rk.N.BitLen())
		}
		return "rsa"
	case packet.PubKeyAlgoDSA:
		if bits, err := pk.BitLength(); err == nil {
			return fmt.Sprintf("dsa-%d", bits)
		}
		return "dsa"
	case packet.PubKeyAlgoElGamal:
		return "elgamal"
	case packet.PubKeyAlgoECDSA:
		return "ecdsa-" + curve()
	case packet.PubKeyAlgoECDH:
		return "ecdh-" + curve()
	case packet.PubKeyAlgoEdDSA:
		switch c, _ := pk.Curve(); c {
		case packet.Curve25519:
			return "ed25519"
		case packet.Curve448:
			return "ed448"
		}
		return "eddsa-" + curve()
	case packet.PubKeyAlgoEd25519:
		return "ed25519"
	case packet.PubKeyAlgoEd448:
		return "ed448"
	case packet.PubKeyAlgoX25519:
		return "x25519"
	case packet.PubKeyAlgoX448:
		return "x448"
	case packet.PubKeyAlgoMldsa65Ed25519:
		return "mldsa65-ed25519"
	case packet.PubKeyAlgoMldsa87Ed448:
		return "mldsa87-ed448"
	case packet.PubKeyAlgoSlhdsaShake128s:
		return "slhdsa-shake128s"
	case packet.PubKeyAlgoSlhdsaShake128f:
		return "slhdsa-shake128f"
	case packet.PubKeyAlgoSlhdsaShake256s:
		return "slhdsa-shake256s"
	}
	return fmt.Sprintf("algorithm-%d", int(pk.PubKeyAlgo))
}

// pgpKeyRing is the key ring of one PGPKey: it offers go-crypto only the
// keys this package accepts for signing.
type pgpKeyRing struct{ el openpgp.EntityList }

func (r pgpKeyRing) KeysById(id uint64) []openpgp.Key { return acceptedPGPKeys(r.el.KeysById(id)) }

func (r pgpKeyRing) KeysByIdUsage(id uint64, usage byte) []openpgp.Key {
	return acceptedPGPKeys(r.el.KeysByIdUsage(id, usage))
}

func (pgpKeyRing) DecryptionKeys() []openpgp.Key { return nil }

func acceptedPGPKeys(keys []openpgp.Key) []openpgp.Key {
	out := keys[:0:0]
	for _, k := range keys {
		if k.PublicKey != nil && checkPGPSigningKey(k.PublicKey) == nil {
			out = append(out, k)
		}
	}
	return out
}

// weakPGPHashes are digests a signature may not use: MD5 and RIPEMD-160 are
// refused by go-crypto itself, SHA-1 is refused for data signatures by
// go-crypto's newer API and by GnuPG's defaults; it is broken for collision
// resistance, which is what a signature over a document needs.
var weakPGPHashes = map[crypto.Hash]bool{crypto.MD5: true, crypto.SHA1: true, crypto.RIPEMD160: true}

// verify checks a detached OpenPGP signature (binary or ASCII-armored) over
// payload; see PGPKey for the rules. Errors wrap ErrBadSignature, and
// ErrKeyExpired or ErrKeyRevoked when the signature is by this key but the
// key may no longer sign.
func (k *PGPKey) verify(payload, sig []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: malformed OpenPGP signature", ErrBadSignature)
		}
	}()
	body := sig
	if trimmed := bytes.TrimLeft(sig, " \t\r\n"); bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		block, derr := armor.Decode(bytes.NewReader(trimmed))
		if derr != nil {
			return fmt.Errorf("%w: the ASCII-armored OpenPGP signature does not decode", ErrBadSignature)
		}
		if block.Type != openpgp.SignatureType {
			return fmt.Errorf("%w: armor block %q is not an OpenPGP signature", ErrBadSignature, truncate(block.Type, 64))
		}
		body, derr = io.ReadAll(io.LimitReader(block.Body, MaxPGPSignatureBytes+1))
		if derr != nil {
			return fmt.Errorf("%w: the ASCII-armored OpenPGP signature does not decode", ErrBadSignature)
		}
	}
	if len(body) > MaxPGPSignatureBytes {
		return fmt.Errorf("%w: OpenPGP signature larger than %d bytes", ErrBadSignature, MaxPGPSignatureBytes)
	}
	now := k.clock()
	s, verr := k.verifyAt(payload, body, now)
	if errors.Is(verr, pgperrors.ErrSignatureExpired) && s != nil && s.CreationTime.After(now) && s.CreationTime.Sub(now) <= PGPClockSkew {
		// Made by a signer whose clock runs slightly ahead: judge it as of
		// its creation time.
		s, verr = k.verifyAt(payload, body, s.CreationTime)
	}
	switch {
	case verr == nil:
	case errors.Is(verr, pgperrors.ErrKeyExpired):
		return fmt.Errorf("%w: %w (OpenPGP key %s)", ErrBadSignature, ErrKeyExpired, k.fingerprint)
	case errors.Is(verr, pgperrors.ErrKeyRevoked):
		return fmt.Errorf("%w: %w (OpenPGP key %s)", ErrBadSignature, ErrKeyRevoked, k.fingerprint)
	case errors.Is(verr, pgperrors.ErrSignatureExpired):
		return fmt.Errorf("%w: the OpenPGP signature has expired or is dated in the future", ErrBadSignature)
	case errors.Is(verr, pgperrors.ErrUnknownIssuer):
		return fmt.Errorf("%w: not an OpenPGP signature by key %s", ErrBadSignature, k.fingerprint)
	default:
		return ErrBadSignature
	}
	if s.SigType != packet.SigTypeBinary {
		return fmt.Errorf("%w: a text-mode OpenPGP signature; sign the payload in binary mode (gpg --detach-sign, without --textmode)", ErrBadSignature)
	}
	if weakPGPHashes[s.Hash] {
		return fmt.Errorf("%w: the OpenPGP signature uses %s, which is too weak", ErrBadSignature, s.Hash)
	}
	return nil
}

func (k *PGPKey) verifyAt(payload, body []byte, now time.Time) (*packet.Signature, error) {
	cfg := &packet.Config{Time: func() time.Time { return now }}
	s, _, err := openpgp.VerifyDetachedSignature(pgpKeyRing{openpgp.EntityList{k.entity}}, bytes.NewReader(payload), bytes.NewReader(body), cfg)
	return s, err
}

// SignPGP makes a detached binary OpenPGP signature over payload with
// entity's signing key (the newest valid subkey with the signing flag, else
// the primary key), with SHA-256 unless the key needs a longer digest. The
// entity's private keys must be decrypted (Entity.DecryptPrivateKeys); the
// signing key must be one PGPKey accepts. The signature is verified before
// it is returned. Store it as any other signature (Push base64-encodes it
// into the layer annotation); VerifyRaw with the entity's public key
// accepts it.
func SignPGP(entity *openpgp.Entity, payload []byte) ([]byte, error) {
	if entity == nil || entity.PrimaryKey == nil {
		return nil, fmt.Errorf("%w: no OpenPGP signing key", ErrInvalidKey)
	}
	fp := pgpFingerprint(entity.PrimaryKey)
	now := time.Now()
	signing, ok := entity.SigningKey(now)
	if !ok {
		return nil, fmt.Errorf("%w: OpenPGP key %s has no key that may sign now (none with the signing flag, or all expired or revoked)", ErrUnsupportedKey, fp)
	}
	if signing.PrivateKey == nil {
		return nil, fmt.Errorf("%w: OpenPGP key %s holds no private signing key", ErrInvalidKey, fp)
	}
	if signing.PrivateKey.Encrypted {
		return nil, fmt.Errorf("%w: OpenPGP key %s; decrypt it first", ErrEncryptedKey, fp)
	}
	if err := checkPGPSigningKey(signing.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: OpenPGP key %s: %w", ErrUnsupportedKey, fp, err)
	}
	var buf bytes.Buffer
	cfg := &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return now }}
	if err := openpgp.DetachSign(&buf, entity, bytes.NewReader(payload), cfg); err != nil {
		return nil, fmt.Errorf("signing with OpenPGP key %s: %w", fp, err)
	}
	pub := &PGPKey{entity: entity, fingerprint: fp, now: func() time.Time { return now }}
	if err := pub.verify(payload, buf.Bytes()); err != nil {
		return nil, fmt.Errorf("signing with OpenPGP key %s: the signature does not verify: %w", fp, err)
	}
	return buf.Bytes(), nil
}
