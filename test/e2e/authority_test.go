package e2e

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kritis-project/kritis/api/v1beta1"
)

// TestBadAuthorityData: what the schema can refuse is refused at apply
// time; what only parsing can tell is reported in the authority's status
// and in the denial, and the hook keeps serving.
func TestBadAuthorityData(t *testing.T) {
	t.Parallel()
	priv := mustKey(t, "ecdsa-p256")
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b64 := base64.StdEncoding.EncodeToString

	tests := []struct {
		name string
		spec v1beta1.AttestationAuthoritySpec
		// refused: the API server refuses the object with this text;
		// else status and denial carry status.
		refused string
		status  string
	}{
		{name: "no key at all", spec: v1beta1.AttestationAuthoritySpec{}, refused: "set publicKeyData or at least one entry of publicKeys"},
		{name: "not base64", spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: "not base64!"}, refused: "spec.publicKeyData"},
		{name: "base64 of garbage", spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: b64([]byte("garbage, not a key"))}, status: "spec.publicKeyData"},
		{name: "a private key", spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: b64(privPEM)}, status: "private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := namespace(t)
			aa := &v1beta1.AttestationAuthority{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: ns}, Spec: tt.spec}
			err := crc.Create(context.Background(), aa)
			if tt.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("want the API server to refuse with %q, got %v", tt.refused, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("creating: %v", err)
			}
			// The status says why, without waiting for a request.
			deadline := time.Now().Add(15 * time.Second)
			for {
				var got v1beta1.AttestationAuthority
				if err := crc.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "bad"}, &got); err != nil {
					t.Fatal(err)
				}
				c := apimeta.FindStatusCondition(got.Status.Conditions, "Ready")
				if c != nil && c.Status == metav1.ConditionFalse && c.Reason == "InvalidPublicKey" && strings.Contains(c.Message, tt.status) {
					if strings.Contains(c.Message, "PRIVATE KEY-----") || strings.Contains(c.Message, b64(privPEM)[:40]) {
						t.Fatalf("status echoes key material: %s", c.Message)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("status never reported the bad key; last conditions: %+v", got.Status.Conditions)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// And the denial names it.
			policy(t, ns, "gap", "bad")
			img := pushRandom(t, "authority/"+strings.ReplaceAll(tt.name, " ", "-"), "v1")
			err = createPod(t, ns, "app", img.String(), false)
			if err == nil || !strings.Contains(err.Error(), "authority bad: unusable: ") || !strings.Contains(err.Error(), tt.status) {
				t.Fatalf("want a denial naming the unusable authority, got %v", err)
			}
		})
	}
}

// TestDERPublicKeyData: base64 of the DER key, whose alphabet includes '+'
// and '/', is accepted by the schema and by the hook.
func TestDERPublicKeyData(t *testing.T) {
	t.Parallel()
	var (
		data string
		key  = mustKey(t, "ecdsa-p256")
	)
	for {
		der, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		data = base64.StdEncoding.EncodeToString(der)
		if strings.ContainsAny(data, "+/") {
			break
		}
		key = mustKey(t, "ecdsa-p256")
	}
	ns := namespace(t)
	aa := &v1beta1.AttestationAuthority{ObjectMeta: metav1.ObjectMeta{Name: "der", Namespace: ns}, Spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: data}}
	if err := crc.Create(context.Background(), aa); err != nil {
		t.Fatalf("the API server refused DER base64 %q: %v", data, err)
	}
	policy(t, ns, "gap", "der")
	img := pushRandom(t, "authority/der", "v1")
	sign(t, img, key, img.Context(), img.DigestStr(), "", nil)
	if err := createPod(t, ns, "app", img.String(), false); err != nil {
		t.Fatalf("image signed by the DER key denied: %v", err)
	}
}
