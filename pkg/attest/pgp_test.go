package attest

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func newTestEntity(cfg *packet.Config) *openpgp.Entity {
	e, err := openpgp.NewEntity("Test Signer", "kritis test", "signer@example.com", cfg)
	if err != nil {
		panic(err)
	}
	return e
}

// Entities are made once per test binary. RSA is what kritis-era keys are;
// EdDSA is what current gpg makes by default, and is fast to generate.
var (
	pgpRSAEntity   = sync.OnceValue(func() *openpgp.Entity { return newTestEntity(&packet.Config{RSABits: 2048}) })
	pgpEdEntity    = sync.OnceValue(func() *openpgp.Entity { return newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}) })
	pgpOtherEntity = sync.OnceValue(func() *openpgp.Entity { return newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}) })
)

// armorEntity writes e's public key (or, with private, its secret key) in
// an armor block of the given type ("" for the natural one).
func armorEntity(t testing.TB, e *openpgp.Entity, private bool, blockType string) string {
	t.Helper()
	if blockType == "" {
		blockType = openpgp.PublicKeyType
		if private {
			blockType = openpgp.PrivateKeyType
		}
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if private {
		err = e.SerializePrivateWithoutSigning(w, nil)
	} else {
		err = e.Serialize(w)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func armorBytes(t testing.TB, blockType string, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, blockType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustPGPKey(t testing.TB, id string, e *openpgp.Entity) PublicKey {
	t.Helper()
	k, err := NewPGPKey(id, armorEntity(t, e, false, ""))
	if err != nil {
		t.Fatalf("NewPGPKey: %v", err)
	}
	return k
}

func signPGP(t testing.TB, e *openpgp.Entity, payload []byte) []byte {
	t.Helper()
	sig, err := SignPGP(e, payload)
	if err != nil {
		t.Fatalf("SignPGP: %v", err)
	}
	return sig
}

func fingerprintOf(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// rawPGPSignature makes a detached signature packet by hand, for the kinds
// SignPGP refuses to make.
func rawPGPSignature(t testing.TB, e *openpgp.Entity, payload []byte, sigType packet.SignatureType, h crypto.Hash) []byte {
	t.Helper()
	sig := &packet.Signature{
		Version:      4,
		SigType:      sigType,
		PubKeyAlgo:   e.PrimaryKey.PubKeyAlgo,
		Hash:         h,
		CreationTime: time.Now(),
		IssuerKeyId:  &e.PrimaryKey.KeyId,
	}
	noSalt := false // go-crypto's salt notation has no size for SHA-1
	cfg := &packet.Config{NonDeterministicSignaturesViaNotation: &noSalt}
	hh, err := sig.PrepareSign(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hh.Write(payload)
	if err := sig.Sign(hh, e.PrivateKey, cfg); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sig.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPGPVerify: OpenPGP-signed attestations through Verify, with the
// signatures in memory as Source returns them.
func TestPGPVerify(t *testing.T) {
	t.Parallel()
	img := testImage(t)
	rsaE, edE, other := pgpRSAEntity(), pgpEdEntity(), pgpOtherEntity()
	rsaFP := fingerprintOf(rsaE)

	// An entity whose signatures come from a signing subkey.
	withSubkey := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err := withSubkey.AddSigningSubkey(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}); err != nil {
		t.Fatal(err)
	}

	// A key that expires an hour from now, checked two hours from now.
	expiring := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, KeyLifetimeSecs: 3600})
	expiringKey := mustPGPKey(t, "", expiring)
	expiringKey.Key.(*PGPKey).now = func() time.Time { return time.Now().Add(2 * time.Hour) }

	// A key made an hour ago, and a verifier whose clock is behind the
	// signer's.
	old := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return time.Now().Add(-time.Hour) }})
	behind := func(d time.Duration) PublicKey {
		k := mustPGPKey(t, "", old)
		k.Key.(*PGPKey).now = func() time.Time { return time.Now().Add(-d) }
		return k
	}

	rsaKey := mustPGPKey(t, "", rsaE)
	ecKey := testKey(t, KindECDSAP256)
	sig := func(e *openpgp.Entity, keyID string) Signature {
		p := testPayload(t, img, keyID)
		return Signature{Payload: p, Sig: signPGP(t, e, p), Layer: "sha256:layer"}
	}
	armored := func(s Signature) Signature {
		s.Sig = armorBytes(t, openpgp.SignatureType, s.Sig)
		return s
	}
	altered := func(s Signature) Signature {
		s.Payload = bytes.Replace(s.Payload, []byte("team/app"), []byte("team/apq"), 1)
		return s
	}
	auth := func(keys ...PublicKey) Authority { return Authority{Name: "aa", Keys: keys} }

	tests := []struct {
		name       string
		sigs       []Signature
		auth       Authority
		wantReason Reason
		wantKeyID  string
		wantDetail string
	}{
		{name: "binary signature, RSA key", sigs: []Signature{sig(rsaE, "")}, auth: auth(rsaKey), wantReason: Verified, wantKeyID: rsaFP},
		{name: "armored signature, RSA key", sigs: []Signature{armored(sig(rsaE, ""))}, auth: auth(rsaKey), wantReason: Verified, wantKeyID: rsaFP},
		{name: "binary signature, EdDSA key", sigs: []Signature{sig(edE, "")}, auth: auth(mustPGPKey(t, "", edE)), wantReason: Verified},
		{name: "armored signature with leading newline", sigs: []Signature{func() Signature {
			s := armored(sig(edE, ""))
			s.Sig = append([]byte("\n"), s.Sig...)
			return s
		}()}, auth: auth(mustPGPKey(t, "", edE)), wantReason: Verified},
		{name: "signature by a signing subkey", sigs: []Signature{sig(withSubkey, "")}, auth: auth(mustPGPKey(t, "", withSubkey)), wantReason: Verified},
		{name: "records the fingerprint, id defaulted to it", sigs: []Signature{sig(rsaE, rsaFP)}, auth: auth(rsaKey), wantReason: Verified, wantKeyID: rsaFP},
		{name: "records another key id", sigs: []Signature{sig(rsaE, "0000111122223333")}, auth: auth(rsaKey), wantReason: KeyIDMismatch,
			wantDetail: `records key id "0000111122223333", but the authority's key id is "` + rsaFP + `"`},
		{name: "records the lower-case fingerprint", sigs: []Signature{sig(rsaE, strings.ToLower(rsaFP))}, auth: auth(rsaKey), wantReason: KeyIDMismatch},
		{name: "explicit key id recorded", sigs: []Signature{sig(rsaE, "pgp-key-1")}, auth: auth(mustPGPKey(t, "pgp-key-1", rsaE)), wantReason: Verified, wantKeyID: "pgp-key-1"},
		{name: "explicit key id, fingerprint recorded", sigs: []Signature{sig(rsaE, rsaFP)}, auth: auth(mustPGPKey(t, "pgp-key-1", rsaE)), wantReason: KeyIDMismatch},
		{name: "literal PublicKey without id compares the fingerprint", sigs: []Signature{sig(rsaE, "other")}, auth: auth(PublicKey{Key: rsaKey.Key}), wantReason: KeyIDMismatch},
		{name: "payload altered after signing", sigs: []Signature{altered(sig(rsaE, ""))}, auth: auth(rsaKey), wantReason: UntrustedKey, wantDetail: "no signature by a key of authority aa"},
		{name: "armored signature, payload altered", sigs: []Signature{altered(armored(sig(edE, "")))}, auth: auth(mustPGPKey(t, "", edE)), wantReason: UntrustedKey},
		{name: "signature by another PGP key", sigs: []Signature{sig(other, "")}, auth: auth(rsaKey), wantReason: UntrustedKey, wantDetail: "no signature by a key of authority aa"},
		{name: "another key's signature, then ours", sigs: []Signature{sig(other, ""), sig(rsaE, "")}, auth: auth(rsaKey), wantReason: Verified},
		{name: "PGP signature for another digest", sigs: []Signature{func() Signature {
			p, err := NewPayload(img.Context(), "sha256:"+strings.Repeat("0", 64), "")
			if err != nil {
				t.Fatal(err)
			}
			return Signature{Payload: p, Sig: signPGP(t, rsaE, p)}
		}()}, auth: auth(rsaKey), wantReason: WrongDigest},
		{name: "text-mode signature", sigs: []Signature{func() Signature {
			p := testPayload(t, img, "")
			return Signature{Payload: p, Sig: rawPGPSignature(t, edE, p, packet.SigTypeText, crypto.SHA256)}
		}()}, auth: auth(mustPGPKey(t, "", edE)), wantReason: UntrustedKey},
		{name: "SHA-1 signature", sigs: []Signature{func() Signature {
			p := testPayload(t, img, "")
			return Signature{Payload: p, Sig: rawPGPSignature(t, edE, p, packet.SigTypeBinary, crypto.SHA1)}
		}()}, auth: auth(mustPGPKey(t, "", edE)), wantReason: UntrustedKey},
		{name: "hand-made SHA-256 binary signature (control)", sigs: []Signature{func() Signature {
			p := testPayload(t, img, "")
			return Signature{Payload: p, Sig: rawPGPSignature(t, edE, p, packet.SigTypeBinary, crypto.SHA256)}
		}()}, auth: auth(mustPGPKey(t, "", edE)), wantReason: Verified},
		{name: "ECDSA signature, PGP key", sigs: []Signature{func() Signature {
			p := testPayload(t, img, "")
			s, err := SignRaw(ecKey, p)
			if err != nil {
				t.Fatal(err)
			}
			return Signature{Payload: p, Sig: s}
		}()}, auth: auth(rsaKey), wantReason: UntrustedKey},
		{name: "PGP signature, authority with a PKIX and a PGP key", sigs: []Signature{sig(rsaE, "")}, auth: auth(pubKey(t, "kms", ecKey), rsaKey), wantReason: Verified, wantKeyID: rsaFP},
		{name: "PKIX signature, authority with a PGP and a PKIX key", sigs: []Signature{func() Signature {
			p := testPayload(t, img, "kms")
			s, err := SignRaw(ecKey, p)
			if err != nil {
				t.Fatal(err)
			}
			return Signature{Payload: p, Sig: s}
		}()}, auth: auth(rsaKey, pubKey(t, "kms", ecKey)), wantReason: Verified, wantKeyID: "kms"},
		{name: "PGP signature, PKIX key only", sigs: []Signature{sig(rsaE, "")}, auth: auth(pubKey(t, "kms", ecKey)), wantReason: UntrustedKey},
		{name: "key expired after it was read", sigs: []Signature{sig(expiring, "")}, auth: auth(expiringKey), wantReason: UntrustedKey, wantDetail: "the key has expired"},
		{name: "signer's clock 2 minutes ahead", sigs: []Signature{sig(old, "")}, auth: auth(behind(2 * time.Minute)), wantReason: Verified},
		{name: "signature dated an hour in the future", sigs: []Signature{sig(old, "")}, auth: auth(behind(time.Hour)), wantReason: UntrustedKey},
		{name: "PGP key with a signature algorithm", sigs: []Signature{sig(rsaE, "")}, auth: auth(PublicKey{ID: "p", Key: rsaKey.Key, SignatureAlgorithm: "RSA_SIGN_PKCS1_2048_SHA256"}), wantReason: UntrustedKey, wantDetail: "applies to PKIX keys only"},
		{name: "armored block of another type", sigs: []Signature{func() Signature {
			s := sig(rsaE, "")
			s.Sig = armorBytes(t, "PGP MESSAGE", s.Sig)
			return s
		}()}, auth: auth(rsaKey), wantReason: UntrustedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Verify(img, tc.sigs, tc.auth)
			if got.Reason != tc.wantReason || got.OK != (tc.wantReason == Verified) || !strings.Contains(got.Detail, tc.wantDetail) {
				t.Errorf("Verify = %+v, want reason %v, detail containing %q", got, tc.wantReason, tc.wantDetail)
			}
			if tc.wantKeyID != "" && got.KeyID != tc.wantKeyID {
				t.Errorf("KeyID = %q, want %q", got.KeyID, tc.wantKeyID)
			}
		})
	}
}

