package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/pkg/attest"
)

// TestTags runs the rows of cases/tags.md through the real API server,
// registries and both webhooks. In a namespace whose policy says
// tagPolicy: Pin, the mutating webhook kritis-pin-hook.grafeas.io resolves
// each tag at its registry and rewrites the image to name:tag@sha256:<d>,
// which the validating webhook then verifies; the node pulls exactly d.
func TestTags(t *testing.T) {
	t.Parallel()
	key := mustKey(t, "ecdsa-p256")
	// An unsigned image named by digest: denied as soon as a policy of
	// the namespace is enforced, and never resolved (so the probe reaches
	// no registry but the suite's).
	probe := pushRandom(t, "tags/probe", "unsigned")
	pin := v1beta1.GenericAttestationPolicySpec{TagPolicy: v1beta1.TagPolicyPin}
	newNS := func(t *testing.T, spec v1beta1.GenericAttestationPolicySpec) string {
		return tgNamespace(t, key, probe, spec)
	}

	t.Run("signed tag is admitted and pinned", func(t *testing.T) {
		t.Parallel()
		ns := newNS(t, pin)
		s := tgPush(t, stk.Registry, "tags/pinned/app", "1.0")
		tgSign(t, s, key)
		image := stk.Registry + "/tags/pinned/app:1.0"
		created, err := tgCreate(ns, tgDeployment(ns, "app", image))
		if err != nil {
			t.Fatalf("Deployment %s denied: %v", image, err)
		}
		want := image + "@" + s.DigestStr()
		if got := created.Spec.Template.Spec.Containers[0].Image; got != want {
			t.Errorf("the API server answered with image %s, want %s", got, want)
		}
		if got := tgStoredImage(t, ns, "app"); got != want {
			t.Errorf("stored image %s, want %s", got, want)
		}
	})

	t.Run("unsigned tag is denied naming the resolved digest", func(t *testing.T) {
		t.Parallel()
		ns := newNS(t, pin)
		u := tgPush(t, stk.Registry, "tags/unsigned/app", "2.0")
		image := stk.Registry + "/tags/unsigned/app:2.0"
		_, err := tgCreate(ns, tgDeployment(ns, "app", image))
		tgWantDenied(t, err, "is not attested", image+"@"+u.DigestStr())
	})

	t.Run("tag moved to an unsigned digest after admission", func(t *testing.T) {
		t.Parallel()
		ns := newNS(t, pin)
		repo := stk.Registry + "/tags/moved/app"
		s := tgPush(t, stk.Registry, "tags/moved/app", "1.0")
		tgSign(t, s, key)
		u := tgPush(t, stk.Registry, "tags/moved/app", "u")
		image := repo + ":1.0"
		pinnedS := image + "@" + s.DigestStr()
		if _, err := tgCreate(ns, tgDeployment(ns, "app", image)); err != nil {
			t.Fatalf("Deployment %s denied: %v", image, err)
		}
		if got := tgStoredImage(t, ns, "app"); got != pinnedS {
			t.Fatalf("stored image %s, want %s", got, pinnedS)
		}

		// Move 1.0 to U, as a push of another build under the same tag.
		desc, err := remote.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := name.NewTag(image)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Tag(tag, desc); err != nil {
			t.Fatalf("moving %s to %s: %v", tag, u.DigestStr(), err)
		}

		// A GitOps tool re-applies the manifest as written: the template's
		// image is the tag again, and the env changed.
		err = tgUpdate(t, ns, "app", func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.Image = image
			c.Env = []corev1.EnvVar{{Name: "MODE", Value: "reapplied"}}
		})
		tgWantDenied(t, err, "is not attested", image+"@"+u.DigestStr())
		if got := tgStoredImage(t, ns, "app"); got != pinnedS {
			t.Errorf("after the denied update: stored image %s, want %s", got, pinnedS)
		}

		// An edit that keeps the stored, pinned image re-resolves nothing.
		err = tgUpdate(t, ns, "app", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "MODE", Value: "edited"}}
		})
		if err != nil {
			t.Fatalf("env-only edit keeping %s denied: %v", pinnedS, err)
		}
		if got := tgStoredImage(t, ns, "app"); got != pinnedS {
			t.Errorf("after the env-only edit: stored image %s, want %s", got, pinnedS)
		}
	})

	t.Run("registry stopped", func(t *testing.T) {
		t.Parallel()
		reg, err := stk.StartRegistry(context.Background(), "tags-stopped", "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(reg.Stop)
		s := tgPush(t, reg.Host, "app", "1.0")
		tgSign(t, s, key)
		ns := newNS(t, pin)
		reg.Stop()
		image := reg.Host + "/app:1.0"
		_, err = tgCreate(ns, tgDeployment(ns, "app", image))
		tgWantDenied(t, err, "registry error")
		if msg := err.Error(); !strings.Contains(msg, "connection refused") && !strings.Contains(msg, "unreachable") {
			t.Errorf("denial does not name the registry error (connection refused or unreachable):\n%s", msg)
		}
	})

	t.Run("private repository", func(t *testing.T) {
		t.Parallel()
		user, pass := "kritis", rand.Text()
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		reg, err := stk.StartRegistry(context.Background(), "tags-private", htpasswd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(reg.Stop)
		kc := tgKeychain{host: reg.Host, auth: &authn.Basic{Username: user, Password: pass}}
		s := tgPush(t, reg.Host, "private/app", "1.0", remote.WithAuthFromKeychain(kc))
		tgSign(t, s, key, attest.WithKeychain(kc))
		image := reg.Host + "/private/app:1.0"
		pinned := image + "@" + s.DigestStr()
		dockerConfig := tgDockerConfig(t, reg.Host, user, pass)

		t.Run("imagePullSecrets on the pod template and the Pod", func(t *testing.T) {
			t.Parallel()
			ns := newNS(t, pin)
			tgPullSecret(t, ns, "regcred", dockerConfig)
			d := tgDeployment(ns, "app", image)
			d.Spec.Template.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
			if _, err := tgCreate(ns, d); err != nil {
				t.Fatalf("Deployment with the pull secret denied: %v", err)
			}
			if got := tgStoredImage(t, ns, "app"); got != pinned {
				t.Errorf("stored image %s, want %s", got, pinned)
			}
			pod := podFor(ns, "app", image)
			pod.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
			got, err := kube.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("Pod with the pull secret denied: %v", err)
			}
			if img := got.Spec.Containers[0].Image; img != pinned {
				t.Errorf("stored Pod image %s, want %s", img, pinned)
			}
		})

		t.Run("imagePullSecrets on the default ServiceAccount", func(t *testing.T) {
			t.Parallel()
			ns := newNS(t, pin)
			tgPullSecret(t, ns, "regcred", dockerConfig)
			// No controller-manager runs: the default ServiceAccount
			// does not exist until made.
			sa := &corev1.ServiceAccount{
				ObjectMeta:       metav1.ObjectMeta{Name: "default", Namespace: ns},
				ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
			}
			if _, err := kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := tgCreate(ns, tgDeployment(ns, "app", image)); err != nil {
				t.Fatalf("Deployment under the default ServiceAccount denied: %v", err)
			}
			if got := tgStoredImage(t, ns, "app"); got != pinned {
				t.Errorf("stored image %s, want %s", got, pinned)
			}
		})

		t.Run("no credentials", func(t *testing.T) {
			t.Parallel()
			ns := newNS(t, pin)
			_, err := tgCreate(ns, tgDeployment(ns, "app", image))
			tgWantDenied(t, err, "authentication")
		})
	})

	t.Run("40 Deployments at once, each its own repository", func(t *testing.T) {
		t.Parallel()
		const n = 40
		ns := newNS(t, pin)
		digests := make([]name.Digest, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				repo := fmt.Sprintf("tags/many/app%d", i)
				if digests[i], errs[i] = tgPushE(stk.Registry, repo, "1.0"); errs[i] != nil {
					return
				}
				errs[i] = tgSignE(digests[i], key)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("app%d: %v", i, err)
			}
		}
		for i := range n {
			wg.Go(func() {
				image := fmt.Sprintf("%s/tags/many/app%d:1.0", stk.Registry, i)
				_, errs[i] = tgCreate(ns, tgDeployment(ns, fmt.Sprintf("app%d", i), image))
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("app%d denied: %v", i, err)
				continue
			}
			want := fmt.Sprintf("%s/tags/many/app%d:1.0@%s", stk.Registry, i, digests[i].DigestStr())
			if got := tgStoredImage(t, ns, fmt.Sprintf("app%d", i)); got != want {
				t.Errorf("app%d: stored image %s, want %s", i, got, want)
			}
		}
	})

	t.Run("multi-arch index tag, the index signed", func(t *testing.T) {
		t.Parallel()
		ns := newNS(t, pin)
		var idx v1.ImageIndex = empty.Index
		for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}} {
			img, err := random.Image(512, 1)
			if err != nil {
				t.Fatal(err)
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		}
		image := stk.Registry + "/tags/multi:1.0"
		tag, err := name.NewTag(image)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(tag, idx); err != nil {
			t.Fatalf("pushing %s: %v", tag, err)
		}
		h, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		d := tag.Context().Digest(h.String())
		tgSign(t, d, key)
		if _, err := tgCreate(ns, tgDeployment(ns, "app", image)); err != nil {
			t.Fatalf("Deployment %s denied: %v", image, err)
		}
		if got, want := tgStoredImage(t, ns, "app"), image+"@"+h.String(); got != want {
			t.Errorf("stored image %s, want %s (the index's digest)", got, want)
		}
	})

	t.Run("no tagPolicy: tags denied as in the seed", func(t *testing.T) {
		t.Parallel()
		ns := newNS(t, v1beta1.GenericAttestationPolicySpec{})
		s := tgPush(t, stk.Registry, "tags/default/app", "1.0")
		tgSign(t, s, key)
		image := stk.Registry + "/tags/default/app:1.0"
		_, err := tgCreate(ns, tgDeployment(ns, "app", image))
		tgWantDenied(t, err, "image "+image+" is not attested", `referenced by tag "1.0"`)
		if strings.Contains(err.Error(), "pinned") {
			t.Errorf("denial speaks of pinning in a namespace that does not pin:\n%s", err)
		}
	})

	t.Run("immutableTagPatterns without pinning", func(t *testing.T) {
		t.Parallel()
		repo := stk.Registry + "/tags/immutable/app"
		ns := newNS(t, v1beta1.GenericAttestationPolicySpec{
			TagPolicy:            v1beta1.TagPolicyDeny,
			ImmutableTagPatterns: []string{repo + ":*"},
		})
		s := tgPush(t, stk.Registry, "tags/immutable/app", "1.0")
		tgSign(t, s, key)
		u := tgPush(t, stk.Registry, "tags/immutable/app", "2.0")

		signed := repo + ":1.0"
		if _, err := tgCreate(ns, tgDeployment(ns, "signed", signed)); err != nil {
			t.Fatalf("Deployment %s denied: %v", signed, err)
		}
		if got := tgStoredImage(t, ns, "signed"); got != signed {
			t.Errorf("stored image %s, want %s unchanged", got, signed)
		}
		unsigned := repo + ":2.0"
		_, err := tgCreate(ns, tgDeployment(ns, "unsigned", unsigned))
		tgWantDenied(t, err, "image "+unsigned+" is not attested", u.DigestStr())
	})
}

