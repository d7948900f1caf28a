package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestShippedManifests applies config/deploy to the real API server: the
// objects validate, and the hook's service account may do exactly what the
// hook needs.
func TestShippedManifests(t *testing.T) {
	t.Parallel()
	_, here, _, _ := runtime.Caller(0)
	deploy := filepath.Join(filepath.Dir(here), "..", "..", "config", "deploy")
	kubectl := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(binDir, "kubectl"), args...)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+stk.Kubeconfig)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := kubectl("apply", "-f", filepath.Join(deploy, "kritis-validation-hook.yaml")); err != nil {
		t.Fatalf("applying the deployment manifests: %v\n%s", err, out)
	}
	// The webhook configuration is validated but not installed: it points
	// at a Service with no pods here, and the test stack already holds one
	// of that name.
	vwc, err := os.ReadFile(filepath.Join(deploy, "webhook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "webhook.yaml")
	if err := os.WriteFile(renamed, []byte(strings.Replace(string(vwc), "\n  name: kritis-validation-hook\n", "\n  name: shipped-copy\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectl("create", "--dry-run=server", "-f", renamed); err != nil || !strings.Contains(out, "shipped-copy created (server dry run)") {
		t.Fatalf("validating webhook.yaml: %v\n%s", err, out)
	}
	sa := "--as=system:serviceaccount:kritis-system:kritis-validation-hook"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "attestationauthorities.kritis.grafeas.io", "-A"}, "yes"},
		{[]string{"watch", "genericattestationpolicies.kritis.grafeas.io", "-A"}, "yes"},
		{[]string{"list", "admissionallowlists.kritis.grafeas.io"}, "yes"},
		{[]string{"update", "attestationauthorities.kritis.grafeas.io", "--subresource=status", "-n", "default"}, "yes"},
		{[]string{"create", "events.events.k8s.io", "-n", "default"}, "yes"},
		{[]string{"update", "leases.coordination.k8s.io", "-n", "kritis-system"}, "yes"},
		{[]string{"update", "attestationauthorities.kritis.grafeas.io", "-n", "default"}, "no"},
		{[]string{"get", "secrets", "-n", "default"}, "yes"},
		{[]string{"list", "secrets", "-n", "default"}, "no"},
		{[]string{"get", "serviceaccounts", "-n", "default"}, "yes"},
		{[]string{"watch", "serviceaccounts", "-A"}, "yes"},
	} {
		out, _ := kubectl(append([]string{"auth", "can-i", sa}, c.args...)...)
		if lines := strings.Split(out, "\n"); lines[len(lines)-1] != c.want { // kubectl may warn first
			t.Errorf("can-i %s: got %q, want %q", strings.Join(c.args, " "), out, c.want)
		}
	}
}