// TestPGPVerifyRawBadSignatures: malformed signatures are errors wrapping
// ErrBadSignature, never panics.
func TestPGPVerifyRawBadSignatures(t *testing.T) {
	t.Parallel()
	e := pgpEdEntity()
	key := mustPGPKey(t, "", e)
	payload := []byte("payload")
	good := signPGP(t, e, payload)
	if err := VerifyRaw(key.Key, payload, good); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-5] ^= 0x40
	armoredGood := armorBytes(t, openpgp.SignatureType, good)
	corruptArmor := bytes.Replace(armoredGood, []byte("\n"), []byte("\n!"), 3)
	for name, bad := range map[string][]byte{
		"flipped bit":             flipped,
		"truncated":               good[:len(good)-3],
		"only the header":         good[:2],
		"empty":                   nil,
		"garbage":                 []byte("garbage"),
		"armor header only":       []byte("-----BEGIN PGP SIGNATURE-----\n"),
		"corrupt armor":           corruptArmor,
		"armored garbage":         armorBytes(t, openpgp.SignatureType, []byte("garbage")),
		"signature twice, broken": append(bytes.Clone(flipped), flipped...),
		"public key as signature": []byte(armorEntity(t, e, false, "")),
		"too large":               append(bytes.Clone(good), make([]byte, MaxPGPSignatureBytes)...),
	} {
		if err := VerifyRaw(key.Key, payload, bad); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: VerifyRaw = %v, want ErrBadSignature", name, err)
		}
	}
	if err := VerifyRaw(key.Key, []byte("payloaD"), good); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other payload: VerifyRaw = %v, want ErrBadSignature", err)
	}
}

