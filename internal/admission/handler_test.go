package admission

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/internal/policy"
	"github.com/kritis-project/kritis/pkg/attest"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// fakeSource serves signatures from memory, keyed by repository@digest.
type fakeSource struct {
	sigs  map[string][]attest.Signature
	err   error
	delay time.Duration
}

func (f *fakeSource) Signatures(ctx context.Context, img name.Digest) ([]attest.Signature, error) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.sigs[img.Context().Name()+"@"+img.DigestStr()], nil
}

type notSynced struct{}

func (notSynced) Namespace(string) (*policy.Namespace, error) { return nil, policy.ErrNotSynced }

// fixture is a namespace "team" with policy gap -> aa (key k), and the
// image r.example/app@A signed by k.
func fixture(t testing.TB) (*policy.Store, *fakeSource) {
	t.Helper()
	k, err := attest.GenerateKey("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	data, err := attest.EncodePublicKeyData(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	s := policy.NewStore()
	s.PutAuthority(&v1beta1.AttestationAuthority{
		ObjectMeta: metav1.ObjectMeta{Name: "aa", Namespace: "team"},
		Spec:       v1beta1.AttestationAuthoritySpec{PublicKeyData: data},
	})
	s.PutPolicy(&v1beta1.GenericAttestationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "gap", Namespace: "team"},
		Spec:       v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: []string{"aa"}},
	})
	s.MarkSynced()
	repo, _ := name.NewRepository("r.example/app")
	payload, err := attest.NewPayload(repo, digestA, "")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := attest.SignRaw(k, payload)
	if err != nil {
		t.Fatal(err)
	}
	return s, &fakeSource{sigs: map[string][]attest.Signature{
		"r.example/app@" + digestA: {{Payload: payload, Sig: sig}},
	}}
}

func podRequest(t testing.TB, ns string, spec corev1.PodSpec) ctrladmission.Request {
	t.Helper()
	raw, err := json.Marshal(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns}, Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	return ctrladmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "uid-1",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Namespace: ns,
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}}
}

func containers(images ...string) []corev1.Container {
	var out []corev1.Container
	for i, img := range images {
		out = append(out, corev1.Container{Name: string(rune('a' + i)), Image: img})
	}
	return out
}

