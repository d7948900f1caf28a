package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Errors returned while reading key material. They are sentinels so callers
// can classify a failure with errors.Is; the returned errors wrap them with
// the detail (PEM block type, key size, ...). No error ever contains the key
// bytes themselves.
var (
	// ErrEmptyKey: the key data is empty or only white space.
	ErrEmptyKey = errors.New("key data is empty")
	// ErrNotBase64: publicKeyData is neither base64 nor a PEM file.
	ErrNotBase64 = errors.New("key data is not valid base64")
	// ErrNoPEM: the data holds no PEM block.
	ErrNoPEM = errors.New("key data holds no PEM block")
	// ErrPrivateKey: a private key was given where a public key belongs.
	ErrPrivateKey = errors.New("key data holds a private key; give the public key")
	// ErrEncryptedKey: the private key is encrypted (for example cosign's
	// "ENCRYPTED SIGSTORE PRIVATE KEY"); this package does not decrypt keys.
	ErrEncryptedKey = errors.New("private key is encrypted")
	// ErrUnsupportedKey: the key parses but its algorithm, curve or size is
	// not one this package verifies with.
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrInvalidKey: the PEM block's contents do not parse as a key.
	ErrInvalidKey = errors.New("invalid key")
)

// RSA key sizes accepted for verification. Below 2048 bits RSA is too weak to
// trust; above 8192 bits verification becomes a cheap way to burn the hook's
// CPU.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// PublicKey is one trusted key of an attestation authority.
type PublicKey struct {
	// ID is the key id the authority publishes (spec.publicKeyId, or keyId
	// of a spec.publicKeys entry). When empty, key ids recorded in
	// signatures are not compared, except for OpenPGP keys, whose empty ID
	// stands for their fingerprint (see NewPGPKey).
	ID string
	// Key is a public key CheckPublicKey accepts: *ecdsa.PublicKey,
	// *rsa.PublicKey, ed25519.PublicKey, or *PGPKey for OpenPGP.
	Key crypto.PublicKey
	// SignatureAlgorithm, when not empty, is the one signature scheme the
	// key verifies, named as kritis names them (see SignatureAlgorithms),
	// e.g. "RSA_PSS_2048_SHA256". It applies to PKIX keys only. A name
	// that is unknown or does not fit the key makes every verification
	// fail (fail closed); NewPKIXKey reports such mistakes up front.
	SignatureAlgorithm string
}

// NewPublicKey decodes publicKeyData as DecodePublicKeyData does and pairs the
// key with its id.
func NewPublicKey(id, publicKeyData string) (PublicKey, error) {
	k, err := DecodePublicKeyData(publicKeyData)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{ID: id, Key: k}, nil
}

// Algorithm names the key's kind as GenerateKey spells it ("ecdsa-p256",
// "rsa-3072", "ed25519"), or "unknown".
func (k PublicKey) Algorithm() string { return KeyAlgorithm(k.Key) }

// Fingerprint is "sha256:" followed by the hex SHA-256 of the key's PKIX DER
// encoding, or "" when the key cannot be encoded. It identifies a key in
// messages and logs without revealing anything secret.
func (k PublicKey) Fingerprint() string { return KeyFingerprint(k.Key) }

// String describes the key for messages: its id (if any), algorithm,
// signature algorithm (if restricted) and fingerprint (shortened, except an
// OpenPGP fingerprint, which users compare in full).
func (k PublicKey) String() string {
	fp := k.Fingerprint()
	if strings.HasPrefix(fp, "sha256:") && len(fp) > len("sha256:")+12 {
		fp = fp[:len("sha256:")+12]
	}
	desc := k.Algorithm()
	if k.SignatureAlgorithm != "" {
		desc += " " + k.SignatureAlgorithm
	}
	desc += " " + fp
	if k.ID != "" {
		return fmt.Sprintf("%s (%s)", k.ID, desc)
	}
	return desc
}

