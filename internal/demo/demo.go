// Package demo runs the original's documented example, verbatim, against the
// real parts: it starts the stack, pushes and signs an image, applies the
// seed's AttestationAuthority and GenericAttestationPolicy with kubectl,
// runs the seed's kubectl commands and checks each answer of the API server
// against the one the documentation promises.
package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// KeyID is the KMS key id of the seed's example.
const KeyID = "4a2ef103-5aa3-4220-89ee-kms-key-id"

// Env is what a person needs to go on from a kept demo; it is written to
// <work dir>/env in shell syntax.
type Env struct {
	Kubeconfig string // KUBECONFIG
	Registry   string // REGISTRY, host:port
	Key        string // KEY, private key of the demo authority
	Pub        string // PUB, its public key
	Kritis     string // KRITIS, the CLI
	Kubectl    string // KUBECTL
}

// Shell renders e as shell assignments.
func (e Env) Shell() string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return fmt.Sprintf("export KUBECONFIG=%s\nexport REGISTRY=%s\nexport KEY=%s\nexport PUB=%s\nexport KRITIS=%s\nexport KUBECTL=%s\n",
		q(e.Kubeconfig), q(e.Registry), q(e.Key), q(e.Pub), q(e.Kritis), q(e.Kubectl))
}

// Scenario runs the seed's example against a running stack described by e.
// It writes what a person would see to out and returns an error naming
// every outcome that differs from the documented one.
func Scenario(ctx context.Context, e Env, workDir string, out io.Writer) error {
	r := &runner{env: e, out: out, dir: workDir}
	repo := e.Registry + "/kritis-demo/alpine"

	r.say("pushing a small image as %s:3.11", repo)
	digest, err := pushImage(ctx, repo+":3.11")
	if err != nil {
		return fmt.Errorf("pushing the demo image: %w", err)
	}
	signed := repo + "@" + digest

	if _, err := r.run(ctx, e.Kritis, "keygen", "--output-key", e.Key, "--output-pub", e.Pub); err != nil {
		return err
	}
	if _, err := r.run(ctx, e.Kritis, "sign", "--key", e.Key, "--key-id", KeyID, signed); err != nil {
		return err
	}

	// The seed's steps 1 and 2, file by file as the documentation writes them.
	pub, err := os.ReadFile(e.Pub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(workDir, "publickey.txt"), pub, 0o644); err != nil {
		return err
	}
	// publicKeyData: $(cat publickey.txt | base64 | tr -d '\n')
	aa := fmt.Sprintf(authorityYAML, base64.StdEncoding.EncodeToString(pub))
	if err := r.apply(ctx, "AttestationAuthority.yaml", aa); err != nil {
		return err
	}
	if err := r.apply(ctx, "GenericAttestationPolicy.yaml", policyYAML); err != nil {
		return err
	}
	if err := r.waitForPolicy(ctx); err != nil {
		return err
	}
	if _, err := r.run(ctx, e.Kubectl, "get", "attestationauthorities,genericattestationpolicies"); err != nil {
		return err
	}

	// The seed's steps 3 and 4, and a bare Pod for the pods webhook.
	deployments := `admission webhook "kritis-validation-hook-deployments.grafeas.io" denied the request: `
	checks := []struct {
		args    []string
		allowed bool
		want    string
	}{
		{[]string{"create", "deployment", "test-denied", "--image=alpine:3.11"}, false, deployments + "image alpine:3.11 is not attested"},
		{[]string{"create", "deployment", "test-denied", "--image=" + repo + ":3.11"}, false, deployments + "image " + repo + ":3.11 is not attested"},
		{[]string{"create", "deployment", "test-allow", "--image=" + signed}, true, "deployment.apps/test-allow created"},
		{[]string{"run", "p", "--image=alpine:3.11"}, false, `admission webhook "kritis-validation-hook.grafeas.io" denied the request: image alpine:3.11 is not attested`},
	}
	var failed []error
	for _, c := range checks {
		got, err := r.run(ctx, e.Kubectl, c.args...)
		firstLine, _, _ := strings.Cut(strings.TrimSpace(got), "\n")
		switch {
		case c.allowed && err != nil:
			failed = append(failed, fmt.Errorf("kubectl %s: want %q, got an error: %s", strings.Join(c.args, " "), c.want, firstLine))
		case !c.allowed && err == nil:
			failed = append(failed, fmt.Errorf("kubectl %s: want a denial, but it was admitted", strings.Join(c.args, " ")))
		case !strings.HasSuffix(firstLine, c.want):
			failed = append(failed, fmt.Errorf("kubectl %s: want %q, got %q", strings.Join(c.args, " "), c.want, firstLine))
		default:
			fmt.Fprintf(out, "    ok: as documented\n")
			continue
		}
		fmt.Fprintf(out, "    MISMATCH: want %q\n", c.want)
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	fmt.Fprintf(out, "\nevery outcome matches the documentation\n")
	return nil
}

const authorityYAML = `apiVersion: kritis.grafeas.io/v1beta1
kind: AttestationAuthority
metadata:
  name: demo-aa
spec:
  noteReference: namespaces/demo-aa
  publicKeyData: %s
  publicKeyId: ` + KeyID + `
`

const policyYAML = `apiVersion: kritis.grafeas.io/v1beta1
kind: GenericAttestationPolicy
metadata:
  name: demo-gap
spec:
  attestationAuthorityNames:
  - demo-aa
`

type runner struct {
	env Env
	out io.Writer
	dir string
}

func (r *runner) say(format string, args ...any) {
	fmt.Fprintf(r.out, "==> "+format+"\n", args...)
}

// run runs a command as a person would type it, echoing it and its output.
// The output is stdout and stderr together, as a terminal shows them.
func (r *runner) run(ctx context.Context, bin string, args ...string) (string, error) {
	fmt.Fprintf(r.out, "\n$ %s %s\n", filepath.Base(bin), strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "KUBECONFIG="+r.env.Kubeconfig)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	fmt.Fprint(r.out, indent(buf.String()))
	if err != nil {
		return buf.String(), fmt.Errorf("%s %s: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return buf.String(), nil
}

func (r *runner) apply(ctx context.Context, file, content string) error {
	if err := os.WriteFile(filepath.Join(r.dir, file), []byte(content), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(r.out, "\n$ cat %s\n%s", file, indent(content))
	_, err := r.run(ctx, r.env.Kubectl, "apply", "-f", file)
	return err
}

// waitForPolicy waits until the webhook has seen the policy: the informer
// cache is fed asynchronously, so a server-side dry run of an unsigned
// Deployment is retried until the webhook denies it.
func (r *runner) waitForPolicy(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		cmd := exec.CommandContext(ctx, r.env.Kubectl, "create", "deployment", "policy-probe", "--image=alpine:3.11", "--dry-run=server")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+r.env.Kubeconfig)
		out, err := cmd.CombinedOutput()
		if err != nil && strings.Contains(string(out), "is not attested") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the webhook did not apply the policy within 30s; last answer: %s", strings.TrimSpace(string(out)))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pushImage pushes a one-file image to ref and returns its digest. It is
// built here rather than pulled, so the demo needs no network.
func pushImage(ctx context.Context, ref string) (string, error) {
	img, err := crane.Image(map[string][]byte{"etc/kritis-demo": []byte("signed by the kritis demo\n")})
	if err != nil {
		return "", err
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}