func TestHandle(t *testing.T) {
	t.Parallel()
	signed := "r.example/app@" + digestA
	unsigned := "r.example/app@" + digestB
	deployment := func(img string) ctrladmission.Request {
		raw, _ := json.Marshal(&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers(img)}}}})
		return ctrladmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, Namespace: "team",
			Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
		}}
	}
	tests := []struct {
		name     string
		req      ctrladmission.Request
		source   func(*fakeSource)
		policies Policies
		timeout  time.Duration
		allowed  bool
		code     int32 // for errored responses
		want     []string
	}{
		{name: "signed by digest", req: podRequest(t, "team", corev1.PodSpec{Containers: containers(signed)}), allowed: true},
		{name: "namespace without policy", req: podRequest(t, "other", corev1.PodSpec{Containers: containers("alpine:3.11")}), allowed: true},
		{
			name: "tag is denied without a registry call", req: podRequest(t, "team", corev1.PodSpec{Containers: containers("alpine:3.11")}),
			source: func(f *fakeSource) { f.err = errors.New("must not be called") },
			want:   []string{"image alpine:3.11 is not attested\n", "spec.containers[0].image: alpine:3.11: referenced by tag \"3.11\""},
		},
		{
			name: "unsigned init container named by path", req: podRequest(t, "team", corev1.PodSpec{InitContainers: containers(unsigned), Containers: containers(signed)}),
			want: []string{"image " + unsigned + " is not attested", "spec.initContainers[0].image: " + unsigned + ": policy gap: authority aa: no signature found"},
		},
		{
			name: "every failing image is listed", req: podRequest(t, "team", corev1.PodSpec{Containers: containers("alpine", signed, unsigned)}),
			want: []string{"image alpine is not attested", "spec.containers[0].image: alpine: referenced by tag \"latest\"", "spec.containers[2].image: " + unsigned},
		},
		{
			name: "deployment template", req: deployment(unsigned),
			want: []string{"spec.template.spec.containers[0].image: " + unsigned},
		},
		{
			name: "registry error names the cause", req: podRequest(t, "team", corev1.PodSpec{Containers: containers(signed)}),
			source: func(f *fakeSource) { f.err = errors.New("GET https://r.example/v2/: 503 Service Unavailable") },
			want:   []string{"image " + signed + " is not attested", "registry error: GET https://r.example/v2/: 503 Service Unavailable"},
		},
		{
			name: "slow registry hits the hook's deadline", req: podRequest(t, "team", corev1.PodSpec{Containers: containers(signed)}),
			source: func(f *fakeSource) { f.delay = time.Minute }, timeout: 50 * time.Millisecond,
			want: []string{"registry error: no answer within the hook's deadline of 50ms"},
		},
		{
			name: "invalid reference", req: podRequest(t, "team", corev1.PodSpec{Containers: containers("r.example/App:1")}),
			want: []string{"image r.example/App:1 is not attested", "invalid image reference"},
		},
		{
			name: "cache not synced denies", req: podRequest(t, "team", corev1.PodSpec{Containers: containers(signed)}),
			policies: notSynced{}, want: []string{"policy cache is not synced yet"},
		},
		{
			name: "unknown kind denies",
			req: ctrladmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Kind: metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, Namespace: "team",
				Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: []byte(`{}`)},
			}},
			want: []string{"kind Widget (example.com/v1) is not supported by the image policy webhook; remove it from the webhook configuration's rules"},
		},
		{
			name: "object that does not decode is a bad request",
			req: ctrladmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Namespace: "team",
				Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: []byte(`{"spec":{"containers":"nope"}}`)},
			}},
			code: http.StatusBadRequest,
		},
		{
			name:    "delete runs no image",
			req:     ctrladmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Namespace: "team", Operation: admissionv1.Delete}},
			allowed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, src := fixture(t)
			if tt.source != nil {
				tt.source(src)
			}
			var p Policies = store
			if tt.policies != nil {
				p = tt.policies
			}
			opts := []Option{}
			if tt.timeout > 0 {
				opts = append(opts, WithTimeout(tt.timeout))
			}
			resp := NewHandler(p, SourceOnly{src}, opts...).Handle(context.Background(), tt.req)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%s)", resp.Allowed, tt.allowed, resp.Result.Message)
			}
			if tt.code != 0 && resp.Result.Code != tt.code {
				t.Fatalf("code = %d, want %d (%s)", resp.Result.Code, tt.code, resp.Result.Message)
			}
			for _, w := range tt.want {
				if !strings.Contains(resp.Result.Message, w) {
					t.Errorf("message lacks %q:\n%s", w, resp.Result.Message)
				}
			}
		})
	}
}

func TestRejectMalformed(t *testing.T) {
	t.Parallel()
	store, src := fixture(t)
	srv := httptest.NewServer(RejectMalformed(&ctrladmission.Webhook{Handler: NewHandler(store, SourceOnly{src})}))
	defer srv.Close()
	req := podRequest(t, "team", corev1.PodSpec{Containers: containers("alpine:3.11")})
	good, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &req.AdmissionRequest,
	})
	tests := []struct {
		name string
		body string
		code int
	}{
		{"not json", "hello", http.StatusBadRequest},
		{"truncated", string(good[:len(good)/2]), http.StatusBadRequest},
		{"json but not a review", `{"kind":"Pod"}`, http.StatusBadRequest},
		{"review without request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, http.StatusBadRequest},
		{"well formed", string(good), http.StatusOK},
	}
	tests = append(tests, struct {
		name string
		body string
		code int
	}{"well formed but text/plain", "text/plain", http.StatusUnsupportedMediaType})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := "application/json", tt.body
			if tt.body == "text/plain" {
				ct, body = "text/plain", string(good)
			}
			resp, err := http.Post(srv.URL, ct, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.code)
			}
		})
	}
	// The server still answers after the bad requests.
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(string(good)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&review); err != nil {
		t.Fatal(err)
	}
	if review.Response == nil || review.Response.Allowed || review.Response.UID != "uid-1" {
		t.Fatalf("want a denial for uid-1, got %+v", review.Response)
	}
}
