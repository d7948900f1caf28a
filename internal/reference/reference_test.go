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

		// What go-containerregistry's weak parsing alone lets through.
		{name: "a slash alone", in: "/", errHas: "empty repository path component"},
		{name: "leading dash", in: "-x", errHas: `repository path component "-x" is invalid`},
		{name: "empty dns label", in: "x..y/z", errHas: `registry "x..y" is invalid`},
		{name: "double dot in a path component", in: "x..y", errHas: `repository path component "x..y" is invalid`},
		{name: "at sign alone", in: "@", errHas: "no repository name"},
		{name: "empty digest", in: "a@", errHas: "empty digest after '@'"},
		{name: "empty tag", in: "a:", errHas: "empty tag after ':'"},
		{name: "empty tag before digest", in: "a:@sha256:" + d, errHas: "empty tag after ':'"},
		{name: "newline", in: "a\nb", errHas: "contains whitespace or control characters"},
		{name: "inner space", in: "a b", errHas: "contains whitespace or control characters"},
		{name: "tab", in: "a\t:1", errHas: "contains whitespace or control characters"},
		{name: "NUL", in: "a\x00b", errHas: "contains whitespace or control characters"},
		{name: "no-break space", in: "a\u00a0b", errHas: "contains whitespace or control characters"},
		{name: "line separator", in: "a\u2028b", errHas: "contains whitespace or control characters"},
		{name: "unicode letter", in: "r.example/caf\u00e9:1", errHas: "non-ASCII"},
		{name: "cyrillic lookalike host", in: "r.ex\u0430mple/app:1", errHas: "non-ASCII"},
		{name: "invalid utf-8", in: "a\xffb", errHas: "not valid UTF-8"},
		{name: "upper case first component is not a host", in: "A/b", errHas: `repository path component "A" is invalid`},
		{name: "doubled slash", in: "a//b", errHas: "empty repository path component"},
		{name: "trailing slash", in: "r.example/app/", errHas: "empty repository path component"},
		{name: "registry without repository", in: "r.example/", errHas: "empty repository path component"},
		{name: "name of 300 characters", in: "r.example/" + strings.Repeat("a", 290), errHas: "longer than 255 characters"},
		{name: "short name growing past 255 characters", in: strings.Repeat("a", 240), errHas: "longer than 255 characters"},
		{name: "tag of 129 characters", in: "a:" + strings.Repeat("t", 129), errHas: "tag longer than 128 characters"},
		{name: "tag starting with a dot", in: "a:.1", errHas: `tag ".1" is invalid`},
		{name: "tag with a plus", in: "a:1+2", errHas: `tag "1+2" is invalid`},
		{name: "three underscores", in: "a___b", errHas: "is invalid"},
		{name: "trailing separator", in: "a_", errHas: "is invalid"},
		{name: "dash ending a host label", in: "r-.example/a", errHas: `registry "r-.example" is invalid`},
		{name: "underscore in a host", in: "r_x.example/a", errHas: `registry "r_x.example" is invalid`},
		{name: "port not a number", in: "r.example:http/a", errHas: "the port is not a number"},
		{name: "port out of range", in: "r.example:65536/a", errHas: "the port is not a number"},
		{name: "empty port", in: "r.example:/a", errHas: "the port is not a number"},
		{name: "unclosed IPv6", in: "[::1/a", errHas: "no ']'"},
		{name: "IPv6 with a zone", in: "[fe80::1%eth0]:5000/a", errHas: "not an IPv6 address"},
		{name: "IPv4 in brackets", in: "[127.0.0.1]:5000/a", errHas: "not an IPv6 address"},
		{name: "digest without hex", in: "a@sha256:", errHas: "64 lower-case hex"},
		{name: "digest of a long garbage name is bounded", in: "a@" + strings.Repeat("x", 100000) + ":1", errHas: "…(100000 chars)…"},

		// Unusual but valid.
		{name: "IPv6 registry", in: "[::1]:5000/a:1", wantRepo: "[::1]:5000/a", tag: "1"},
		{name: "IPv6 registry without port", in: "[2001:db8::1]/team/a@sha256:" + d, wantRepo: "[2001:db8::1]/team/a", digest: true},
		{name: "localhost", in: "localhost/app:1", wantRepo: "localhost/app", tag: "1"},
		{name: "localhost with port", in: "localhost:5000/team/app@sha256:" + d, wantRepo: "localhost:5000/team/app", digest: true},
		{name: "upper case host", in: "R.Example/app:1", wantRepo: "R.Example/app", tag: "1"},
		{name: "every separator", in: "r.example/a.b_c__d-e---f/g:v1.0_rc-1", wantRepo: "r.example/a.b_c__d-e---f/g", tag: "v1.0_rc-1"},
		{name: "tag of 128 characters", in: "a:" + strings.Repeat("t", 128), wantRepo: "index.docker.io/library/a", tag: strings.Repeat("t", 128)},
		{name: "hub user repository", in: "user/app:1", wantRepo: "index.docker.io/user/app", tag: "1"},
		{name: "name of 255 characters", in: "r.example/" + strings.Repeat("a", 245), wantRepo: "r.example/" + strings.Repeat("a", 245), tag: "latest"},
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

