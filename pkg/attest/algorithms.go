package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Errors about a PKIX key's signature algorithm restriction.
var (
	// ErrUnknownAlgorithm: the signature algorithm name is not one of
	// SignatureAlgorithms.
	ErrUnknownAlgorithm = errors.New("unknown signature algorithm")
	// ErrAlgorithmMismatch: the signature algorithm does not fit the key
	// (another key type, curve or RSA size), or was given for a key that
	// takes none (OpenPGP).
	ErrAlgorithmMismatch = errors.New("signature algorithm does not fit the key")
)

type schemeKind int

const (
	schemeRSAPKCS1 schemeKind = iota + 1
	schemeRSAPSS
	schemeECDSA
	schemeEd25519
	schemeEd25519ph
)

// sigScheme is one signature algorithm a PKIX key may be restricted to.
type sigScheme struct {
	kind  schemeKind
	bits  int            // RSA: the modulus size, exactly
	curve elliptic.Curve // ECDSA
	hash  crypto.Hash    // RSA, ECDSA: the message digest
}

// needs describes the key a scheme needs, for messages.
func (s sigScheme) needs() string {
	switch s.kind {
	case schemeRSAPKCS1, schemeRSAPSS:
		return fmt.Sprintf("an RSA key of %d bits", s.bits)
	case schemeECDSA:
		return "an ECDSA " + s.curve.Params().Name + " key"
	}
	return "an Ed25519 key"
}

// fits reports whether pub is the key the scheme needs.
func (s sigScheme) fits(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return (s.kind == schemeRSAPKCS1 || s.kind == schemeRSAPSS) && k != nil && k.N != nil && k.N.BitLen() == s.bits
	case *ecdsa.PublicKey:
		return s.kind == schemeECDSA && k != nil && k.Curve == s.curve
	case ed25519.PublicKey:
		return s.kind == schemeEd25519 || s.kind == schemeEd25519ph
	}
	return false
}

// verify checks sig over payload under pub, which fits s.
func (s sigScheme) verify(pub crypto.PublicKey, payload, sig []byte) bool {
	switch s.kind {
	case schemeRSAPKCS1:
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), s.hash, digest(s.hash, payload), sig) == nil
	case schemeRSAPSS:
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), s.hash, digest(s.hash, payload), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case schemeECDSA:
		return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest(s.hash, payload), sig)
	case schemeEd25519:
		return ed25519.Verify(pub.(ed25519.PublicKey), payload, sig)
	case schemeEd25519ph:
		return ed25519.VerifyWithOptions(pub.(ed25519.PublicKey), digest(crypto.SHA512, payload), sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	}
	return false
}

// signatureAlgorithms are kritis's (and Binary Authorization's) names for
// PKIX signature schemes, plus ED25519 (pure Ed25519; Cloud KMS's
// EC_SIGN_ED25519 is the same) and ED25519_PH (Ed25519ph, which cosign 2.5
// and later use for Ed25519 keys).
var signatureAlgorithms = map[string]sigScheme{
	"RSA_PSS_2048_SHA256":        {kind: schemeRSAPSS, bits: 2048, hash: crypto.SHA256},
	"RSA_PSS_3072_SHA256":        {kind: schemeRSAPSS, bits: 3072, hash: crypto.SHA256},
	"RSA_PSS_4096_SHA256":        {kind: schemeRSAPSS, bits: 4096, hash: crypto.SHA256},
	"RSA_PSS_4096_SHA512":        {kind: schemeRSAPSS, bits: 4096, hash: crypto.SHA512},
	"RSA_SIGN_PKCS1_2048_SHA256": {kind: schemeRSAPKCS1, bits: 2048, hash: crypto.SHA256},
	"RSA_SIGN_PKCS1_3072_SHA256": {kind: schemeRSAPKCS1, bits: 3072, hash: crypto.SHA256},
	"RSA_SIGN_PKCS1_4096_SHA256": {kind: schemeRSAPKCS1, bits: 4096, hash: crypto.SHA256},
	"RSA_SIGN_PKCS1_4096_SHA512": {kind: schemeRSAPKCS1, bits: 4096, hash: crypto.SHA512},
	"ECDSA_P256_SHA256":          {kind: schemeECDSA, curve: elliptic.P256(), hash: crypto.SHA256},
	"EC_SIGN_P256_SHA256":        {kind: schemeECDSA, curve: elliptic.P256(), hash: crypto.SHA256},
	"ECDSA_P384_SHA384":          {kind: schemeECDSA, curve: elliptic.P384(), hash: crypto.SHA384},
	"EC_SIGN_P384_SHA384":        {kind: schemeECDSA, curve: elliptic.P384(), hash: crypto.SHA384},
	"ECDSA_P521_SHA512":          {kind: schemeECDSA, curve: elliptic.P521(), hash: crypto.SHA512},
	"EC_SIGN_P521_SHA512":        {kind: schemeECDSA, curve: elliptic.P521(), hash: crypto.SHA512},
	"ED25519":                    {kind: schemeEd25519},
	"EC_SIGN_ED25519":            {kind: schemeEd25519},
	"ED25519_PH":                 {kind: schemeEd25519ph},
}

