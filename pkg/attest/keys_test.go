package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

// TestKeyMaterial: every supported key kind and scheme signs, verifies its
// own signature (also through publicKeyData), and rejects wrong ones.
func TestKeyMaterial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		kind string
		opts []SignOption
	}{
		{name: "ECDSA P-256 SHA-256", kind: KindECDSAP256},
		{name: "ECDSA P-384 SHA-384", kind: KindECDSAP384},
		{name: "ECDSA P-521 SHA-512", kind: KindECDSAP521},
		{name: "RSA 2048 PKCS1v15 SHA-256", kind: KindRSA2048},
		{name: "RSA 3072 PKCS1v15 SHA-256", kind: KindRSA3072},
		{name: "RSA 4096 PKCS1v15 SHA-256", kind: KindRSA4096},
		{name: "RSA 2048 PSS SHA-256", kind: KindRSA2048, opts: []SignOption{WithRSAPSS()}},
		{name: "RSA 3072 PSS SHA-256", kind: KindRSA3072, opts: []SignOption{WithRSAPSS()}},
		{name: "RSA 4096 PSS SHA-256", kind: KindRSA4096, opts: []SignOption{WithRSAPSS()}},
		{name: "Ed25519", kind: KindEd25519},
		{name: "Ed25519ph", kind: KindEd25519, opts: []SignOption{WithEd25519ph()}},
	}
	payload := []byte(`{"critical":{}}`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := testKey(t, tc.kind)
			if got := KeyAlgorithm(key.Public()); got != tc.kind {
				t.Errorf("KeyAlgorithm = %q, want %q", got, tc.kind)
			}
			sig, err := SignRaw(key, payload, tc.opts...)
			if err != nil {
				t.Fatalf("SignRaw: %v", err)
			}
			// Through publicKeyData, as an authority delivers the key.
			pemBytes, err := MarshalPublicKeyPEM(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			pub, err := DecodePublicKeyData(base64.StdEncoding.EncodeToString(pemBytes))
			if err != nil {
				t.Fatalf("DecodePublicKeyData: %v", err)
			}
			if err := VerifyRaw(pub, payload, sig); err != nil {
				t.Errorf("own signature: %v", err)
			}

			other := testKey(t, "k2")
			otherSig, err := SignRaw(other, payload)
			if err != nil {
				t.Fatal(err)
			}
			wrongPayloadSig, err := SignRaw(key, []byte(`{"critical":{"x":1}}`), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			flipped := bytes.Clone(sig)
			flipped[len(flipped)/2] ^= 0x40
			for name, bad := range map[string][]byte{
				"signature over another payload": wrongPayloadSig,
				"signature by another key":       otherSig,
				"signature with a flipped bit":   flipped,
				"truncated signature":            sig[:len(sig)-1],
				"empty signature":                nil,
				"garbage":                        []byte("garbage"),
			} {
				if err := VerifyRaw(pub, payload, bad); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s: VerifyRaw = %v, want ErrBadSignature", name, err)
				}
			}
		})
	}
}

