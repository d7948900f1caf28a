package attest

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func mustPEM(t testing.TB, k crypto.Signer) string {
	t.Helper()
	p, err := MarshalPublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return string(p)
}

func testImage(t testing.TB) name.Digest {
	t.Helper()
	img, err := name.NewDigest("registry.example/team/app@" + testDigest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func testPayload(t testing.TB, img name.Digest, keyID string) []byte {
	t.Helper()
	p, err := NewPayload(img.Context(), img.DigestStr(), keyID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignatureAlgorithmRestriction: a PKIX key restricted to one
// signature algorithm verifies signatures of that scheme, through
// PublicKey.VerifyRaw and through Verify, and rejects genuine signatures
// of every other scheme its key could make.
func TestSignatureAlgorithmRestriction(t *testing.T) {
	t.Parallel()
	type other struct {
		name string
		s    sigScheme // kind and hash; the key's own curve / size
	}
	var (
		pkcs1SHA256 = other{"PKCS#1 v1.5 SHA-256", sigScheme{kind: schemeRSAPKCS1, hash: crypto.SHA256}}
		pkcs1SHA512 = other{"PKCS#1 v1.5 SHA-512", sigScheme{kind: schemeRSAPKCS1, hash: crypto.SHA512}}
		pssSHA256   = other{"PSS SHA-256", sigScheme{kind: schemeRSAPSS, hash: crypto.SHA256}}
		pssSHA512   = other{"PSS SHA-512", sigScheme{kind: schemeRSAPSS, hash: crypto.SHA512}}
		ecSHA256    = other{"ECDSA SHA-256", sigScheme{kind: schemeECDSA, hash: crypto.SHA256}}
		ecSHA384    = other{"ECDSA SHA-384", sigScheme{kind: schemeECDSA, hash: crypto.SHA384}}
		ecSHA512    = other{"ECDSA SHA-512", sigScheme{kind: schemeECDSA, hash: crypto.SHA512}}
		edPure      = other{"pure Ed25519", sigScheme{kind: schemeEd25519}}
		edPH        = other{"Ed25519ph", sigScheme{kind: schemeEd25519ph}}
	)
	tests := []struct {
		alg    string
		kind   string
		others []other
	}{
		{"RSA_PSS_2048_SHA256", KindRSA2048, []other{pkcs1SHA256}},
		{"RSA_PSS_3072_SHA256", KindRSA3072, []other{pkcs1SHA256}},
		{"RSA_PSS_4096_SHA256", KindRSA4096, []other{pkcs1SHA256, pssSHA512}},
		{"RSA_PSS_4096_SHA512", KindRSA4096, []other{pssSHA256, pkcs1SHA512}},
		{"RSA_SIGN_PKCS1_2048_SHA256", KindRSA2048, []other{pssSHA256}},
		{"RSA_SIGN_PKCS1_3072_SHA256", KindRSA3072, []other{pssSHA256}},
		{"RSA_SIGN_PKCS1_4096_SHA256", KindRSA4096, []other{pssSHA256, pkcs1SHA512}},
		{"RSA_SIGN_PKCS1_4096_SHA512", KindRSA4096, []other{pkcs1SHA256, pssSHA512}},
		{"ECDSA_P256_SHA256", KindECDSAP256, []other{ecSHA384}},
		{"EC_SIGN_P256_SHA256", KindECDSAP256, []other{ecSHA384}},
		{"ECDSA_P384_SHA384", KindECDSAP384, []other{ecSHA256, ecSHA512}},
		{"EC_SIGN_P384_SHA384", KindECDSAP384, []other{ecSHA256, ecSHA512}},
		{"ECDSA_P521_SHA512", KindECDSAP521, []other{ecSHA256, ecSHA384}},
		{"EC_SIGN_P521_SHA512", KindECDSAP521, []other{ecSHA256, ecSHA384}},
		{"ED25519", KindEd25519, []other{edPH}},
		{"EC_SIGN_ED25519", KindEd25519, []other{edPH}},
		{"ED25519_PH", KindEd25519, []other{edPure}},
	}
	img := testImage(t)
	payload := testPayload(t, img, "")
	for _, tc := range tests {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			key := testKey(t, tc.kind)
			pk, err := NewPKIXKey("kms-key", mustPEM(t, key), tc.alg)
			if err != nil {
				t.Fatalf("NewPKIXKey: %v", err)
			}
			if pk.SignatureAlgorithm != tc.alg || pk.ID != "kms-key" {
				t.Fatalf("NewPKIXKey = %+v", pk)
			}
			auth := Authority{Name: "aa", Keys: []PublicKey{pk}}

			own, err := SignRaw(key, payload, WithSignatureAlgorithm(tc.alg))
			if err != nil {
				t.Fatalf("SignRaw(%s): %v", tc.alg, err)
			}
			if err := pk.VerifyRaw(payload, own); err != nil {
				t.Errorf("own scheme: VerifyRaw = %v", err)
			}
			if r := Verify(img, []Signature{{Payload: payload, Sig: own}}, auth); !r.OK || r.KeyID != "kms-key" {
				t.Errorf("own scheme: Verify = %+v, want Verified", r)
			}
			if err := pk.VerifyRaw([]byte(`{"other":1}`), own); !errors.Is(err, ErrBadSignature) {
				t.Errorf("own scheme over another payload: VerifyRaw = %v, want ErrBadSignature", err)
			}

			for _, o := range tc.others {
				sig, err := o.s.sign(key, payload)
				if err != nil {
					t.Fatalf("signing with %s: %v", o.name, err)
				}
				if !o.s.verify(key.Public(), payload, sig) {
					t.Fatalf("%s: test signature does not verify under its own scheme", o.name)
				}
				if err := pk.VerifyRaw(payload, sig); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s signature: VerifyRaw = %v, want ErrBadSignature", o.name, err)
				}
				if r := Verify(img, []Signature{{Payload: payload, Sig: sig}}, auth); r.OK || r.Reason != UntrustedKey {
					t.Errorf("%s signature: Verify = %+v, want UntrustedKey", o.name, r)
				}
			}
		})
	}
}

// TestUnrestrictedKeyUnchanged: without a signature algorithm a key still
// accepts every scheme VerifyRaw documents (and nothing more).
func TestUnrestrictedKeyUnchanged(t *testing.T) {
	t.Parallel()
	payload := []byte("payload")
	rsaKey := testKey(t, KindRSA2048)
	pk, err := NewPKIXKey("", mustPEM(t, rsaKey), "")
	if err != nil || pk.SignatureAlgorithm != "" {
		t.Fatalf("NewPKIXKey = %+v, %v", pk, err)
	}
	for _, s := range []sigScheme{{kind: schemeRSAPKCS1, hash: crypto.SHA256}, {kind: schemeRSAPSS, hash: crypto.SHA256}} {
		sig, err := s.sign(rsaKey, payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := pk.VerifyRaw(payload, sig); err != nil {
			t.Errorf("scheme %d: %v", s.kind, err)
		}
	}
	sig, err := sigScheme{kind: schemeRSAPKCS1, hash: crypto.SHA512}.sign(rsaKey, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := pk.VerifyRaw(payload, sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("SHA-512 PKCS#1 on an unrestricted key: %v, want ErrBadSignature", err)
	}
}

// TestNewPKIXKey: names are checked against the key, with errors that say
// what would fit.
func TestNewPKIXKey(t *testing.T) {
	t.Parallel()
	p256, p384 := mustPEM(t, testKey(t, KindECDSAP256)), mustPEM(t, testKey(t, KindECDSAP384))
	rsa2048, rsa3072 := mustPEM(t, testKey(t, KindRSA2048)), mustPEM(t, testKey(t, KindRSA3072))
	ed := mustPEM(t, testKey(t, KindEd25519))
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&testKey(t, KindRSA2048).(*rsa.PrivateKey).PublicKey)}))
	priv, err := MarshalPrivateKeyPEM(testKey(t, KindECDSAP256))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     string
		alg     string
		wantAlg string // on success
		wantErr error
		wantMsg []string
	}{
		{name: "no algorithm", pem: p256, alg: "", wantAlg: ""},
		{name: "lower case name is normalised", pem: p256, alg: "ecdsa_p256_sha256", wantAlg: "ECDSA_P256_SHA256"},
		{name: "surrounding space", pem: p256, alg: " EC_SIGN_P256_SHA256 ", wantAlg: "EC_SIGN_P256_SHA256"},
		{name: "PKCS#1 PEM", pem: pkcs1, alg: "RSA_PSS_2048_SHA256", wantAlg: "RSA_PSS_2048_SHA256"},
		{name: "base64 of the PEM, as publicKeyData", pem: base64.StdEncoding.EncodeToString([]byte(ed)), alg: "ED25519", wantAlg: "ED25519"},
		{name: "P-256 algorithm, P-384 key", pem: p384, alg: "ECDSA_P256_SHA256", wantErr: ErrAlgorithmMismatch,
			wantMsg: []string{"ECDSA_P256_SHA256 needs an ECDSA P-256 key", "the key is ecdsa-p384", "it fits ECDSA_P384_SHA384, EC_SIGN_P384_SHA384"}},
		{name: "P-384 algorithm, P-256 key", pem: p256, alg: "EC_SIGN_P384_SHA384", wantErr: ErrAlgorithmMismatch, wantMsg: []string{"needs an ECDSA P-384 key"}},
		{name: "RSA 2048 algorithm, RSA 3072 key", pem: rsa3072, alg: "RSA_PSS_2048_SHA256", wantErr: ErrAlgorithmMismatch,
			wantMsg: []string{"needs an RSA key of 2048 bits", "the key is rsa-3072", "RSA_PSS_3072_SHA256"}},
		{name: "RSA 4096 algorithm, RSA 2048 key", pem: rsa2048, alg: "RSA_SIGN_PKCS1_4096_SHA512", wantErr: ErrAlgorithmMismatch, wantMsg: []string{"needs an RSA key of 4096 bits"}},
		{name: "Ed25519 algorithm, ECDSA key", pem: p256, alg: "ED25519", wantErr: ErrAlgorithmMismatch, wantMsg: []string{"needs an Ed25519 key"}},
		{name: "ECDSA algorithm, RSA key", pem: rsa2048, alg: "ECDSA_P384_SHA384", wantErr: ErrAlgorithmMismatch},
		{name: "RSA algorithm, Ed25519 key", pem: ed, alg: "RSA_PSS_3072_SHA256", wantErr: ErrAlgorithmMismatch, wantMsg: []string{"the key is ed25519"}},
		{name: "unknown RSA size", pem: rsa2048, alg: "RSA_PSS_1024_SHA256", wantErr: ErrUnknownAlgorithm,
			wantMsg: []string{`"RSA_PSS_1024_SHA256"`, "known: ", "RSA_PSS_2048_SHA256"}},
		{name: "a hash is not an algorithm", pem: p256, alg: "SHA256", wantErr: ErrUnknownAlgorithm},
		{name: "Cloud KMS name not in the list", pem: p256, alg: "EC_SIGN_SECP256K1_SHA256", wantErr: ErrUnknownAlgorithm},
		{name: "empty PEM", pem: "", alg: "ECDSA_P256_SHA256", wantErr: ErrEmptyKey},
		{name: "garbage", pem: "not a key", alg: "ECDSA_P256_SHA256", wantErr: ErrNoPEM},
		{name: "private key", pem: string(priv), alg: "ECDSA_P256_SHA256", wantErr: ErrPrivateKey},
		{name: "OpenPGP key in a PKIX entry", pem: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxsBN\n-----END PGP PUBLIC KEY BLOCK-----\n", wantErr: ErrInvalidKey, wantMsg: []string{"keyType PGP"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := NewPKIXKey("id", tc.pem, tc.alg)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("NewPKIXKey: %v", err)
				}
				if k.SignatureAlgorithm != tc.wantAlg || k.ID != "id" || CheckPublicKey(k.Key) != nil {
					t.Errorf("NewPKIXKey = %+v, want algorithm %q", k, tc.wantAlg)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("NewPKIXKey error = %v, want %v", err, tc.wantErr)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
			if strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "MFk") {
				t.Errorf("error repeats key bytes: %v", err)
			}
		})
	}
}

