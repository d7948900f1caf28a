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
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
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
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "@"+app+"@") > 0 || strings.Count(got, app) != 2 {
		t.Errorf("the already pinned image was pinned again or the tag was not pinned once:\n%s", got)
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
