package admission

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	"github.com/kritis-project/kritis/pkg/attest"
)

// TestRegistryBodiesStayOut: a pod naming an internal HTTP service as its
// registry must not get that service's answer back in the denial.
func TestRegistryBodiesStayOut(t *testing.T) {
	t.Parallel()
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "token=s3cr3t internal admin page", http.StatusForbidden)
	}))
	defer internal.Close()
	host := strings.TrimPrefix(internal.URL, "http://")
	src, err := attest.NewRegistrySource()
	if err != nil {
		t.Fatal(err)
	}
	store, _ := fixture(t)
	img := host + "/app@" + digestA
	if _, err := name.NewDigest(img); err != nil {
		t.Fatal(err)
	}
	resp := NewHandler(store, SourceOnly{src}).Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(img)}))
	if resp.Allowed {
		t.Fatal("admitted")
	}
	msg := resp.Result.Message
	if strings.Contains(msg, "s3cr3t") {
		t.Fatalf("denial echoes the internal service's body:\n%s", msg)
	}
	if !strings.Contains(msg, "registry error") || !strings.Contains(msg, "403") {
		t.Fatalf("denial lacks the registry error and status:\n%s", msg)
	}
}
