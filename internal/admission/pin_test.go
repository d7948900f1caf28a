package admission

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/internal/workload"
	"github.com/kritis-project/kritis/pkg/attest"
)

// fakeRegistries resolves tags from a map and records whose credentials
// were asked for.
type fakeRegistries struct {
	tags map[string]string // tag name -> digest
	err  error
	src  *fakeSource
	seen []string
}

func (f *fakeRegistries) For(ns string, obj *workload.Object) Registry {
	f.seen = append(f.seen, ns+"/"+obj.ServiceAccount+"/"+strings.Join(obj.PullSecrets, ","))
	return fakeRegistry{f}
}

type fakeRegistry struct{ f *fakeRegistries }

func (r fakeRegistry) Signatures(ctx context.Context, img name.Digest) ([]attest.Signature, error) {
	return r.f.src.Signatures(ctx, img)
}

func (r fakeRegistry) Resolve(_ context.Context, tag name.Tag) (name.Digest, error) {
	if r.f.err != nil {
		return name.Digest{}, r.f.err
	}
	d, ok := r.f.tags[tag.Name()]
	if !ok {
		return name.Digest{}, errors.New("MANIFEST_UNKNOWN")
	}
	return tag.Context().Digest(d), nil
}

func pinStore(t *testing.T, tagPolicy string) (*fakeSource, Policies) {
	t.Helper()
	store, src := fixture(t)
	store.PutPolicy(&v1beta1.GenericAttestationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "gap", Namespace: "team"},
		Spec:       v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: []string{"aa"}, TagPolicy: tagPolicy},
	})
	return src, store
}

func TestPinner(t *testing.T) {
	t.Parallel()
	deploy := func(images ...string) []byte {
		d := appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			ServiceAccountName: "builder", ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
			Containers: containers(images...),
		}}}}
		raw, _ := json.Marshal(&d)
		return raw
	}
	tests := []struct {
		name      string
		tagPolicy string
		images    []string
		old       []string // UPDATE when set
		err       error
		patches   map[string]string // pointer -> value
		denied    string
	}{
		{
			name: "tags are pinned each from its own resolution", tagPolicy: v1beta1.TagPolicyPin,
			images: []string{"r.example/app:1.0", "r.example/app@" + digestA, "r.example/other"},
			patches: map[string]string{
				"/spec/template/spec/containers/0/image": "r.example/app:1.0@" + digestA,
				"/spec/template/spec/containers/2/image": "r.example/other@" + digestB,
			},
		},
		{name: "deny mode does not touch tags", tagPolicy: v1beta1.TagPolicyDeny, images: []string{"r.example/app:1.0"}},
		{name: "already pinned is left alone", tagPolicy: v1beta1.TagPolicyPin, images: []string{"r.example/app:1.0@" + digestA}},
		{
			name: "unchanged image on update is not re-resolved", tagPolicy: v1beta1.TagPolicyPin,
			images: []string{"r.example/app:1.0"}, old: []string{"r.example/app:1.0"},
		},
		{
			name: "registry error denies and names it", tagPolicy: v1beta1.TagPolicyPin,
			images: []string{"r.example/app:1.0"}, err: errors.New("dial tcp 127.0.0.1:5000: connect: connection refused"),
			denied: "image r.example/app:1.0 is not attested\n  spec.template.spec.containers[0].image: r.example/app:1.0: registry error: cannot resolve tag 1.0: dial tcp 127.0.0.1:5000: connect: connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, store := pinStore(t, tt.tagPolicy)
			regs := &fakeRegistries{src: src, err: tt.err, tags: map[string]string{
				"r.example/app:1.0":      digestA,
				"r.example/other:latest": digestB,
			}}
			req := ctrladmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: "team",
				Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: deploy(tt.images...)},
			}}
			if tt.old != nil {
				req.Operation = admissionv1.Update
				req.OldObject = runtime.RawExtension{Raw: deploy(tt.old...)}
			}
			resp := NewPinner(store, regs).Handle(context.Background(), req)
			if tt.denied != "" {
				if resp.Allowed || resp.Result.Message != tt.denied {
					t.Fatalf("want denial %q, got allowed=%v %q", tt.denied, resp.Allowed, resp.Result.Message)
				}
				return
			}
			if !resp.Allowed {
				t.Fatalf("denied: %s", resp.Result.Message)
			}
			got := map[string]string{}
			for _, p := range resp.Patches {
				if p.Operation != "replace" {
					t.Errorf("patch %+v: want replace", p)
				}
				got[p.Path] = p.Value.(string)
			}
			if len(got) != len(tt.patches) {
				t.Fatalf("patches = %v, want %v", got, tt.patches)
			}
			for k, v := range tt.patches {
				if got[k] != v {
					t.Errorf("patch %s = %q, want %q", k, got[k], v)
				}
			}
			if len(tt.patches) > 0 && (len(regs.seen) != 1 || regs.seen[0] != "team/builder/regcred") {
				t.Errorf("credentials asked for %q, want the pod spec's", regs.seen)
			}
		})
	}
}

// TestImmutableTags: without pinning, tags of repositories declared
// immutable are verified through the digest they resolve to.
func TestImmutableTags(t *testing.T) {
	t.Parallel()
	src, p := pinStore(t, "")
	store := p.(interface {
		PutPolicy(*v1beta1.GenericAttestationPolicy)
	})
	store.PutPolicy(&v1beta1.GenericAttestationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "gap", Namespace: "team"},
		Spec:       v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: []string{"aa"}, ImmutableTagPatterns: []string{"r.example/app:*"}},
	})
	regs := &fakeRegistries{src: src, tags: map[string]string{"r.example/app:1.0": digestA, "r.example/app:2.0": digestB, "r.example/mutable:1.0": digestA}}
	h := NewHandler(p, regs)
	for _, tt := range []struct {
		image   string
		allowed bool
		want    string
	}{
		{"r.example/app:1.0", true, ""},
		{"r.example/app:2.0", false, "no signature found (tag 2.0 resolved to " + digestB + ")"},
		{"r.example/mutable:1.0", false, "referenced by tag"},
	} {
		resp := h.Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(tt.image)}))
		if resp.Allowed != tt.allowed || !strings.Contains(resp.Result.Message, tt.want) {
			t.Errorf("%s: allowed=%v %q, want %v containing %q", tt.image, resp.Allowed, resp.Result.Message, tt.allowed, tt.want)
		}
	}
}