// TestMisconfiguredAlgorithmFailsClosed: a PublicKey built by hand with a
// bad signature algorithm verifies nothing, and Verify says why.
func TestMisconfiguredAlgorithmFailsClosed(t *testing.T) {
	t.Parallel()
	img := testImage(t)
	payload := testPayload(t, img, "")
	key := testKey(t, KindECDSAP384)
	sig, err := SignRaw(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg     string
		wantErr error
	}{
		{"ECDSA_P256_SHA256", ErrAlgorithmMismatch},
		{"RSA_PSS_2048_SHA256", ErrAlgorithmMismatch},
		{"NO_SUCH_ALGORITHM", ErrUnknownAlgorithm},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			pk := PublicKey{ID: "k", Key: key.Public(), SignatureAlgorithm: tc.alg}
			if err := pk.VerifyRaw(payload, sig); !errors.Is(err, tc.wantErr) {
				t.Errorf("VerifyRaw = %v, want %v", err, tc.wantErr)
			}
			r := Verify(img, []Signature{{Payload: payload, Sig: sig}}, Authority{Name: "aa", Keys: []PublicKey{pk}})
			if r.OK || r.Reason != UntrustedKey || !strings.Contains(r.Detail, "key k: ") || !strings.Contains(r.Detail, tc.alg) {
				t.Errorf("Verify = %+v, want UntrustedKey naming the key and %s", r, tc.alg)
			}
		})
	}
	// A literal with a lower-case, fitting name works like NewPKIXKey's.
	pk := PublicKey{Key: key.Public(), SignatureAlgorithm: "ecdsa_p384_sha384"}
	if err := pk.VerifyRaw(payload, sig); err != nil {
		t.Errorf("lower-case literal: %v", err)
	}
}

