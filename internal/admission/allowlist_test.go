package admission

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kritis-project/kritis/api/v1beta1"
)

func TestAllowlists(t *testing.T) {
	t.Parallel()
	unsigned := "r.example/app@" + digestB
	tests := []struct {
		name    string
		gap     []string // patterns on a second policy in namespace team
		cluster []v1beta1.AllowlistPattern
		image   string
		allowed bool
		want    string
	}{
		{name: "policy pattern admits", gap: []string{"r.example/app@sha256:*"}, image: unsigned, allowed: true},
		{name: "policy pattern for another image", gap: []string{"r.example/other*"}, image: unsigned, want: "no signature found"},
		{name: "trailing star does not cross a slash", gap: []string{"r.example/*"}, image: "r.example/team/app:1", want: "referenced by tag"},
		{name: "cluster allowlist for all namespaces", cluster: []v1beta1.AllowlistPattern{{NamePattern: "registry-vpc.cn-*.example.com/acs/pause:3.2"}}, image: "registry-vpc.cn-hangzhou.example.com/acs/pause:3.2", allowed: true},
		{name: "cluster allowlist for another namespace", cluster: []v1beta1.AllowlistPattern{{NamePattern: "team.example/app*", Namespace: "team-b"}}, image: "team.example/app:1", want: "referenced by tag"},
		{name: "host wildcard stays in the host", cluster: []v1beta1.AllowlistPattern{{NamePattern: "*.trusted.example/org/*"}}, image: "evil.example/x.trusted.example/org/app:1", want: "referenced by tag"},
		{name: "invalid policy pattern is named", gap: []string{"r.example/*/app"}, image: unsigned, want: "spec.admissionAllowlistPatterns[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, src := fixture(t)
			if tt.gap != nil {
				gap := &v1beta1.GenericAttestationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "gap2", Namespace: "team"}, Spec: v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: []string{"aa2"}}}
				for _, p := range tt.gap {
					gap.Spec.AdmissionAllowlistPatterns = append(gap.Spec.AdmissionAllowlistPatterns, v1beta1.AdmissionAllowlistPattern{NamePattern: p})
				}
				store.PutPolicy(gap)
			}
			if tt.cluster != nil {
				store.PutAllowlist(&v1beta1.AdmissionAllowlist{ObjectMeta: metav1.ObjectMeta{Name: "system"}, Spec: v1beta1.AdmissionAllowlistSpec{Patterns: tt.cluster}})
			}
			resp := NewHandler(store, SourceOnly{src}).Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(tt.image)}))
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%s)", resp.Allowed, tt.allowed, resp.Result.Message)
			}
			if !strings.Contains(resp.Result.Message, tt.want) {
				t.Errorf("message lacks %q:\n%s", tt.want, resp.Result.Message)
			}
		})
	}
}