// TestPGPKeyMaterial: what NewPGPKey accepts and how the key presents
// itself.
func TestPGPKeyMaterial(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		entity  *openpgp.Entity
		wantAlg string
	}{
		{"RSA 2048", pgpRSAEntity(), "pgp-rsa-2048"},
		{"EdDSA", pgpEdEntity(), "pgp-ed25519"},
		{"ECDSA P-256", newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP256}), "pgp-ecdsa-p256"},
		{"Ed25519 (RFC 9580)", newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEd25519}), "pgp-ed25519"},
		{"v6 Ed25519", newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEd25519, V6Keys: true}), "pgp-ed25519"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			armored := armorEntity(t, tc.entity, false, "")
			k, err := NewPGPKey("", armored)
			if err != nil {
				t.Fatalf("NewPGPKey: %v", err)
			}
			fp := fingerprintOf(tc.entity)
			pk := k.Key.(*PGPKey)
			if k.ID != fp || pk.Fingerprint() != fp || strings.ToUpper(fp) != fp {
				t.Errorf("ID = %q, Fingerprint = %q, want %q", k.ID, pk.Fingerprint(), fp)
			}
			if got := k.Algorithm(); got != tc.wantAlg {
				t.Errorf("Algorithm = %q, want %q", got, tc.wantAlg)
			}
			if got := k.Fingerprint(); got != "openpgp:"+fp {
				t.Errorf("Fingerprint = %q", got)
			}
			if s := k.String(); !strings.Contains(s, fp) || !strings.Contains(s, tc.wantAlg) {
				t.Errorf("String = %q", s)
			}
			if err := CheckPublicKey(k.Key); err != nil {
				t.Errorf("CheckPublicKey: %v", err)
			}
			if _, err := MarshalPublicKeyPEM(k.Key); !errors.Is(err, ErrUnsupportedKey) {
				t.Errorf("MarshalPublicKeyPEM = %v, want ErrUnsupportedKey", err)
			}
			// Explicit ids are kept as given.
			if k2, err := NewPGPKey("my-id", armored); err != nil || k2.ID != "my-id" {
				t.Errorf("NewPGPKey(my-id) = %+v, %v", k2, err)
			}
			// Windows line ends and surrounding blank lines are fine.
			if _, err := NewPGPKey("", "\n\n"+strings.ReplaceAll(armored, "\n", "\r\n")+"\n"); err != nil {
				t.Errorf("CRLF armor: %v", err)
			}
			payload := []byte("payload")
			if err := VerifyRaw(k.Key, payload, signPGP(t, tc.entity, payload)); err != nil {
				t.Errorf("own signature: %v", err)
			}
		})
	}
}

