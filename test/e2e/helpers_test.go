package e2e

import (
	"context"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/pkg/attest"
)

// namespace creates a fresh namespace, deleted when t ends.
func namespace(t testing.TB) string {
	t.Helper()
	ns, err := kube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// pushRandom pushes a random image to the registry under repo:tag and
// returns its digest reference.
func pushRandom(t testing.TB, repo, tag string) name.Digest {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(stk.Registry + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref.Context().Digest(d.String())
}

// authority creates an AttestationAuthority holding pub.
func authority(t testing.TB, ns, aaName string, pub crypto.PublicKey, keyID string) {
	t.Helper()
	data, err := attest.EncodePublicKeyData(pub)
	if err != nil {
		t.Fatal(err)
	}
	aa := &v1beta1.AttestationAuthority{
		ObjectMeta: metav1.ObjectMeta{Name: aaName, Namespace: ns},
		Spec: v1beta1.AttestationAuthoritySpec{
			NoteReference: "namespaces/" + aaName,
			PublicKeyData: data,
			PublicKeyID:   keyID,
		},
	}
	if err := crc.Create(context.Background(), aa); err != nil {
		t.Fatalf("creating authority %s: %v", aaName, err)
	}
}

// policy creates a GenericAttestationPolicy and waits until the webhook
// enforces it, so that the test's next request sees it.
func policy(t testing.TB, ns, gapName string, authorities ...string) {
	t.Helper()
	gap := &v1beta1.GenericAttestationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: gapName, Namespace: ns},
		Spec:       v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: authorities},
	}
	if err := crc.Create(context.Background(), gap); err != nil {
		t.Fatalf("creating policy %s: %v", gapName, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := createPod(t, ns, "probe", "busybox:1", true)
		if err != nil && strings.Contains(err.Error(), "is not attested") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("policy %s/%s not enforced within 20s; last answer: %v", ns, gapName, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// podFor is a one-container Pod named podName.
func podFor(ns, podName, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

// createPod creates a one-container Pod and returns the API server's error.
func createPod(t testing.TB, ns, podName, image string, dryRun bool) error {
	t.Helper()
	pod := podFor(ns, "", image)
	pod.GenerateName = podName + "-"
	opts := metav1.CreateOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err := kube.CoreV1().Pods(ns).Create(context.Background(), pod, opts)
	return err
}

// sign writes a signature by key, over a payload for (repo, digest), into
// the signature tag of img.
func sign(t testing.TB, img name.Digest, key crypto.Signer, repo name.Repository, digest, keyID string, tamper func([]byte) []byte) {
	t.Helper()
	payload, err := attest.NewPayload(repo, digest, keyID)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := attest.SignRaw(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	if tamper != nil {
		payload = tamper(payload)
	}
	if err := attest.Push(context.Background(), img, payload, sig); err != nil {
		t.Fatalf("pushing signature: %v", err)
	}
}

func mustKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	k, err := attest.GenerateKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
