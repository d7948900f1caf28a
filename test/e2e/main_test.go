// Package e2e drives the real kube-apiserver, etcd, distribution registry
// and the webhook (in this process, serving HTTPS to the API server) through
// the scenarios of ../../shared/cases. The binaries come from bin/, built by
// hack/tools.sh; without them the tests fail rather than skip, because a
// skipped end-to-end suite is a green light nobody earned.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kritis-project/kritis/internal/hook"
	"github.com/kritis-project/kritis/internal/stack"
)

var (
	stk    *stack.Stack
	kube   kubernetes.Interface
	crc    client.Client
	binDir string
	kritis string // the kritis CLI, built for these tests
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	binDir = os.Getenv("KRITIS_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(root, "bin")
	}
	work, err := os.MkdirTemp("", "kritis-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)

	kritis = filepath.Join(work, "kritis")
	build := exec.Command("go", "build", "-o", kritis, "./cmd/kritis")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building kritis: %v\n%s", err, out)
		return 1
	}

	stk, err = stack.Start(context.Background(), stack.Options{
		BinDir:   binDir,
		WorkDir:  work,
		Progress: os.Stderr,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer func() {
		if err := stk.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: stopping: %v\n", err)
		}
	}()
	if kube, err = kubernetes.NewForConfig(stk.Config); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if crc, err = client.New(stk.Config, client.Options{Scheme: hook.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