// KeyAlgorithm names a public key's kind as GenerateKey spells it, or
// returns "unknown". OpenPGP keys are "pgp-" followed by their primary
// key's kind, e.g. "pgp-rsa-3072" or "pgp-ed25519".
func KeyAlgorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *PGPKey:
		if k == nil || k.entity == nil {
			return "unknown"
		}
		return "pgp-" + pgpAlgorithm(k.entity.PrimaryKey)
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "unknown"
		}
		switch k.Curve {
		case elliptic.P256():
			return "ecdsa-p256"
		case elliptic.P384():
			return "ecdsa-p384"
		case elliptic.P521():
			return "ecdsa-p521"
		}
		return "ecdsa-" + strings.ToLower(strings.ReplaceAll(k.Curve.Params().Name, "-", ""))
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "unknown"
		}
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	case ed25519.PublicKey:
		return "ed25519"
	}
	return "unknown"
}

// KeyFingerprint is "sha256:<hex>" of the key's PKIX DER encoding, or "" when
// the key cannot be encoded. For an OpenPGP key it is "openpgp:" followed
// by the primary key's OpenPGP fingerprint in upper-case hex (as
// `gpg --fingerprint` prints it, without spaces).
func KeyFingerprint(pub crypto.PublicKey) string {
	if k, ok := pub.(*PGPKey); ok {
		if k == nil || k.entity == nil {
			return ""
		}
		return "openpgp:" + k.fingerprint
	}
	if CheckPublicKey(pub) != nil {
		// x509 panics on some malformed keys (a nil *rsa.PublicKey).
		return ""
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckPublicKey reports whether pub is a key this package verifies with:
// ECDSA on P-256, P-384 or P-521, RSA of MinRSABits to MaxRSABits bits,
// Ed25519, or an OpenPGP key made by ParsePGPPublicKey. The error wraps
// ErrUnsupportedKey.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *PGPKey:
		if k == nil || k.entity == nil {
			return fmt.Errorf("%w: empty OpenPGP key (make it with ParsePGPPublicKey)", ErrUnsupportedKey)
		}
		return nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil || k.X == nil || k.Y == nil {
			return fmt.Errorf("%w: empty ECDSA key", ErrUnsupportedKey)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s (supported: P-256, P-384, P-521)", ErrUnsupportedKey, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return fmt.Errorf("%w: empty RSA key", ErrUnsupportedKey)
		}
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("%w: RSA key of %d bits (supported: %d to %d)", ErrUnsupportedKey, bits, MinRSABits, MaxRSABits)
		}
		return nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return nil
	case nil:
		return fmt.Errorf("%w: no key", ErrUnsupportedKey)
	}
	return fmt.Errorf("%w: key type %s (supported: ECDSA P-256/P-384/P-521, RSA, Ed25519, OpenPGP)", ErrUnsupportedKey, keyTypeName(pub))
}

// keyTypeName names a key's Go type for messages without printing its value.
func keyTypeName(k any) string {
	name := fmt.Sprintf("%T", k)
	switch name {
	case "*dsa.PublicKey", "*dsa.PrivateKey":
		return "DSA"
	case "*ecdh.PublicKey", "*ecdh.PrivateKey":
		return "ECDH (X25519 or NIST ECDH)"
	}
	return name
}

