package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
)

// ErrBadSignature means a signature does not verify under a key. It says
// nothing about whether the signature or the key is at fault.
var ErrBadSignature = errors.New("signature does not verify")

// ecdsaHashes lists, per curve, the digests a signature may have been made
// over, preferred first. The curve's own hash (SHA-384 for P-384, SHA-512
// for P-521) is what cosign 2.5+ and sigstore's algorithm registry use;
// SHA-256 is what older cosign releases used for every curve, and
// sigstore-go keeps accepting it for compatibility, so do we. Both are
// collision resistant, so accepting either does not weaken the check.
func ecdsaHashes(c elliptic.Curve) []crypto.Hash {
	switch c {
	case elliptic.P384():
		return []crypto.Hash{crypto.SHA384, crypto.SHA256}
	case elliptic.P521():
		return []crypto.Hash{crypto.SHA512, crypto.SHA256}
	}
	return []crypto.Hash{crypto.SHA256}
}

// VerifyRaw checks sig over payload under pub:
//
//   - ECDSA: an ASN.1 DER signature over the payload's digest, SHA-256 for
//     P-256, SHA-384 or SHA-256 for P-384, SHA-512 or SHA-256 for P-521;
//   - RSA: PKCS#1 v1.5 with SHA-256, or PSS with SHA-256 and any salt length;
//   - Ed25519: pure Ed25519 over the payload, or Ed25519ph (SHA-512
//     pre-hash, empty context), which cosign 2.5+ uses for Ed25519 keys;
//   - OpenPGP (*PGPKey): a detached OpenPGP signature over the payload,
//     binary or ASCII-armored (see PGPKey for what is checked).
//
// A mismatch returns an error wrapping ErrBadSignature; a key this package
// does not verify with returns one wrapping ErrUnsupportedKey. VerifyRaw
// never panics on malformed input. To restrict a PKIX key to one scheme,
// use PublicKey.VerifyRaw with PublicKey.SignatureAlgorithm set.
func VerifyRaw(pub crypto.PublicKey, payload, sig []byte) error {
	if err := CheckPublicKey(pub); err != nil {
		return err
	}
	if len(sig) == 0 {
		return fmt.Errorf("%w: empty signature", ErrBadSignature)
	}
	switch k := pub.(type) {
	case *PGPKey:
		return k.verify(payload, sig)
	case *ecdsa.PublicKey:
		for _, h := range ecdsaHashes(k.Curve) {
			if ecdsa.VerifyASN1(k, digest(h, payload), sig) {
				return nil
			}
		}
	case *rsa.PublicKey:
		d := digest(crypto.SHA256, payload)
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, d, sig) == nil {
			return nil
		}
		if rsa.VerifyPSS(k, crypto.SHA256, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil {
			return nil
		}
	case ed25519.PublicKey:
		if ed25519.Verify(k, payload, sig) {
			return nil
		}
		if ed25519.VerifyWithOptions(k, digest(crypto.SHA512, payload), sig, &ed25519.Options{Hash: crypto.SHA512}) == nil {
			return nil
		}
	}
	return ErrBadSignature
}

func digest(h crypto.Hash, b []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(b)
		return s[:]
	case crypto.SHA384:
		s := sha512.Sum384(b)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(b)
		return s[:]
	}
	panic("internal error: unexpected hash " + h.String())
}

// SignOption changes how SignRaw signs.
type SignOption func(*signConfig)

type signConfig struct {
	rsaPSS    bool
	ed25519ph bool
	algorithm string
}

// WithRSAPSS makes SignRaw sign RSA keys with PSS (SHA-256, salt as long as
// the hash) instead of PKCS#1 v1.5. It does not affect other key types.
func WithRSAPSS() SignOption { return func(c *signConfig) { c.rsaPSS = true } }

// WithEd25519ph makes SignRaw sign Ed25519 keys with Ed25519ph (SHA-512
// pre-hash), as cosign 2.5+ does, instead of pure Ed25519.
func WithEd25519ph() SignOption { return func(c *signConfig) { c.ed25519ph = true } }

// WithSignatureAlgorithm makes SignRaw sign with exactly the named scheme
// (see SignatureAlgorithms), such as "RSA_SIGN_PKCS1_4096_SHA512", for keys
// whose authority restricts them to it. The name must fit the key, or
// SignRaw fails; it overrides WithRSAPSS and WithEd25519ph.
func WithSignatureAlgorithm(name string) SignOption {
	return func(c *signConfig) { c.algorithm = name }
}

// SignRaw signs payload the way VerifyRaw checks it: ECDSA over the curve's
// own hash (SHA-256, SHA-384, SHA-512 for P-256, P-384, P-521), RSA with
// PKCS#1 v1.5 SHA-256 (PSS with WithRSAPSS), Ed25519 pure (Ed25519ph with
// WithEd25519ph), or exactly the scheme WithSignatureAlgorithm names. The
// signer may be a local key or a KMS-backed crypto.Signer. The signature is
// verified before it is returned (under the named scheme, if one is), so a
// signer that signs something else (a wrong hash in a KMS key's
// configuration, say) fails here rather than at admission time. OpenPGP
// keys sign with SignPGP.
func SignRaw(signer crypto.Signer, payload []byte, opts ...SignOption) ([]byte, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrInvalidKey)
	}
	var cfg signConfig
	for _, o := range opts {
		o(&cfg)
	}
	pub := signer.Public()
	if _, ok := pub.(*PGPKey); ok {
		return nil, fmt.Errorf("%w: an OpenPGP key signs with SignPGP", ErrUnsupportedKey)
	}
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	verifier := PublicKey{Key: pub}
	var (
		sig []byte
		err error
	)
	if cfg.algorithm != "" {
		name, scheme, lerr := lookupScheme(cfg.algorithm, pub)
		if lerr != nil {
			return nil, lerr
		}
		verifier.SignatureAlgorithm = name
		sig, err = scheme.sign(signer, payload)
	} else {
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			h := ecdsaHashes(k.Curve)[0]
			sig, err = signer.Sign(rand.Reader, digest(h, payload), h)
		case *rsa.PublicKey:
			d := digest(crypto.SHA256, payload)
			if cfg.rsaPSS {
				sig, err = signer.Sign(rand.Reader, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
			} else {
				sig, err = signer.Sign(rand.Reader, d, crypto.SHA256)
			}
		case ed25519.PublicKey:
			if cfg.ed25519ph {
				sig, err = signer.Sign(rand.Reader, digest(crypto.SHA512, payload), &ed25519.Options{Hash: crypto.SHA512})
			} else {
				sig, err = signer.Sign(rand.Reader, payload, crypto.Hash(0))
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("signing with %s key: %w", KeyAlgorithm(pub), err)
	}
	if err := verifier.VerifyRaw(payload, sig); err != nil {
		return nil, fmt.Errorf("signing with %s key: the signer produced a signature that does not verify: %w", KeyAlgorithm(pub), err)
	}
	return sig, nil
}