// TestBadPGPKeys: each wrong asciiArmoredPgpPublicKey is refused with an
// error that says what is wrong.
func TestBadPGPKeys(t *testing.T) {
	t.Parallel()
	rsaE, edE := pgpRSAEntity(), pgpEdEntity()
	pub := armorEntity(t, rsaE, false, "")

	revoked := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err := revoked.RevokeKey(packet.KeyRetired, "retired", nil); err != nil {
		t.Fatal(err)
	}
	expired := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, KeyLifetimeSecs: 3600, Time: func() time.Time { return time.Now().Add(-48 * time.Hour) }})
	future := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	weak := newTestEntity(&packet.Config{RSABits: 1024})

	// A key whose only key may certify but not sign.
	certifyOnly := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	for _, id := range certifyOnly.Identities {
		id.SelfSignature.FlagSign = false
		if err := id.SelfSignature.SignUserId(id.UserId.Id, certifyOnly.PrimaryKey, certifyOnly.PrivateKey, nil); err != nil {
			t.Fatal(err)
		}
	}

	// A signing subkey that is revoked, on a primary that may not sign.
	revokedSub := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err := revokedSub.AddSigningSubkey(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}); err != nil {
		t.Fatal(err)
	}
	for _, id := range revokedSub.Identities {
		id.SelfSignature.FlagSign = false
		if err := id.SelfSignature.SignUserId(id.UserId.Id, revokedSub.PrimaryKey, revokedSub.PrivateKey, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range revokedSub.Subkeys {
		if revokedSub.Subkeys[i].Sig.FlagSign {
			if err := revokedSub.RevokeSubkey(&revokedSub.Subkeys[i], packet.KeyCompromised, "", nil); err != nil {
				t.Fatal(err)
			}
		}
	}

	twoKeys := func() string {
		var b bytes.Buffer
		w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rsaE.Serialize(w); err != nil {
			t.Fatal(err)
		}
		if err := edE.Serialize(w); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return b.String()
	}()
	var binary bytes.Buffer
	if err := rsaE.Serialize(&binary); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(pub, "\n")
	corrupt := strings.Join(append(append(append([]string{}, lines[:3]...), "AAAA"+lines[3][4:]), lines[4:]...), "\n")
	truncated := strings.Join(lines[:len(lines)/2], "\n") + "\n-----END PGP PUBLIC KEY BLOCK-----\n"

	tests := []struct {
		name    string
		in      string
		wantErr error
		wantMsg string
	}{
		{name: "empty", in: "", wantErr: ErrEmptyKey},
		{name: "white space", in: " \n\t", wantErr: ErrEmptyKey},
		{name: "garbage", in: "not a key at all", wantErr: ErrInvalidKey, wantMsg: "not an ASCII-armored OpenPGP public key"},
		{name: "binary key, not armored", in: binary.String(), wantErr: ErrInvalidKey, wantMsg: "not an ASCII-armored OpenPGP public key"},
		{name: "private key block", in: armorEntity(t, rsaE, true, ""), wantErr: ErrPrivateKey, wantMsg: "holds a private key"},
		{name: "public key followed by private key block", in: pub + armorEntity(t, edE, true, ""), wantErr: ErrPrivateKey},
		{name: "secret key packets in a public block", in: armorEntity(t, edE, true, openpgp.PublicKeyType), wantErr: ErrPrivateKey, wantMsg: "secret key material"},
		{name: "PEM private key", in: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", wantErr: ErrPrivateKey},
		{name: "PEM public key", in: mustPEM(t, testKey(t, KindECDSAP256)), wantErr: ErrInvalidKey, wantMsg: "use keyType PKIX"},
		{name: "signature block", in: string(armorBytes(t, openpgp.SignatureType, signPGP(t, edE, []byte("x")))), wantErr: ErrInvalidKey, wantMsg: `"PGP SIGNATURE" is not an OpenPGP public key`},
		{name: "two armor blocks", in: pub + armorEntity(t, edE, false, ""), wantErr: ErrInvalidKey, wantMsg: "2 armor blocks"},
		{name: "two keys in one block", in: twoKeys, wantErr: ErrInvalidKey, wantMsg: "holds 2 OpenPGP keys"},
		{name: "corrupt armor", in: corrupt, wantErr: ErrInvalidKey},
		{name: "truncated armor", in: truncated, wantErr: ErrInvalidKey},
		{name: "armored garbage", in: string(armorBytes(t, openpgp.PublicKeyType, []byte("garbage"))), wantErr: ErrInvalidKey},
		{name: "revoked key", in: armorEntity(t, revoked, false, ""), wantErr: ErrKeyRevoked, wantMsg: fingerprintOf(revoked)},
		{name: "expired key", in: armorEntity(t, expired, false, ""), wantErr: ErrKeyExpired, wantMsg: "expired at"},
		{name: "key created in the future", in: armorEntity(t, future, false, ""), wantErr: ErrKeyExpired, wantMsg: "created in the future"},
		{name: "RSA 1024", in: armorEntity(t, weak, false, ""), wantErr: ErrUnsupportedKey, wantMsg: "RSA key of 1024 bits"},
		{name: "no signing key", in: armorEntity(t, certifyOnly, false, ""), wantErr: ErrUnsupportedKey, wantMsg: "no key that may sign"},
		{name: "only signing subkey revoked", in: armorEntity(t, revokedSub, false, ""), wantErr: ErrKeyRevoked, wantMsg: "is revoked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := NewPGPKey("id", tc.in)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("NewPGPKey = %+v, %v; want %v containing %q", k, err, tc.wantErr, tc.wantMsg)
			}
			if k != (PublicKey{}) {
				t.Errorf("NewPGPKey returned a key with its error: %+v", k)
			}
		})
	}
}