func TestSignRawWithSignatureAlgorithm(t *testing.T) {
	t.Parallel()
	key := testKey(t, KindECDSAP256)
	if _, err := SignRaw(key, []byte("p"), WithSignatureAlgorithm("ECDSA_P384_SHA384")); !errors.Is(err, ErrAlgorithmMismatch) {
		t.Errorf("mismatched algorithm: %v, want ErrAlgorithmMismatch", err)
	}
	if _, err := SignRaw(key, []byte("p"), WithSignatureAlgorithm("nope")); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("unknown algorithm: %v, want ErrUnknownAlgorithm", err)
	}
	pk := PublicKey{ID: "k", Key: key.Public(), SignatureAlgorithm: "ECDSA_P256_SHA256"}
	if s := pk.String(); !strings.Contains(s, "ECDSA_P256_SHA256") || !strings.HasPrefix(s, "k (ecdsa-p256 ") {
		t.Errorf("String = %q", s)
	}
}

func TestSignatureAlgorithms(t *testing.T) {
	t.Parallel()
	got := SignatureAlgorithms()
	if !slices.IsSorted(got) {
		t.Errorf("not sorted: %v", got)
	}
	for _, want := range []string{
		"RSA_PSS_2048_SHA256", "RSA_PSS_3072_SHA256", "RSA_PSS_4096_SHA256", "RSA_PSS_4096_SHA512",
		"RSA_SIGN_PKCS1_2048_SHA256", "RSA_SIGN_PKCS1_3072_SHA256", "RSA_SIGN_PKCS1_4096_SHA256", "RSA_SIGN_PKCS1_4096_SHA512",
		"ECDSA_P256_SHA256", "EC_SIGN_P256_SHA256", "ECDSA_P384_SHA384", "EC_SIGN_P384_SHA384",
		"ECDSA_P521_SHA512", "EC_SIGN_P521_SHA512", "ED25519",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("SignatureAlgorithms lacks %s", want)
		}
	}
}
