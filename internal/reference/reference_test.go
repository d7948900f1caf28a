package reference

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	d := strings.Repeat("a", 64)
	tests := []struct {
		name     string
		in       string
		wantRepo string // empty when an error is expected
		digest   bool
		tag      string
		errHas   string
	}{
		{name: "hub short name with tag", in: "alpine:3.11", wantRepo: "index.docker.io/library/alpine", tag: "3.11"},
		{name: "hub short name without tag is latest", in: "alpine", wantRepo: "index.docker.io/library/alpine", tag: "latest"},
		{name: "hub short name by digest", in: "alpine@sha256:" + d, wantRepo: "index.docker.io/library/alpine", digest: true},
		{name: "docker.io library by digest is the same repository", in: "docker.io/library/alpine@sha256:" + d, wantRepo: "index.docker.io/library/alpine", digest: true},
		{name: "registry with port, tag and digest", in: "r.example:5000/team/app:1.0@sha256:" + d, wantRepo: "r.example:5000/team/app", digest: true},
		{name: "loopback registry", in: "127.0.0.1:5000/kritis-demo/alpine@sha256:" + d, wantRepo: "127.0.0.1:5000/kritis-demo/alpine", digest: true},
		{name: "63 hex digest", in: "r.example/app@sha256:" + d[:63], errHas: "64 lower-case hex"},
		{name: "upper case hex digest", in: "r.example/app@sha256:" + strings.ToUpper(d), errHas: "64 lower-case hex"},
		{name: "upper case repository", in: "r.example/App:1", errHas: "invalid image reference"},
		{name: "sha512 digest", in: "r.example/app@sha512:" + strings.Repeat("a", 128), errHas: `digest algorithm "sha512" is not supported`},
		{name: "two at signs", in: "r.example/app@x@sha256:" + d, errHas: "invalid image reference"},
		{name: "empty", in: "", errHas: "empty"},
		{name: "spaces", in: " alpine", errHas: "space"},
		{name: "no algorithm", in: "alpine@" + d, errHas: "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.in)
			if tt.errHas != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error containing %q", tt.in, r, tt.errHas)
				}
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("Parse(%q) error = %v, want ErrInvalid containing %q", tt.in, err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := r.Repository().Name(); got != tt.wantRepo {
				t.Errorf("repository = %q, want %q", got, tt.wantRepo)
			}
			if (r.Digest != nil) != tt.digest {
				t.Errorf("digest = %v, want %v", r.Digest != nil, tt.digest)
			}
			if tt.tag != "" && (r.Tag == nil || r.Tag.TagStr() != tt.tag) {
				t.Errorf("tag = %v, want %q", r.Tag, tt.tag)
			}
			if r.Written != tt.in {
				t.Errorf("Written = %q, want %q", r.Written, tt.in)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"alpine", "alpine:3.11", "r:5000/a/b:1@sha256:" + strings.Repeat("0", 64), "a@sha512:00", "@", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if (r.Digest == nil) == (r.Tag == nil) {
			t.Fatalf("Parse(%q): exactly one of Digest and Tag must be set", s)
		}
		if r.Digest != nil && !strings.HasPrefix(r.Digest.DigestStr(), "sha256:") {
			t.Fatalf("Parse(%q): accepted non-sha256 digest %s", s, r.Digest.DigestStr())
		}
	})
}
