package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kritis-project/kritis/pkg/attest"
)

// cosign runs the real cosign CLI with no transparency log and no network
// beyond the local registry.
func cosign(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "cosign"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"), "SIGSTORE_NO_CACHE=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func kritisCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(kritis, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kritis %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestCosignSignedImageIsAdmitted: an image signed by `cosign sign --key`
// (no transparency log) is admitted when its public key is in an authority.
func TestCosignSignedImageIsAdmitted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cosign(t, dir, "generate-key-pair")
	img := pushRandom(t, "interop/cosign-signed", "v1")
	unsigned := pushRandom(t, "interop/cosign-signed", "v2")
	cosign(t, dir, "sign", "--key", "cosign.key", "--tlog-upload=false", "--allow-http-registry", "-y", img.String())

	pem, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := attest.ParsePublicKeyPEM(pem)
	if err != nil {
		t.Fatalf("cosign's public key: %v", err)
	}
	ns := namespace(t)
	authority(t, ns, "cosign-aa", pub, "")
	policy(t, ns, "cosign-gap", "cosign-aa")
	if err := createPod(t, ns, "signed", img.String(), false); err != nil {
		t.Fatalf("cosign-signed image denied: %v", err)
	}
	if err := createPod(t, ns, "unsigned", unsigned.String(), false); err == nil || !strings.Contains(err.Error(), "no signature found") {
		t.Fatalf("unsigned image: want denial naming no signature, got %v", err)
	}
	// The CLI applies the same rule.
	kritisCLI(t, dir, "verify", "--key", "cosign.pub", img.String())
}

// TestKritisSignatureVerifiesWithCosign: `cosign verify --key` accepts a
// signature written by `kritis sign`, key id and all.
func TestKritisSignatureVerifiesWithCosign(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := pushRandom(t, "interop/kritis-signed", "v1")
	kritisCLI(t, dir, "keygen", "--output-key", "k.key", "--output-pub", "k.pub")
	kritisCLI(t, dir, "sign", "--key", "k.key", "--key-id", "kms-key-1", img.String())
	out := cosign(t, dir, "verify", "--key", "k.pub", "--insecure-ignore-tlog", "--allow-http-registry", img.String())
	if !strings.Contains(out, img.DigestStr()) || !strings.Contains(out, "kms-key-1") {
		t.Fatalf("cosign verify output lacks the digest or the key id:\n%s", out)
	}
}