// ParsePublicKeyPEM reads a public key from a PEM file. Accepted blocks:
//
//   - "PUBLIC KEY": PKIX SubjectPublicKeyInfo holding ECDSA (P-256, P-384,
//     P-521), RSA or Ed25519, as `openssl ... -pubout`, cosign and cloud KMS
//     exports write it;
//   - "RSA PUBLIC KEY": PKCS#1, as `openssl rsa -RSAPublicKey_out` writes;
//   - "CERTIFICATE": an X.509 certificate, of which only the public key is
//     used. The certificate is a key container here, nothing more: its
//     validity period, issuer, usages and chain are deliberately not
//     checked, because the authority trusts the key, not a PKI. A file with
//     a chain uses its first certificate (the leaf).
//
// "EC PARAMETERS" blocks (openssl writes one before EC keys) are skipped.
// Anything else is rejected with an error wrapping one of ErrEmptyKey,
// ErrNoPEM, ErrPrivateKey, ErrInvalidKey or ErrUnsupportedKey.
func ParsePublicKeyPEM(pemBytes []byte) (crypto.PublicKey, error) {
	if len(bytes.TrimSpace(pemBytes)) == 0 {
		return nil, ErrEmptyKey
	}
	block, err := firstPEMBlock(pemBytes)
	if err != nil {
		return nil, err
	}
	if isPrivateKeyBlock(block) {
		return nil, fmt.Errorf("%w (PEM block %q)", ErrPrivateKey, block.Type)
	}
	var pub crypto.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, pkixError(err)
		}
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block \"RSA PUBLIC KEY\" is not a PKCS#1 RSA public key", ErrInvalidKey)
		}
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block \"CERTIFICATE\" does not parse as an X.509 certificate", ErrInvalidKey)
		}
		pub = cert.PublicKey
		if pub == nil {
			return nil, fmt.Errorf("%w: certificate's key algorithm %s", ErrUnsupportedKey, cert.PublicKeyAlgorithm)
		}
	default:
		if strings.HasPrefix(block.Type, "PGP ") {
			return nil, fmt.Errorf("%w: %q is an OpenPGP armor block, not a PEM public key; an OpenPGP key goes in spec.publicKeys with keyType PGP", ErrInvalidKey, block.Type)
		}
		return nil, fmt.Errorf("%w: PEM block %q is not a public key (want \"PUBLIC KEY\", \"RSA PUBLIC KEY\" or \"CERTIFICATE\")", ErrInvalidKey, block.Type)
	}
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// pkixError turns x509's PKIX parse errors into ours, keeping "unknown
// algorithm" (a well-formed key of a kind Go cannot use, such as Ed448 or
// secp256k1) apart from garbage.
func pkixError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "unknown public key algorithm") || strings.Contains(msg, "unsupported elliptic curve") {
		return fmt.Errorf("%w: %s", ErrUnsupportedKey, strings.TrimPrefix(msg, "x509: "))
	}
	return fmt.Errorf("%w: PEM block \"PUBLIC KEY\" is not a PKIX public key", ErrInvalidKey)
}

// firstPEMBlock returns the first PEM block that is not "EC PARAMETERS".
func firstPEMBlock(data []byte) (*pem.Block, error) {
	rest := data
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			return nil, ErrNoPEM
		}
		if block.Type != "EC PARAMETERS" {
			return block, nil
		}
		rest = r
	}
}

func isPrivateKeyBlock(b *pem.Block) bool {
	return strings.Contains(b.Type, "PRIVATE KEY")
}

// DecodePublicKeyData reads an AttestationAuthority's spec.publicKeyData: the
// base64 encoding of a PEM public key file, as
// `base64 < publickey.pem | tr -d '\n'` prints it. White space anywhere in
// the base64 is ignored (so wrapped `base64` output works), and missing
// padding is tolerated. As a leniency, a value that is itself a PEM file
// (starts with "-----BEGIN") is read directly. The PEM file is then read by
// ParsePublicKeyPEM.
func DecodePublicKeyData(data string) (crypto.PublicKey, error) {
	trimmed := strings.TrimSpace(data)
	if trimmed == "" {
		return nil, ErrEmptyKey
	}
	if strings.HasPrefix(trimmed, "-----BEGIN") {
		return ParsePublicKeyPEM([]byte(trimmed))
	}
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, trimmed)
	raw, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		var rawErr error
		raw, rawErr = base64.RawStdEncoding.DecodeString(strings.TrimRight(compact, "="))
		if rawErr != nil {
			// Report the error of the padded form: its byte offset is the
			// one a user can find in the value.
			return nil, fmt.Errorf("%w (%s); it must be the base64 of a PEM public key file", ErrNotBase64, strings.TrimPrefix(err.Error(), "illegal base64 data "))
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("%w: the base64 decodes to nothing", ErrEmptyKey)
	}
	pub, err := ParsePublicKeyPEM(raw)
	if errors.Is(err, ErrNoPEM) {
		// The base64 of the DER key (what a PEM body is) is a common way
		// to paste a key: accept it when it parses as one.
		if pub, derErr := parsePublicKeyDER(raw); derErr == nil {
			return pub, nil
		}
		return nil, fmt.Errorf("%w: the base64 decodes to %d bytes that hold no PEM block; it must be the base64 of a PEM public key file (\"-----BEGIN PUBLIC KEY-----\" ...)", ErrNoPEM, len(raw))
	}
	return pub, err
}