// tgNamespace creates a namespace holding authority aa (key's public key)
// and policy gap of spec trusting aa, and waits until the hook enforces the
// policy: a dry-run Pod naming the unsigned probe by digest is denied.
func tgNamespace(t *testing.T, key crypto.Signer, probe name.Digest, spec v1beta1.GenericAttestationPolicySpec) string {
	t.Helper()
	ns := namespace(t)
	authority(t, ns, "aa", key.Public(), "")
	spec.AttestationAuthorityNames = []string{"aa"}
	gap := &v1beta1.GenericAttestationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "gap", Namespace: ns}, Spec: spec}
	if err := crc.Create(context.Background(), gap); err != nil {
		t.Fatalf("creating policy: %v", err)
	}
	waitFor(t, "policy "+ns+"/gap enforced", func() error {
		err := createPod(t, ns, "probe", probe.String(), true)
		if err != nil && strings.Contains(err.Error(), "is not attested") {
			return nil
		}
		if err == nil {
			return errNotYet
		}
		return err
	})
	return ns
}

// tgPush pushes a random image to host/repo:tag and returns its digest
// reference.
func tgPush(t *testing.T, host, repo, tag string, opts ...remote.Option) name.Digest {
	t.Helper()
	d, err := tgPushE(host, repo, tag, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tgPushE(host, repo, tag string, opts ...remote.Option) (name.Digest, error) {
	img, err := random.Image(512, 1)
	if err != nil {
		return name.Digest{}, err
	}
	ref, err := name.NewTag(host + "/" + repo + ":" + tag)
	if err != nil {
		return name.Digest{}, err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	h, err := img.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	return ref.Context().Digest(h.String()), nil
}

// tgSign stores a signature by key over (img's repository, img's digest).
func tgSign(t *testing.T, img name.Digest, key crypto.Signer, opts ...attest.Option) {
	t.Helper()
	if err := tgSignE(img, key, opts...); err != nil {
		t.Fatal(err)
	}
}

func tgSignE(img name.Digest, key crypto.Signer, opts ...attest.Option) error {
	payload, err := attest.NewPayload(img.Context(), img.DigestStr(), "")
	if err != nil {
		return err
	}
	sig, err := attest.SignRaw(key, payload)
	if err != nil {
		return err
	}
	return attest.Push(context.Background(), img, payload, sig, opts...)
}

var tgLabels = map[string]string{"app": "tags"}

// tgDeployment is a one-container Deployment as a manifest in git would
// hold it.
func tgDeployment(ns, nm, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: nm, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: tgLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: tgLabels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: image,
					Env:   []corev1.EnvVar{{Name: "MODE", Value: "initial"}},
				}}},
			},
		},
	}
}