// SignatureAlgorithms lists the names a PKIX key's signature algorithm may
// take (PublicKey.SignatureAlgorithm, NewPKIXKey, WithSignatureAlgorithm),
// sorted. Names are matched case-insensitively.
func SignatureAlgorithms() []string {
	return slices.Sorted(maps.Keys(signatureAlgorithms))
}

// lookupScheme finds the scheme of a signature algorithm name and checks
// that it fits pub. The errors wrap ErrUnknownAlgorithm or
// ErrAlgorithmMismatch and say what would fit.
func lookupScheme(name string, pub crypto.PublicKey) (string, sigScheme, error) {
	canonical := strings.ToUpper(strings.TrimSpace(name))
	s, ok := signatureAlgorithms[canonical]
	if !ok {
		return "", sigScheme{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownAlgorithm, truncate(name, 64), strings.Join(SignatureAlgorithms(), ", "))
	}
	if _, isPGP := pub.(*PGPKey); isPGP {
		return "", sigScheme{}, fmt.Errorf("%w: signatureAlgorithm %s applies to PKIX keys only; an OpenPGP key takes none", ErrAlgorithmMismatch, canonical)
	}
	if !s.fits(pub) {
		fitting := algorithmsFor(pub)
		hint := "no signature algorithm fits it"
		if len(fitting) > 0 {
			hint = "it fits " + strings.Join(fitting, ", ")
		}
		return "", sigScheme{}, fmt.Errorf("%w: signatureAlgorithm %s needs %s, but the key is %s (%s)", ErrAlgorithmMismatch, canonical, s.needs(), KeyAlgorithm(pub), hint)
	}
	return canonical, s, nil
}

// algorithmsFor lists the signature algorithms that fit pub, sorted.
func algorithmsFor(pub crypto.PublicKey) []string {
	var out []string
	for _, n := range SignatureAlgorithms() {
		if signatureAlgorithms[n].fits(pub) {
			out = append(out, n)
		}
	}
	return out
}

// NewPKIXKey makes the PublicKey of a spec.publicKeys entry of keyType
// PKIX: id is its keyId, pemText its pkixPublicKey.publicKeyPem (a PEM file
// as ParsePublicKeyPEM reads it; as a leniency, the base64 of one, as
// publicKeyData holds it, is accepted too), and signatureAlgorithm its
// pkixPublicKey.signatureAlgorithm. An empty signatureAlgorithm lets the key
// verify every scheme VerifyRaw accepts for it; otherwise the name must be
// one of SignatureAlgorithms (any case; it is stored upper-case) and fit the
// key: the same key type, curve and, for RSA, modulus size. Errors wrap
// ErrUnknownAlgorithm, ErrAlgorithmMismatch or one of the key-reading
// errors.
func NewPKIXKey(id, pemText, signatureAlgorithm string) (PublicKey, error) {
	pub, err := ParsePublicKeyPEM([]byte(pemText))
	if errors.Is(err, ErrNoPEM) {
		if k, b64err := DecodePublicKeyData(pemText); b64err == nil {
			pub, err = k, nil
		}
	}
	if err != nil {
		return PublicKey{}, err
	}
	k := PublicKey{ID: id, Key: pub}
	if strings.TrimSpace(signatureAlgorithm) != "" {
		name, _, err := lookupScheme(signatureAlgorithm, pub)
		if err != nil {
			return PublicKey{}, err
		}
		k.SignatureAlgorithm = name
	}
	return k, nil
}

// VerifyRaw checks sig over payload under the key, honouring its
// SignatureAlgorithm: when set, only that scheme is accepted (a PKCS#1 v1.5
// signature does not verify under an RSA_PSS_* key, nor a SHA-256 one
// under RSA_*_4096_SHA512 or ECDSA_P384_SHA384), and a name that is unknown
// or does not fit the key is an error wrapping ErrUnknownAlgorithm or
// ErrAlgorithmMismatch, so a misconfigured key verifies nothing. Without
// one it is the package-level VerifyRaw.
func (k PublicKey) VerifyRaw(payload, sig []byte) error {
	if k.SignatureAlgorithm == "" {
		return VerifyRaw(k.Key, payload, sig)
	}
	if err := CheckPublicKey(k.Key); err != nil {
		return err
	}
	name, s, err := lookupScheme(k.SignatureAlgorithm, k.Key)
	if err != nil {
		return err
	}
	if len(sig) == 0 {
		return fmt.Errorf("%w: empty signature", ErrBadSignature)
	}
	if !s.verify(k.Key, payload, sig) {
		return fmt.Errorf("%w under %s", ErrBadSignature, name)
	}
	return nil
}

// sign makes a signature of scheme s with signer, whose public key fits s.
func (s sigScheme) sign(signer crypto.Signer, payload []byte) ([]byte, error) {
	switch s.kind {
	case schemeRSAPKCS1, schemeECDSA:
		return signer.Sign(rand.Reader, digest(s.hash, payload), s.hash)
	case schemeRSAPSS:
		return signer.Sign(rand.Reader, digest(s.hash, payload), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: s.hash})
	case schemeEd25519:
		return signer.Sign(rand.Reader, payload, crypto.Hash(0))
	case schemeEd25519ph:
		return signer.Sign(rand.Reader, digest(crypto.SHA512, payload), &ed25519.Options{Hash: crypto.SHA512})
	}
	return nil, fmt.Errorf("%w: internal error: scheme %d", ErrUnknownAlgorithm, s.kind)
}