// TestECDSASHA256Compat: P-384 and P-521 signatures over SHA-256 (what
// cosign before 2.5 made) verify; a P-256 signature over SHA-384 does not.
func TestECDSASHA256Compat(t *testing.T) {
	t.Parallel()
	payload := []byte("payload")
	for _, tc := range []struct {
		kind string
		hash crypto.Hash
		ok   bool
	}{
		{KindECDSAP384, crypto.SHA256, true},
		{KindECDSAP521, crypto.SHA256, true},
		{KindECDSAP521, crypto.SHA384, false},
		{KindECDSAP256, crypto.SHA384, false},
	} {
		t.Run(tc.kind+" "+tc.hash.String(), func(t *testing.T) {
			t.Parallel()
			key := testKey(t, tc.kind).(*ecdsa.PrivateKey)
			sig, err := ecdsa.SignASN1(rand.Reader, key, digest(tc.hash, payload))
			if err != nil {
				t.Fatal(err)
			}
			err = VerifyRaw(key.Public(), payload, sig)
			if (err == nil) != tc.ok {
				t.Errorf("VerifyRaw = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestPublicKeyDataForms: the ways a user may reasonably write
// publicKeyData.
func TestPublicKeyDataForms(t *testing.T) {
	t.Parallel()
	ec := testKey(t, KindECDSAP256)
	rsaKey := testKey(t, KindRSA2048).(*rsa.PrivateKey)
	ecPEM, _ := MarshalPublicKeyPEM(ec.Public())
	pkcs1PEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})
	b64 := base64.StdEncoding.EncodeToString
	wrapped := func(s string) string { // like `base64` without -w0
		var b strings.Builder
		for len(s) > 76 {
			b.WriteString(s[:76] + "\n")
			s = s[76:]
		}
		return b.String() + s + "\n"
	}
	tests := []struct {
		name string
		data string
		want crypto.PublicKey
	}{
		{"base64 of PUBLIC KEY PEM", b64(ecPEM), ec.Public()},
		{"base64 of RSA PUBLIC KEY PEM", b64(pkcs1PEM), &rsaKey.PublicKey},
		{"base64 wrapped at 76 columns", wrapped(b64(ecPEM)), ec.Public()},
		{"base64 with surrounding white space", "\n  " + b64(ecPEM) + " \r\n", ec.Public()},
		{"base64 without padding", strings.TrimRight(b64(append(ecPEM, '\n')), "="), ec.Public()},
		{"PEM directly", string(ecPEM), ec.Public()},
		{"PEM directly with leading white space", "\n" + string(pkcs1PEM), &rsaKey.PublicKey},
		{"base64 of PEM with EC PARAMETERS first", b64(append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), ecPEM...)), ec.Public()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodePublicKeyData(tc.data)
			if err != nil {
				t.Fatalf("DecodePublicKeyData: %v", err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.want) {
				t.Error("decoded another key")
			}
		})
	}
	t.Run("EncodePublicKeyData round trip", func(t *testing.T) {
		t.Parallel()
		s, err := EncodePublicKeyData(ec.Public())
		if err != nil {
			t.Fatal(err)
		}
		pk, err := NewPublicKey("kms-key-1", s)
		if err != nil {
			t.Fatal(err)
		}
		if pk.ID != "kms-key-1" || pk.Algorithm() != KindECDSAP256 || !strings.HasPrefix(pk.Fingerprint(), "sha256:") {
			t.Errorf("NewPublicKey = %v", pk)
		}
		if !strings.HasPrefix(pk.String(), "kms-key-1 (ecdsa-p256 sha256:") {
			t.Errorf("String() = %q", pk.String())
		}
	})
}

// selfSignedCert makes an expired self-signed certificate for key.
func selfSignedCert(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kms export"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestBadAuthorityData: whatever an authority's publicKeyData holds, decoding
// returns a clear, typed error (or, for a certificate, its key) and never
// panics or echoes key bytes.
func TestBadAuthorityData(t *testing.T) {
	t.Parallel()
	ec := testKey(t, KindECDSAP256).(*ecdsa.PrivateKey)
	rsaKey := testKey(t, KindRSA2048).(*rsa.PrivateKey)
	b64 := base64.StdEncoding.EncodeToString
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	pkix := func(k crypto.PublicKey) []byte {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("PUBLIC KEY", der)
	}
	readTestdata := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cert := selfSignedCert(t, ec)

	tests := []struct {
		name    string
		data    string
		wantErr error  // nil: accepted
		wantMsg string // substring of the error
	}{
		{name: "empty", data: "", wantErr: ErrEmptyKey, wantMsg: "key data is empty"},
		{name: "only white space", data: " \n\t", wantErr: ErrEmptyKey, wantMsg: "empty"},
		{name: "not base64", data: "this is not base64!", wantErr: ErrNotBase64, wantMsg: "not valid base64"},
		{name: "base64 of nothing but white space", data: b64([]byte("  \n")), wantErr: ErrEmptyKey, wantMsg: "decodes to nothing"},
		{name: "base64 of garbage", data: b64([]byte("garbage, not a key")), wantErr: ErrNoPEM, wantMsg: "hold no PEM block"},
		{name: "base64 of DER without PEM armour", data: b64(pkcs8), wantErr: ErrNoPEM, wantMsg: "must be the base64 of a PEM public key file"},
		{name: "base64 of PEM with garbage body", data: b64(pemOf("PUBLIC KEY", []byte("garbage"))), wantErr: ErrInvalidKey, wantMsg: "not a PKIX public key"},
		{name: "base64 of RSA PUBLIC KEY with garbage body", data: b64(pemOf("RSA PUBLIC KEY", []byte("garbage"))), wantErr: ErrInvalidKey, wantMsg: "not a PKCS#1 RSA public key"},
		{name: "base64 of unrelated PEM block", data: b64(pemOf("NEW CERTIFICATE REQUEST", []byte("x"))), wantErr: ErrInvalidKey, wantMsg: `"NEW CERTIFICATE REQUEST" is not a public key`},
		{name: "PEM private key PKCS8", data: b64(pemOf("PRIVATE KEY", pkcs8)), wantErr: ErrPrivateKey, wantMsg: "holds a private key; give the public key"},
		{name: "PEM private key SEC1", data: b64(pemOf("EC PRIVATE KEY", sec1)), wantErr: ErrPrivateKey, wantMsg: "give the public key"},
		{name: "PEM private key PKCS1", data: b64(pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))), wantErr: ErrPrivateKey, wantMsg: "give the public key"},
		{name: "PEM private key given directly", data: string(pemOf("PRIVATE KEY", pkcs8)), wantErr: ErrPrivateKey, wantMsg: "give the public key"},
		{name: "cosign encrypted private key", data: b64(pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", []byte(`{"kdf":{}}`))), wantErr: ErrPrivateKey, wantMsg: "give the public key"},
		{name: "certificate accepted as key container even expired", data: b64(cert)},
		{name: "certificate with garbage body", data: b64(pemOf("CERTIFICATE", []byte("garbage"))), wantErr: ErrInvalidKey, wantMsg: "does not parse as an X.509 certificate"},
		{name: "DSA key", data: b64(readTestdata("dsa-public.pem")), wantErr: ErrUnsupportedKey, wantMsg: "DSA"},
		{name: "Ed448 key", data: b64(readTestdata("ed448-public.pem")), wantErr: ErrUnsupportedKey, wantMsg: "unsupported key"},
		{name: "secp256k1 key", data: b64(readTestdata("secp256k1-public.pem")), wantErr: ErrUnsupportedKey, wantMsg: "unsupported key"},
		{name: "ECDSA P-224 key", data: b64(pkix(p224.Public())), wantErr: ErrUnsupportedKey, wantMsg: "ECDSA curve P-224"},
		{name: "X25519 key", data: b64(pkix(x25519.PublicKey())), wantErr: ErrUnsupportedKey, wantMsg: "ECDH"},
		{name: "RSA 1024 key", data: b64(pkix(rsa1024.Public())), wantErr: ErrUnsupportedKey, wantMsg: "RSA key of 1024 bits (supported: 2048 to 8192)"},
		{name: "RSA 1024 key as PKCS1", data: b64(pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa1024.PublicKey))), wantErr: ErrUnsupportedKey, wantMsg: "1024 bits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodePublicKeyData(tc.data)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("DecodePublicKeyData: %v", err)
				}
				if !ec.PublicKey.Equal(got) {
					t.Error("certificate gave another key")
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("DecodePublicKeyData error = %v, want errors.Is %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			// The message never repeats the input (a private key!).
			if len(tc.data) > 16 && strings.Contains(err.Error(), strings.TrimSpace(tc.data)[:16]) {
				t.Errorf("error %q echoes the key data", err)
			}
			if got != nil {
				t.Errorf("got a key %T along with the error", got)
			}
		})
	}
}

func TestParsePublicKeyPEMNoPEM(t *testing.T) {
	t.Parallel()
	for name, in := range map[string][]byte{
		"nil":     nil,
		"text":    []byte("hello"),
		"bad pem": []byte("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n"),
	} {
		if _, err := ParsePublicKeyPEM(in); err == nil {
			t.Errorf("%s: ParsePublicKeyPEM accepted it", name)
		}
	}
}

func TestGenerateAndPrivateKeyPEM(t *testing.T) {
	t.Parallel()
	if got, want := strings.Join(KeyKinds(), ","), "ecdsa-p256,ecdsa-p384,ecdsa-p521,ed25519,rsa-2048,rsa-3072,rsa-4096"; got != want {
		t.Errorf("KeyKinds = %s, want %s", got, want)
	}
	if _, err := GenerateKey("dsa-1024"); !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "ecdsa-p256, ecdsa-p384") {
		t.Errorf("GenerateKey(dsa-1024) error = %v", err)
	}
	def, err := GenerateKey("")
	if err != nil || KeyAlgorithm(def.Public()) != DefaultKeyKind {
		t.Errorf("GenerateKey(\"\") = %T, %v", def, err)
	}
	for _, kind := range KeyKinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			key := testKey(t, kind)
			p, err := MarshalPrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(p, []byte("-----BEGIN PRIVATE KEY-----")) {
				t.Errorf("MarshalPrivateKeyPEM wrote %q...", p[:30])
			}
			back, err := ParsePrivateKeyPEM(p)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Error("round trip gave another key")
			}
			if _, err := MarshalPublicKeyPEM(key); !errors.Is(err, ErrPrivateKey) {
				t.Errorf("MarshalPublicKeyPEM(private key) error = %v, want ErrPrivateKey", err)
			}
		})
	}

	ec := testKey(t, KindECDSAP256).(*ecdsa.PrivateKey)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	rsaKey := testKey(t, KindRSA2048).(*rsa.PrivateKey)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		wantMsg string
	}{
		{name: "EC PRIVATE KEY after EC PARAMETERS as openssl writes", in: append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), pemOf("EC PRIVATE KEY", sec1)...)},
		{name: "RSA PRIVATE KEY", in: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{name: "cosign encrypted key", in: pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", []byte("{}")), wantErr: ErrEncryptedKey, wantMsg: `private key is encrypted (PEM block "ENCRYPTED SIGSTORE PRIVATE KEY")`},
		{name: "old cosign encrypted key", in: pemOf("ENCRYPTED COSIGN PRIVATE KEY", []byte("{}")), wantErr: ErrEncryptedKey, wantMsg: "encrypted"},
		{name: "PKCS8 encrypted key", in: pemOf("ENCRYPTED PRIVATE KEY", []byte("x")), wantErr: ErrEncryptedKey, wantMsg: "encrypted"},
		{name: "legacy Proc-Type encrypted key", in: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte("x")}), wantErr: ErrEncryptedKey, wantMsg: "encrypted"},
		{name: "public key", in: pemOf("PUBLIC KEY", []byte("x")), wantErr: ErrInvalidKey, wantMsg: "is not a private key"},
		{name: "garbage body", in: pemOf("PRIVATE KEY", []byte("garbage")), wantErr: ErrInvalidKey, wantMsg: "does not parse as a private key"},
		{name: "empty", in: nil, wantErr: ErrEmptyKey},
		{name: "no PEM", in: []byte("x"), wantErr: ErrNoPEM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParsePrivateKeyPEM(tc.in)
			if tc.wantErr == nil {
				if err != nil || k == nil {
					t.Fatalf("ParsePrivateKeyPEM = %v, %v", k, err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("ParsePrivateKeyPEM error = %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
		})
	}
}

func TestUnsupportedKeysNeverPanic(t *testing.T) {
	t.Parallel()
	for name, k := range map[string]crypto.PublicKey{
		"nil":                   nil,
		"nil ECDSA":             (*ecdsa.PublicKey)(nil),
		"ECDSA without point":   &ecdsa.PublicKey{Curve: elliptic.P256()},
		"nil RSA":               (*rsa.PublicKey)(nil),
		"RSA without modulus":   &rsa.PublicKey{E: 65537},
		"short Ed25519":         ed25519.PublicKey{1, 2, 3},
		"string":                "key",
		"RSA value not pointer": rsa.PublicKey{},
	} {
		if err := VerifyRaw(k, []byte("p"), []byte("s")); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s: VerifyRaw = %v, want ErrUnsupportedKey", name, err)
		}
		if _, err := MarshalPublicKeyPEM(k); err == nil {
			t.Errorf("%s: MarshalPublicKeyPEM accepted it", name)
		}
		_ = KeyAlgorithm(k)
		_ = KeyFingerprint(k)
	}
	if _, err := SignRaw(nil, []byte("p")); err == nil {
		t.Error("SignRaw(nil) succeeded")
	}
}

// TestDecodePublicKeyDataDER: the base64 of the DER key (a PEM body pasted
// alone) is accepted; its base64 holds '+' and '/' more often than not.
func TestDecodePublicKeyDataDER(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{KindECDSAP256, KindEd25519, KindRSA2048} {
		key, err := GenerateKey(kind)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		pub, err := DecodePublicKeyData(base64.StdEncoding.EncodeToString(der))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if KeyFingerprint(pub) != KeyFingerprint(key.Public()) {
			t.Fatalf("%s: decoded another key", kind)
		}
	}
	if _, err := DecodePublicKeyData(base64.StdEncoding.EncodeToString([]byte{0x30, 0x03, 0x02, 0x01, 0x01})); err == nil {
		t.Fatal("DER that is not a key: want an error")
	}
}
