package cli

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestResolvePinsEveryWorkload(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	push := func(repo string) string {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(host + "/" + repo + ":1.0")
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	app, job := push("app"), push("job")
	manifest := `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep me
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ` + host + `/app:1.0
      - name: pinned
        image: ` + host + `/app:1.0@` + app + `
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: untouched
data:
  image: ` + host + `/app:1.0
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: job
            image: ` + host + `/job:1.0
`
	file := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"resolve", "-f", file}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		"image: " + host + "/app:1.0@" + app + "\n",
		"image: " + host + "/job:1.0@" + job + "\n",
		"  image: " + host + "/app:1.0\n", // the ConfigMap passes through
		"---\n",
		"# the web tier\napiVersion: apps/v1\nkind: Deployment\n", // comments and key order survive
		"name: web # keep me\n",
		"schedule: \"@daily\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "@"+app+"@") > 0 || strings.Count(got, app) != 2 {
		t.Errorf("the already pinned image was pinned again or the tag was not pinned once:\n%s", got)
	}

	// Repeated -f: every file, in order, one stream of documents.
	out.Reset()
	if code := Main([]string{"resolve", "-f", file, "-f", file}, &out, &errb); code != 0 {
		t.Fatalf("two files: exit %d: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "kind: Deployment"); n != 2 {
		t.Fatalf("two files: %d Deployments in the output, want 2:\n%s", n, out.String())
	}

	// An unknown tag is an error naming the field.
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(manifest, "/job:1.0", "/job:9.9")), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := Main([]string{"resolve", "-f", file}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "spec.jobTemplate.spec.template.spec.containers[0].image") {
		t.Fatalf("unknown tag: exit %d, stderr %q", code, errb.String())
	}
}

func TestResolveImagesAndSign(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	dir := t.TempDir()
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb)
		return out.String(), errb.String(), code
	}

	out, stderr, code := run("resolve", host+"/app:1.0")
	if code != 0 || out != host+"/app:1.0@"+d.String()+"\n" {
		t.Fatalf("resolve IMAGE: exit %d, out %q, err %q", code, out, stderr)
	}
	key, pub := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	if _, stderr, code := run("keygen", "--output-key", key, "--output-pub", pub); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	if _, stderr, code := run("keygen", "--output-key", key, "--output-pub", pub); code == 0 || !strings.Contains(stderr, "exists") {
		t.Fatalf("keygen over an existing key: exit %d, %q", code, stderr)
	}
	missing := host + "/app@sha256:" + strings.Repeat("b", 64)
	if _, stderr, code := run("sign", "--key", key, missing); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("signing a digest the registry lacks: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run("sign", "--key", key, host+"/app:1.0"); code == 0 || !strings.Contains(stderr, "kritis resolve") {
		t.Fatalf("signing a tag: exit %d, %q", code, stderr)
	}
	signed := host + "/app@" + d.String()
	if _, stderr, code := run("sign", "--key", key, "--key-id", "k1", signed); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	if out, stderr, code := run("verify", "--key", pub, "--key-id", "k1", signed); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code := run("verify", "--key", pub, "--key-id", "other", signed); code == 0 || !strings.Contains(stderr, "key id") {
		t.Fatalf("verify with another key id: exit %d, %q", code, stderr)
	}
}