func tgCreate(ns string, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	return kube.AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{})
}

// tgUpdate reads Deployment nm, changes it with edit and writes it back,
// returning the API server's answer to the write.
func tgUpdate(t *testing.T, ns, nm string, edit func(*appsv1.Deployment)) error {
	t.Helper()
	d, err := kube.AppsV1().Deployments(ns).Get(context.Background(), nm, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edit(d)
	_, err = kube.AppsV1().Deployments(ns).Update(context.Background(), d, metav1.UpdateOptions{})
	return err
}

// tgStoredImage reads Deployment nm back and returns its first image.
func tgStoredImage(t *testing.T, ns, nm string) string {
	t.Helper()
	d, err := kube.AppsV1().Deployments(ns).Get(context.Background(), nm, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading Deployment %s/%s: %v", ns, nm, err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// tgWantDenied fails t unless err is a denial holding every one of wants.
func tgWantDenied(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want denied (%q), but the request was admitted", wants)
	}
	t.Logf("denied: %v", err)
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("denial lacks %q:\n%s", w, err)
		}
	}
}

// tgKeychain gives auth for host and nothing elsewhere.
type tgKeychain struct {
	host string
	auth authn.Authenticator
}

func (k tgKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return k.auth, nil
	}
	return authn.Anonymous, nil
}

// tgDockerConfig is the .dockerconfigjson of a pull secret for host.
func tgDockerConfig(t *testing.T, host, user, pass string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{
		"username": user,
		"password": pass,
		"auth":     base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tgPullSecret creates a kubernetes.io/dockerconfigjson Secret.
func tgPullSecret(t *testing.T, ns, nm string, dockerConfig []byte) {
	t.Helper()
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: nm, Namespace: ns},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig},
	}
	if _, err := kube.CoreV1().Secrets(ns).Create(context.Background(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating secret %s: %v", nm, err)
	}
}
