package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/pkg/attest"
)

// TestPGPAuthority: an authority holding an ASCII-armored PGP key admits an
// image carrying a detached PGP signature over its payload, stored in the
// registry like any other, and denies one signed by another PGP key.
func TestPGPAuthority(t *testing.T) {
	t.Parallel()
	newEntity := func() *openpgp.Entity {
		e, err := openpgp.NewEntity("Release Signer", "e2e", "release@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	trusted, other := newEntity(), newEntity()
	var armored bytes.Buffer
	w, err := armor.Encode(&armored, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := trusted.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	ns := namespace(t)
	aa := &v1beta1.AttestationAuthority{
		ObjectMeta: metav1.ObjectMeta{Name: "pgp", Namespace: ns},
		Spec: v1beta1.AttestationAuthoritySpec{PublicKeys: []v1beta1.AuthorityPublicKey{
			{KeyType: v1beta1.KeyTypePGP, AsciiArmoredPgpPublicKey: armored.String()},
		}},
	}
	if err := crc.Create(context.Background(), aa); err != nil {
		t.Fatal(err)
	}
	policy(t, ns, "gap", "pgp")

	signWith := func(e *openpgp.Entity, repo string) string {
		img := pushRandom(t, repo, "v1")
		payload, err := attest.NewPayload(img.Context(), img.DigestStr(), "")
		if err != nil {
			t.Fatal(err)
		}
		sig, err := attest.SignPGP(e, payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := attest.Push(context.Background(), img, payload, sig); err != nil {
			t.Fatal(err)
		}
		return img.String()
	}
	if err := createPod(t, ns, "pgp", signWith(trusted, "pgp/trusted"), false); err != nil {
		t.Fatalf("PGP-signed image denied: %v", err)
	}
	err = createPod(t, ns, "pgp", signWith(other, "pgp/other"), false)
	if err == nil || !strings.Contains(err.Error(), "no signature by a key of authority pgp") {
		t.Fatalf("image signed by another PGP key: want a denial, got %v", err)
	}
}
