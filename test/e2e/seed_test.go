package e2e

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/kritis-project/kritis/internal/demo"
)

// TestSeedScenario runs the original's documented example, the same code
// `make demo` runs, and fails on any outcome that differs from the
// documentation (cases/seed.md).
func TestSeedScenario(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	err := demo.Scenario(context.Background(), demo.Env{
		Kubeconfig: stk.Kubeconfig,
		Registry:   stk.Registry,
		Key:        filepath.Join(dir, "demo.key"),
		Pub:        filepath.Join(dir, "demo.pub"),
		Kritis:     kritis,
		Kubectl:    filepath.Join(binDir, "kubectl"),
	}, dir, &out)
	if err != nil {
		t.Fatalf("%v\n--- transcript ---\n%s", err, out.String())
	}
	t.Logf("transcript:\n%s", out.String())
}