func TestSignPGPRefusals(t *testing.T) {
	t.Parallel()
	payload := []byte("payload")
	if _, err := SignPGP(nil, payload); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil entity: %v", err)
	}
	// The public half only, as read from an authority.
	pubOnly, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armorEntity(t, pgpEdEntity(), false, "")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignPGP(pubOnly[0], payload); !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "no private signing key") {
		t.Errorf("public key only: %v", err)
	}
	encrypted := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err := encrypted.EncryptPrivateKeys([]byte("passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := SignPGP(encrypted, payload); !errors.Is(err, ErrEncryptedKey) {
		t.Errorf("encrypted key: %v", err)
	}
	if _, err := SignPGP(newTestEntity(&packet.Config{RSABits: 1024}), payload); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("RSA 1024: %v", err)
	}
	// PGP keys do not sign through SignRaw.
	if _, err := SignRaw(pgpSigner{mustPGPKey(t, "", pgpEdEntity()).Key}, payload); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("SignRaw with a PGP public key: %v", err)
	}
}

type pgpSigner struct{ pub crypto.PublicKey }

func (s pgpSigner) Public() crypto.PublicKey { return s.pub }
func (pgpSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("not a signer")
}

// TestPGPConcurrentVerify: one compiled key serves many requests at once
// (run with -race).
func TestPGPConcurrentVerify(t *testing.T) {
	t.Parallel()
	e := pgpEdEntity()
	key := mustPGPKey(t, "", e)
	img := testImage(t)
	p := testPayload(t, img, "")
	sigs := []Signature{{Payload: p, Sig: signPGP(t, pgpOtherEntity(), p)}, {Payload: p, Sig: signPGP(t, e, p)}}
	auth := Authority{Name: "aa", Keys: []PublicKey{key}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if r := Verify(img, sigs, auth); !r.OK {
					t.Errorf("Verify = %+v", r)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzParsePGPPublicKey(f *testing.F) {
	e := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	armored := armorEntity(f, e, false, "")
	f.Add(armored)
	f.Add(armorEntity(f, e, true, ""))
	f.Add(armorEntity(f, e, true, openpgp.PublicKeyType))
	f.Add(strings.Replace(armored, "\n", "\n ", 5))
	f.Add(armored[:len(armored)/2])
	f.Add("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n")
	f.Add("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxsBN\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := NewPGPKey("", s)
		if err != nil {
			if k != (PublicKey{}) {
				t.Fatalf("key returned with error %v", err)
			}
			return
		}
		if cerr := CheckPublicKey(k.Key); cerr != nil {
			t.Fatalf("accepted a key CheckPublicKey refuses: %v", cerr)
		}
		_ = k.String()
		_ = VerifyRaw(k.Key, []byte("p"), []byte("s"))
	})
}

func FuzzVerifyPGPSignature(f *testing.F) {
	e := newTestEntity(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	key, err := NewPGPKey("", armorEntity(f, e, false, ""))
	if err != nil {
		f.Fatal(err)
	}
	payload := []byte("payload")
	sig, err := SignPGP(e, payload)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Add(armorBytes(f, openpgp.SignatureType, sig))
	f.Add(sig[:len(sig)/2])
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"))
	f.Add([]byte{0x88})
	f.Fuzz(func(t *testing.T, s []byte) {
		err := VerifyRaw(key.Key, payload, s)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("error %v does not wrap ErrBadSignature", err)
		}
	})
}