// EncodePublicKeyData is the inverse of DecodePublicKeyData: base64 of the
// key's "PUBLIC KEY" PEM file, ready for spec.publicKeyData.
func EncodePublicKeyData(pub crypto.PublicKey) (string, error) {
	p, err := MarshalPublicKeyPEM(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(p), nil
}

// MarshalPublicKeyPEM writes pub as a PKIX "PUBLIC KEY" PEM file. A private
// key is refused rather than silently reduced to its public half, so a
// caller's mix-up cannot put private material where public is expected.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	switch pub.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey, crypto.Signer:
		return nil, fmt.Errorf("%w: marshal its Public() instead", ErrPrivateKey)
	case *PGPKey:
		return nil, fmt.Errorf("%w: an OpenPGP key has no PEM form; export it with gpg --export --armor", ErrUnsupportedKey)
	}
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Key kinds understood by GenerateKey.
const (
	KindECDSAP256 = "ecdsa-p256"
	KindECDSAP384 = "ecdsa-p384"
	KindECDSAP521 = "ecdsa-p521"
	KindRSA2048   = "rsa-2048"
	KindRSA3072   = "rsa-3072"
	KindRSA4096   = "rsa-4096"
	KindEd25519   = "ed25519"

	// DefaultKeyKind is what GenerateKey makes when no kind is given; it is
	// also cosign's default.
	DefaultKeyKind = KindECDSAP256
)

var keyGenerators = map[string]func() (crypto.Signer, error){
	KindECDSAP256: func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
	KindECDSAP384: func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) },
	KindECDSAP521: func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) },
	KindRSA2048:   func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
	KindRSA3072:   func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 3072) },
	KindRSA4096:   func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 4096) },
	KindEd25519: func() (crypto.Signer, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	},
}

// KeyKinds lists the kinds GenerateKey accepts, sorted.
func KeyKinds() []string {
	return slices.Sorted(maps.Keys(keyGenerators))
}

// GenerateKey makes a new private key of the given kind (see KeyKinds; ""
// means DefaultKeyKind).
func GenerateKey(kind string) (crypto.Signer, error) {
	if kind == "" {
		kind = DefaultKeyKind
	}
	gen, ok := keyGenerators[strings.ToLower(kind)]
	if !ok {
		return nil, fmt.Errorf("%w: key kind %q (choose one of %s)", ErrUnsupportedKey, kind, strings.Join(KeyKinds(), ", "))
	}
	k, err := gen()
	if err != nil {
		return nil, fmt.Errorf("generating %s key: %w", kind, err)
	}
	return k, nil
}

// MarshalPrivateKeyPEM writes key as an unencrypted PKCS#8 "PRIVATE KEY" PEM
// file. Protecting the file (permissions, a KMS, a Secret) is the caller's
// job.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no key", ErrInvalidKey)
	}
	if err := CheckPublicKey(key.Public()); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM reads an unencrypted private key: PKCS#8 "PRIVATE KEY",
// SEC 1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY". Encrypted keys (cosign's
// "ENCRYPTED SIGSTORE PRIVATE KEY" / "ENCRYPTED COSIGN PRIVATE KEY",
// PKCS#8 "ENCRYPTED PRIVATE KEY", legacy "Proc-Type: 4,ENCRYPTED") are
// refused with ErrEncryptedKey: decrypt them first, or sign with cosign.
func ParsePrivateKeyPEM(pemBytes []byte) (crypto.Signer, error) {
	if len(bytes.TrimSpace(pemBytes)) == 0 {
		return nil, ErrEmptyKey
	}
	block, err := firstPEMBlock(pemBytes)
	if err != nil {
		return nil, err
	}
	if strings.Contains(block.Type, "ENCRYPTED") || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w (PEM block %q); decrypt it first (for a cosign key: cosign import/export tooling, or sign with the cosign CLI)", ErrEncryptedKey, block.Type)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key (want \"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"RSA PRIVATE KEY\")", ErrInvalidKey, block.Type)
	}
	if err != nil {
		// The x509 error text carries no key material, but keep ours short
		// and uniform.
		return nil, fmt.Errorf("%w: PEM block %q does not parse as a private key", ErrInvalidKey, block.Type)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: key type %s cannot sign", ErrUnsupportedKey, keyTypeName(key))
	}
	if err := CheckPublicKey(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// parsePublicKeyDER parses a DER public key, PKIX or PKCS#1 RSA, with the
// same checks as the PEM forms.
func parsePublicKeyDER(der []byte) (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		rsaPub, rsaErr := x509.ParsePKCS1PublicKey(der)
		if rsaErr != nil {
			return nil, err
		}
		pub = rsaPub
	}
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}