func TestErrorsAreBounded(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		strings.Repeat("a", 1_000_000),
		"r.example/" + strings.Repeat("A", 1_000_000) + ":1",
		"a:" + strings.Repeat("t", 1_000_000),
		"a@" + strings.Repeat("x", 1_000_000),
		strings.Repeat("\n", 1_000_000),
	} {
		_, err := Parse(in)
		if err == nil {
			t.Fatalf("Parse(%d characters) accepted", len(in))
		}
		if msg := err.Error(); len(msg) > 1000 || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("error for %d characters is %d long or multi-line: %.300q", len(in), len(msg), msg)
		}
	}
}

func TestDisplay(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 200) + strings.Repeat("b", 200)
	tests := []struct{ in, want string }{
		{"alpine:3.11", "alpine:3.11"},
		{"r.example/App:1", "r.example/App:1"},
		{strings.Repeat("a", 256), strings.Repeat("a", 256)},
		{"a\nb", `"a\nb"`},
		{"a\x00b", `"a\x00b"`},
		{"caf\u00e9", "caf\u00e9"},
		{long, `"` + strings.Repeat("a", 120) + "…(400 chars)…" + strings.Repeat("b", 40) + `"`},
		{strings.Repeat("\u00e9", 300), `"` + strings.Repeat("\u00e9", 120) + "…(300 chars)…" + strings.Repeat("\u00e9", 40) + `"`},
	}
	for _, tt := range tests {
		if got := Display(tt.in); got != tt.want {
			t.Errorf("Display(%.40q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"alpine", "alpine:3.11", "r:5000/a/b:1@sha256:" + strings.Repeat("0", 64), "a@sha512:00", "@", ":",
		"/", "-x", "x..y/z", "a@", "a\nb", "A/b", "a//b", "[::1]:5000/a:1", "localhost/a", "docker.io/library/a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): error %v is not ErrInvalid", s, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("Parse(%q): multi-line error %q", s, err)
			}
			return
		}
		if r.Written != s {
			t.Fatalf("Parse(%q): Written = %q", s, r.Written)
		}
		if (r.Digest == nil) == (r.Tag == nil) {
			t.Fatalf("Parse(%q): exactly one of Digest and Tag must be set", s)
		}
		if r.Digest != nil && !strings.HasPrefix(r.Digest.DigestStr(), "sha256:") {
			t.Fatalf("Parse(%q): accepted non-sha256 digest %s", s, r.Digest.DigestStr())
		}
		for _, c := range s {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("Parse(%q): accepted a whitespace, control or non-ASCII character %q", s, c)
			}
		}
		if Display(s) != s {
			t.Fatalf("Parse(%q): accepted a reference Display changes to %s", s, Display(s))
		}
		repo := r.Repository()
		if len(repo.Name()) > MaxNameLength || repo.RepositoryStr() == "" || repo.RegistryStr() == "" {
			t.Fatalf("Parse(%q): repository %q (registry %q, path %q)", s, repo.Name(), repo.RegistryStr(), repo.RepositoryStr())
		}
		// The repository, and the canonical reference, name the same
		// repository when parsed again.
		again, err := Parse(repo.Name())
		if err != nil {
			t.Fatalf("Parse(%q): repository %q does not parse: %v", s, repo.Name(), err)
		}
		if again.Repository().Name() != repo.Name() {
			t.Fatalf("Parse(%q): repository %q parses to repository %q", s, repo.Name(), again.Repository().Name())
		}
		canonical := r.Repository().Name()
		if r.Digest != nil {
			canonical += "@" + r.Digest.DigestStr()
		} else {
			canonical += ":" + r.Tag.TagStr()
		}
		again, err = Parse(canonical)
		if err != nil {
			t.Fatalf("Parse(%q): canonical %q does not parse: %v", s, canonical, err)
		}
		if again.Repository().Name() != repo.Name() || (again.Digest == nil) != (r.Digest == nil) ||
			(r.Digest != nil && again.Digest.DigestStr() != r.Digest.DigestStr()) ||
			(r.Tag != nil && again.Tag.TagStr() != r.Tag.TagStr()) {
			t.Fatalf("Parse(%q): canonical %q parses to %+v", s, canonical, again)
		}
	})
}
