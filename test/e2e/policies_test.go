package e2e

import (
	"context"
	"crypto"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/pkg/attest"
)

// TestPolicySemantics: the rows of cases/policies.md that depend on what
// the API server stores and sends (allowlists in CRDs, breakglass, key
// rotation through an update of the authority).
func TestPolicySemantics(t *testing.T) {
	t.Parallel()
	k1, k2 := mustKey(t, "ecdsa-p256"), mustKey(t, "ecdsa-p384")

	t.Run("allowlist pattern on one policy admits while another policy is unmet", func(t *testing.T) {
		t.Parallel()
		ns := namespace(t)
		img := pushRandom(t, "policies/allowlisted", "v1")
		authority(t, ns, "aa1", k1.Public(), "")
		authority(t, ns, "aa2", k2.Public(), "")
		gap := &v1beta1.GenericAttestationPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "gap1", Namespace: ns},
			Spec: v1beta1.GenericAttestationPolicySpec{
				AttestationAuthorityNames:  []string{"aa1"},
				AdmissionAllowlistPatterns: []v1beta1.AdmissionAllowlistPattern{{NamePattern: img.Context().String() + "@sha256:*"}},
			},
		}
		if err := crc.Create(context.Background(), gap); err != nil {
			t.Fatal(err)
		}
		policy(t, ns, "gap2", "aa2")
		if err := createPod(t, ns, "app", img.String(), false); err != nil {
			t.Fatalf("allowlisted image denied: %v", err)
		}
		other := pushRandom(t, "policies/not-allowlisted", "v1")
		if err := createPod(t, ns, "app", other.String(), false); err == nil {
			t.Fatal("an image outside the allowlist was admitted")
		}
	})

	t.Run("cluster AdmissionAllowlist limited to a namespace", func(t *testing.T) {
		t.Parallel()
		nsA, nsB := namespace(t), namespace(t)
		img := pushRandom(t, "policies/cluster-allowlisted", "v1")
		al := &v1beta1.AdmissionAllowlist{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-" + nsA},
			Spec:       v1beta1.AdmissionAllowlistSpec{Patterns: []v1beta1.AllowlistPattern{{NamePattern: img.Context().String() + "@*", Namespace: nsA}}},
		}
		if err := crc.Create(context.Background(), al); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = crc.Delete(context.Background(), al) })
		for _, ns := range []string{nsA, nsB} {
			authority(t, ns, "aa1", k1.Public(), "")
			policy(t, ns, "gap1", "aa1")
		}
		waitFor(t, "allowlist applied", func() error { return createPod(t, nsA, "app", img.String(), true) })
		if err := createPod(t, nsA, "app", img.String(), false); err != nil {
			t.Fatalf("namespace %s: allowlisted image denied: %v", nsA, err)
		}
		if err := createPod(t, nsB, "app", img.String(), false); err == nil {
			t.Fatalf("namespace %s: the allowlist for %s admitted an image here", nsB, nsA)
		}
	})

	t.Run("breakglass admits with a warning and an event naming the user", func(t *testing.T) {
		t.Parallel()
		ns := namespace(t)
		authority(t, ns, "aa1", k1.Public(), "")
		policy(t, ns, "gap1", "aa1")
		img := pushRandom(t, "policies/breakglass", "v1")
		pod := podFor(ns, "glass", img.String())
		pod.Annotations = map[string]string{"kritis.grafeas.io/breakglass": "INC-1234"}
		if err := crc.Create(context.Background(), pod); err != nil {
			t.Fatalf("breakglass Pod denied: %v", err)
		}
		waitFor(t, "breakglass event", func() error {
			evs, err := kube.EventsV1().Events(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				return err
			}
			var seen []string
			for _, e := range evs.Items {
				if e.Reason == "BreakglassKritisAdmission" && e.Regarding.Name == "glass" && strings.Contains(e.Note, "), by ") && !strings.HasSuffix(e.Note, "by ") {
					t.Logf("event: %s", e.Note)
					return nil
				}
				seen = append(seen, e.Reason+": "+e.Note)
			}
			return fmt.Errorf("no breakglass event naming a user among %q", seen)
		})
	})

	t.Run("key rotation through publicKeys", func(t *testing.T) {
		t.Parallel()
		ns := namespace(t)
		oldImg := pushRandom(t, "policies/rotation", "old")
		newImg := pushRandom(t, "policies/rotation", "new")
		sign(t, oldImg, k1, oldImg.Context(), oldImg.DigestStr(), "", nil)
		sign(t, newImg, k2, newImg.Context(), newImg.DigestStr(), "", nil)
		aa := &v1beta1.AttestationAuthority{
			ObjectMeta: metav1.ObjectMeta{Name: "aa", Namespace: ns},
			Spec:       v1beta1.AttestationAuthoritySpec{PublicKeys: []v1beta1.AuthorityPublicKey{pkix(t, "old", k1), pkix(t, "new", k2)}},
		}
		if err := crc.Create(context.Background(), aa); err != nil {
			t.Fatal(err)
		}
		policy(t, ns, "gap", "aa")
		for _, img := range []string{oldImg.String(), newImg.String()} {
			if err := createPod(t, ns, "app", img, false); err != nil {
				t.Fatalf("%s denied while both keys are trusted: %v", img, err)
			}
		}
		// Remove the old key: images signed only with it are denied from
		// the next request on, without a restart.
		if err := crc.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "aa"}, aa); err != nil {
			t.Fatal(err)
		}
		aa.Spec.PublicKeys = aa.Spec.PublicKeys[1:]
		if err := crc.Update(context.Background(), aa); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "old key removed", func() error {
			if err := createPod(t, ns, "app", oldImg.String(), true); err == nil {
				return errNotYet
			}
			return nil
		})
		if err := createPod(t, ns, "app", newImg.String(), false); err != nil {
			t.Fatalf("image signed with the new key denied: %v", err)
		}
	})
}

func pkix(t *testing.T, id string, k crypto.Signer) v1beta1.AuthorityPublicKey {
	t.Helper()
	pem, err := attest.MarshalPublicKeyPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return v1beta1.AuthorityPublicKey{KeyID: id, KeyType: v1beta1.KeyTypePKIX, PkixPublicKey: &v1beta1.PkixPublicKey{PublicKeyPem: string(pem)}}
}

type notYet struct{}

func (notYet) Error() string { return "not yet" }

var errNotYet error = notYet{}

// waitFor retries f for up to 20 s: the hook's caches and the event
// broadcaster are asynchronous.
func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
