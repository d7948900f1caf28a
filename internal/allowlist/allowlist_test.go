package allowlist

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

var (
	zeros = strings.Repeat("0", 64)
	ones  = strings.Repeat("1", 64)
	as    = strings.Repeat("a", 64)
)

// kritisPatterns are the GenericAttestationPolicy patterns of allowlist.md.
var kritisPatterns = []string{
	"gcr.io/1-my-image*",
	"gcr.io/2-my-image-any-tag:*",
	"gcr.io/3-my-untagged-image",
	"gcr.io/4-my-image-tag-prefix:1.*",
	"gcr.io/5/long/path/my-image*",
	"gcr.io/6-my-image-w-tag:latest",
	"gcr.io/7-my-image@sha256:" + zeros,
	"gcr.io/8-my-image@sha256:*",
	"local-image-1:*",
	"local-image-2:tag",
	"local-image-3:tag*",
}

func TestKritisTable(t *testing.T) {
	t.Parallel()
	var rules []Rule
	for _, p := range kritisPatterns {
		rules = append(rules, Rule{Pattern: MustCompile(p, Kritis), Namespace: "team", Source: "GenericAttestationPolicy team/gap1"})
	}
	set := NewSet(rules...)
	tests := []struct {
		image string
		want  bool
	}{
		{"gcr.io/6-my-image-w-tag:latest", true},
		{"gcr.io/6-my-image-w-tag:some", false},
		{"gcr.io/2-my-image-any-tag:any", true},
		{"gcr.io/1-my-image-abc", true},
		{"gcr.io/1-my-image-abc:tag", true},
		{"gcr.io/1-my-image/a:latest", false},
		{"gcr.io/3-my-untagged-image", true},
		{"gcr.io/3-my-untagged-image:tag", false},
		{"gcr.io/4-my-image-tag-prefix:1.3", true},
		{"gcr.io/4-my-image-tag-prefix:2.3", false},
		{"gcr.io/5/long/path/my-image-1:tag", true},
		{"gcr.io/5/long/path/my-image/image", false},
		{"gcr.io/7-my-image@sha256:" + zeros, true},
		{"gcr.io/7-my-image@sha256:" + ones, false},
		{"gcr.io/8-my-image@sha256:" + ones, true},
		{"local-image-1:any-tag", true},
		{"local-image-2:tag", true},
		{"local-image-2:tag2", false},
		{"local-image-3:tag-any", true},
		{"local-image-3:1tag", false},
		// A pattern naming tags does not cover a digest written after the
		// tag: the kubelet pulls the digest, whatever the tag says.
		{"gcr.io/4-my-image-tag-prefix:1.3@sha256:" + ones, false},
		{"gcr.io/2-my-image-any-tag:any@sha256:" + ones, false},
		{"local-image-1:any-tag@sha256:" + ones, false},
		{"gcr.io/1-my-image-abc:tag@sha256:" + ones, true},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			t.Parallel()
			r, got := set.Match("team", tt.image)
			if got != tt.want {
				t.Fatalf("Match(%q) = %v (rule %q), want %v", tt.image, got, r.Pattern, tt.want)
			}
			if got && (r.Source != "GenericAttestationPolicy team/gap1" || !r.Pattern.Match(tt.image)) {
				t.Fatalf("Match(%q) returned rule %+v, which does not match on its own", tt.image, r)
			}
			// The policy's rules apply in its namespace only.
			if _, got := set.Match("other", tt.image); got {
				t.Fatalf("Match(other, %q) = true, want false", tt.image)
			}
		})
	}
}

func TestACKTable(t *testing.T) {
	t.Parallel()
	const pause = "registry-vpc.cn-*.example.com/acs/pause:3.2"
	tests := []struct {
		name      string
		pattern   string
		ruleNS    string
		namespace string
		image     string
		want      bool
	}{
		{"exact", "nginx:v0.1.0", "", "default", "nginx:v0.1.0", true},
		{"exact other tag", "nginx:v0.1.0", "", "default", "nginx:v0.1.1", false},
		{"trailing star tag", "a.example/nginx*", "", "default", "a.example/nginx:v0.1.0", true},
		{"trailing star no slash", "a.example/nginx*", "", "default", "a.example/nginx/test:v0.1.0", false},
		{"host star hangzhou", pause, "", "kube-system", "registry-vpc.cn-hangzhou.example.com/acs/pause:3.2", true},
		{"host star beijing", pause, "", "kube-system", "registry-vpc.cn-beijing.example.com/acs/pause:3.2", true},
		{"host star not across dot", pause, "", "kube-system", "registry-vpc.cn-hang.zhou.example.com/acs/pause:3.2", false},
		{"other namespace", "team.example/app*", "team-a", "team-b", "team.example/app:1", false},
		{"own namespace", "team.example/app*", "team-a", "team-a", "team.example/app:1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := NewSet(Rule{Pattern: MustCompile(tt.pattern, ACK), Namespace: tt.ruleNS, Source: "AdmissionAllowlist system"})
			r, got := set.Match(tt.namespace, tt.image)
			if got != tt.want {
				t.Fatalf("Match(%q, %q) against %q = %v, want %v", tt.namespace, tt.image, tt.pattern, got, tt.want)
			}
			if got && r.Source != "AdmissionAllowlist system" {
				t.Fatalf("rule source = %q", r.Source)
			}
		})
	}
}

// TestMatch covers the cases an attacker who controls only the image would
// try, and the decisions documented in doc.go.
func TestMatch(t *testing.T) {
	t.Parallel()
	const (
		trusted = "*.trusted.example/org/*"
		pause   = "registry-vpc.cn-*.example.com/acs/pause:3.2"
	)
	tests := []struct {
		name    string
		pattern string
		dialect Dialect
		image   string
		want    bool
	}{
		// A host wildcard stays in the host.
		{"host wildcard own host", trusted, ACK, "eu.trusted.example/org/app:1", true},
		{"host wildcard path contains host", trusted, ACK, "evil.example/x.trusted.example/org/app:1", false},
		{"host wildcard path contains host untagged", trusted, ACK, "evil.example/a.trusted.example/org/app", false},
		{"host wildcard one label only", trusted, ACK, "a.b.trusted.example/org/app", false},
		{"host wildcard suffix host", trusted, ACK, "eu.trusted.example.evil.io/org/app", false},
		{"host wildcard port", trusted, ACK, "eu.trusted.example:5000/org/app", false},
		{"host wildcard deeper path", trusted, ACK, "eu.trusted.example/org/team/app", false},
		{"region wildcard dotted", pause, ACK, "registry-vpc.cn-hang.zhou.example.com/acs/pause:3.2", false},
		{"region wildcard empty", pause, ACK, "registry-vpc.cn-.example.com/acs/pause:3.2", false},
		{"region wildcard suffix host", pause, ACK, "registry-vpc.cn-hangzhou.example.com.evil.io/acs/pause:3.2", false},
		{"region wildcard in path", pause, ACK, "evil.io/registry-vpc.cn-hangzhou.example.com/acs/pause:3.2", false},
		{"region wildcard extra digest", pause, ACK, "registry-vpc.cn-hangzhou.example.com/acs/pause:3.2@sha256:" + as, false},

		// A mid-pattern star matches one run of [A-Za-z0-9_-].
		{"mid star path segment", "a.example/*/app", ACK, "a.example/team-1_X/app", true},
		{"mid star not across slash", "a.example/*/app", ACK, "a.example/x/y/app", false},
		{"mid star not dot", "a.example/*:1", ACK, "a.example/x.y:1", false},
		{"mid star not at", "a.example/app*:1", ACK, "a.example/app@x:1", false},
		{"mid star not colon", "a.example/app:*-prod", ACK, "a.example/app:v1:x-prod", false},
		{"mid star tag", "a.example/app:*-prod", ACK, "a.example/app:v1-prod", true},
		{"mid star tag with dot", "a.example/app:*-prod", ACK, "a.example/app:v1.2-prod", false},
		{"mid star not empty", "a.example/app:*-prod", ACK, "a.example/app:-prod", false},
		{"mid stars ambiguous split", "a.example/*-*-x", ACK, "a.example/a-b-c-x", true},
		{"mid stars too few words", "a.example/*-*-x", ACK, "a.example/a-x", false},
		{"mid star then word", "a.example/app*x:1", ACK, "a.example/app-x-x:1", true},
		{"mid star then word no run", "a.example/app*x:1", ACK, "a.example/appx:1", false},
		{"mid star then word dot", "a.example/app*x:1", ACK, "a.example/app.x:1", false},
		{"leading star", "*/app", ACK, "team/app", true},
		{"leading star host", "*/app", ACK, "a.example/app", false},
		{"mid and trailing star", "registry-vpc.cn-*.example.com/acs/*", ACK, "registry-vpc.cn-hangzhou.example.com/acs/coredns:v1.9", true},
		{"mid and trailing star deeper", "registry-vpc.cn-*.example.com/acs/*", ACK, "registry-vpc.cn-hangzhou.example.com/acs/x/y", false},

		// A trailing star matches ':' and '@' but never '/'.
		{"trailing star digest", "a.example/nginx*", Kritis, "a.example/nginx@sha256:" + as, true},
		{"trailing star tag and digest", "a.example/nginx*", Kritis, "a.example/nginx:1@sha256:" + as, true},
		{"trailing star sibling repository", "a.example/nginx*", Kritis, "a.example/nginx-other:1", true},
		{"trailing star dot-dot path", "a.example/nginx*", Kritis, "a.example/nginx/../evil", false},
		{"trailing star dot-dot path ACK", "a.example/nginx*", ACK, "a.example/nginx/../evil", false},
		{"trailing star slash after tag", "a.example/nginx*", Kritis, "a.example/nginx:1/x", false},
		{"trailing star empty run", "a.example/nginx*", Kritis, "a.example/nginx", true},
		{"lone star short name", "*", Kritis, "alpine:3.11", true},
		{"lone star with host", "*", Kritis, "gcr.io/app", false},

		// No implicit prefix or substring match.
		{"pattern is prefix of image", "gcr.io/app", Kritis, "gcr.io/application", false},
		{"pattern is repository of image", "gcr.io/app", Kritis, "gcr.io/app:1", false},
		{"pattern is parent of image", "gcr.io/app", Kritis, "gcr.io/app/sub", false},
		{"pattern inside image", "gcr.io/app", Kritis, "evil.io/gcr.io/app", false},
		{"image is prefix of pattern", "gcr.io/app:1", Kritis, "gcr.io/app", false},

		// Regular expression metacharacters are literal.
		{"dot is literal", "a.example/app", Kritis, "aXexample/app", false},
		{"dot is literal ACK", "a.example/*", ACK, "aXexample/app", false},
		{"plus is literal", "a+b.example/app", Kritis, "aab.example/app", false},
		{"plus matches itself", "a+b.example/app", Kritis, "a+b.example/app", true},
		{"question mark is literal", "a.example/app?", Kritis, "a.example/ap", false},
		{"question mark is literal 2", "a.example/app?", Kritis, "a.example/appx", false},
		{"brackets are literal", "a.example/[ab]pp", Kritis, "a.example/app", false},
		{"brackets match themselves", "a.example/[ab]pp", ACK, "a.example/[ab]pp", true},
		{"caret and dollar are literal", "^a.example/app$", Kritis, "a.example/app", false},
		{"alternation is literal", "a.example/(x|y)*", ACK, "a.example/x", false},
		{"backslash is literal", `a.example/\w*`, ACK, "a.example/w", false},

		// Docker Hub short names also match their fully-qualified spellings.
		{"hub library tag", "docker.io/library/alpine:*", Kritis, "alpine:3.11", true},
		{"hub index library tag", "index.docker.io/library/alpine:*", Kritis, "alpine:3.11", true},
		{"hub explicit library", "docker.io/library/alpine:*", Kritis, "library/alpine:3.11", true},
		{"hub explicit host", "docker.io/library/alpine:*", Kritis, "docker.io/alpine:3.11", true},
		{"hub index host to docker.io", "docker.io/library/alpine:*", Kritis, "index.docker.io/library/alpine:3.11", true},
		{"hub digest", "docker.io/library/*", Kritis, "alpine@sha256:" + as, true},
		{"hub organisation", "docker.io/*/app:1", ACK, "team/app:1", true},
		{"hub exact keeps no tag", "docker.io/library/alpine", Kritis, "alpine", true},
		{"hub no implicit tag", "docker.io/library/alpine", Kritis, "alpine:latest", false},
		{"hub no implicit latest", "docker.io/library/alpine:latest", Kritis, "alpine", false},
		{"hub not in path", "docker.io/library/alpine:*", Kritis, "evil.example/docker.io/library/alpine:3.11", false},
		{"hub other registry", "docker.io/library/alpine:*", Kritis, "localhost:5000/alpine:1", false},
		{"hub other short name", "docker.io/library/alpine:*", Kritis, "alpine2:1", false},
		{"hub no reverse expansion", "alpine:*", Kritis, "docker.io/library/alpine:3.11", false},
		{"hub never lower-cased", "docker.io/library/alpine:*", Kritis, "ALPINE:3.11", false},
		{"hub unparsable", "docker.io/library/alpine:*", Kritis, "alpine:3.11@sha256:bad", false},
		{"hub trailing star no slash", "docker.io/*", Kritis, "alpine", false},

		// Images that cannot be references never match.
		{"newline after image", "gcr.io/1-my-image*", Kritis, "gcr.io/1-my-image\n", false},
		{"space after image", "gcr.io/1-my-image*", Kritis, "gcr.io/1-my-image ", false},
		{"non-ASCII in tag", "gcr.io/1-my-image*", Kritis, "gcr.io/1-my-image:é", false},
		{"empty image", "*", Kritis, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := MustCompile(tt.pattern, tt.dialect)
			if got := p.Match(tt.image); got != tt.want {
				t.Fatalf("%s pattern %q Match(%q) = %v, want %v", tt.dialect, tt.pattern, tt.image, got, tt.want)
			}
			if _, got := NewSet(Rule{Pattern: p}).Match("ns", tt.image); got != tt.want {
				t.Fatalf("Set.Match(%q) = %v, want %v", tt.image, got, tt.want)
			}
			if got := reference(tt.pattern).matchAny(tt.image); got != tt.want {
				t.Fatalf("reference matcher disagrees with the table: %v", got)
			}
		})
	}
}

// TestMatchCost feeds the search-based matcher patterns on which a
// backtracking matcher takes exponential time, with images long enough to
// leave the stack buffers.
func TestMatchCost(t *testing.T) {
	t.Parallel()
	p := MustCompile(strings.Repeat("*-", 200)+"!", ACK)
	if p.greedy {
		t.Fatal("pattern should need the search-based matcher")
	}
	long := strings.Repeat("a-", 3000)
	if p.Match(long) || p.Match(long+"?") {
		t.Error("matched without the final '!'")
	}
	if !p.Match(long + "!") {
		t.Error("did not match")
	}
	if p.Match(strings.Repeat("a-", 199) + "!") {
		t.Error("matched with too few runs")
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pattern string
		dialect Dialect
		reason  string // "" when the pattern compiles
	}{
		{"empty", "", Kritis, "empty"},
		{"empty ACK", "", ACK, "empty"},
		{"space", " ", Kritis, "printable ASCII"},
		{"trailing space", "gcr.io/app ", ACK, "printable ASCII"},
		{"leading tab", "\tgcr.io/app", Kritis, "printable ASCII"},
		{"inner space", "gcr.io/my app", Kritis, "printable ASCII"},
		{"newline", "gcr.io/app\n*", ACK, "printable ASCII"},
		{"non-ASCII", "gcr.io/appé", Kritis, "printable ASCII"},
		{"too long", "gcr.io/" + strings.Repeat("a", MaxPatternLength), Kritis, "longer than"},
		{"longest", strings.Repeat("a", MaxPatternLength), Kritis, ""},
		{"kritis mid star", "gcr.io/*/app", Kritis, "only allowed as the last character"},
		{"kritis host star", "*.trusted.example/org/*", Kritis, "only allowed as the last character"},
		{"kritis double star", "gcr.io/app**", Kritis, "only allowed as the last character"},
		{"ACK double star end", "gcr.io/app**", ACK, "'**'"},
		{"ACK double star mid", "gcr.io/**/app", ACK, "'**'"},
		{"ACK mid then trailing", "gcr.io/*/*", ACK, ""},
		{"ACK lone double star", "**", ACK, "'**'"},
		{"ACK lone star", "*", ACK, ""},
		{"kritis lone star", "*", Kritis, ""},
		{"unknown dialect", "gcr.io/app", Dialect(0), "unknown dialect"},
		{"unknown dialect 3", "gcr.io/app", Dialect(3), "unknown dialect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tt.pattern, tt.dialect)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Compile(%q, %s) = %v", tt.pattern, tt.dialect, err)
				}
				if p.String() != tt.pattern || p.Dialect() != tt.dialect {
					t.Fatalf("compiled pattern = %q %s", p, p.Dialect())
				}
				return
			}
			if err == nil {
				t.Fatalf("Compile(%q, %s) succeeded, want error about %q", tt.pattern, tt.dialect, tt.reason)
			}
			var pe *PatternError
			if !errors.Is(err, ErrInvalidPattern) || !errors.As(err, &pe) || pe.Pattern != tt.pattern {
				t.Fatalf("error %v is not a *PatternError for %q", err, tt.pattern)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("error %q does not mention %q", err, tt.reason)
			}
			if p.Match(tt.pattern) {
				t.Fatal("the Pattern returned with an error matches")
			}
		})
	}
}

func TestZeroValues(t *testing.T) {
	t.Parallel()
	var p Pattern
	for _, image := range []string{"", "alpine", "docker.io/library/alpine"} {
		if p.Match(image) {
			t.Errorf("zero Pattern matches %q", image)
		}
		var nilSet *Set
		if _, ok := nilSet.Match("ns", image); ok {
			t.Errorf("nil Set matches %q", image)
		}
		if _, ok := NewSet(Rule{Namespace: "ns"}).Match("ns", image); ok {
			t.Errorf("Set with a zero Pattern matches %q", image)
		}
	}
	if (*Set)(nil).Len() != 0 || NewSet().Len() != 0 {
		t.Error("empty sets have rules")
	}
}

func TestSetOrder(t *testing.T) {
	t.Parallel()
	rules := []Rule{
		{Pattern: MustCompile("docker.io/library/alpine*", ACK), Source: "hub"},
		{Pattern: MustCompile("alpine*", Kritis), Namespace: "team", Source: "team"},
		{Pattern: MustCompile("alpine:*", ACK), Source: "cluster"},
	}
	set := NewSet(rules...)
	rules[2].Source = "changed"
	tests := []struct {
		namespace, image, source string
	}{
		// The image as written wins over an earlier rule matching only
		// the fully-qualified spelling.
		{"team", "alpine:3.11", "team"},
		{"other", "alpine:3.11", "cluster"},
		{"other", "docker.io/library/alpine:3.11", "hub"},
		{"other", "alpine@sha256:" + as, "hub"},
		{"team", "alpine@sha256:" + as, "team"},
	}
	for _, tt := range tests {
		t.Run(tt.namespace+"/"+tt.image, func(t *testing.T) {
			t.Parallel()
			r, ok := set.Match(tt.namespace, tt.image)
			if !ok || r.Source != tt.source {
				t.Fatalf("Match = %q %v, want rule %q", r.Source, ok, tt.source)
			}
		})
	}
	if set.Len() != 3 {
		t.Fatalf("Len = %d", set.Len())
	}
}

func TestDockerHubForms(t *testing.T) {
	t.Parallel()
	dig := "@sha256:" + as
	tests := []struct {
		image string
		want  []string
	}{
		{"alpine", []string{"docker.io/library/alpine", "index.docker.io/library/alpine"}},
		{"alpine:3.11", []string{"docker.io/library/alpine:3.11", "index.docker.io/library/alpine:3.11"}},
		{"alpine" + dig, []string{"docker.io/library/alpine" + dig, "index.docker.io/library/alpine" + dig}},
		{"alpine:3.11" + dig, []string{"docker.io/library/alpine:3.11" + dig, "index.docker.io/library/alpine:3.11" + dig}},
		{"team/app:1", []string{"docker.io/team/app:1", "index.docker.io/team/app:1"}},
		{"docker.io/alpine:1", []string{"docker.io/library/alpine:1", "index.docker.io/library/alpine:1"}},
		{"docker.io/library/alpine:1", []string{"index.docker.io/library/alpine:1"}},
		{"index.docker.io/library/alpine:1", []string{"docker.io/library/alpine:1"}},
		{"index.docker.io/alpine", []string{"docker.io/library/alpine", "index.docker.io/library/alpine"}},
		{"gcr.io/app:1", nil},
		{"localhost/app", nil},
		{"localhost:5000/app:1", nil},
		{"Alpine:1", nil},
		{"alpine:", nil},
		{"alpine@sha256:bad", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			t.Parallel()
			if got := dockerHubForms(tt.image); !slices.Equal(got, tt.want) {
				t.Fatalf("dockerHubForms(%q) = %q, want %q", tt.image, got, tt.want)
			}
		})
	}
}

// refMatcher is an independent implementation of the documented semantics
// on top of regexp, used as an oracle.
type refMatcher struct {
	re *regexp.Regexp
}

func reference(pattern string) refMatcher {
	body, trailing := strings.CutSuffix(pattern, "*")
	var b strings.Builder
	b.WriteString(`^`)
	for i, lit := range strings.Split(body, "*") {
		if i > 0 {
			b.WriteString(`[A-Za-z0-9_-]+`)
		}
		b.WriteString(regexp.QuoteMeta(lit))
	}
	if trailing {
		// A pattern naming a tag (':' after its last '/', no '@') may not
		// run on into a digest, which the kubelet would pull instead.
		lit := strings.ReplaceAll(body, "*", "")
		if strings.LastIndex(lit, ":") > strings.LastIndex(lit, "/") && !strings.Contains(lit, "@") {
			b.WriteString(`[^/@]*`)
		} else {
			b.WriteString(`[^/]*`)
		}
	}
	b.WriteString(`$`)
	return refMatcher{re: regexp.MustCompile(b.String())}
}

func (m refMatcher) matchAny(image string) bool {
	if image == "" {
		return false
	}
	for _, c := range image {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	if m.re.MatchString(image) {
		return true
	}
	return slices.ContainsFunc(dockerHubForms(image), m.re.MatchString)
}

func FuzzMatch(f *testing.F) {
	for _, p := range kritisPatterns {
		f.Add(p, false, strings.TrimSuffix(p, "*")+"x:1")
	}
	f.Add("*.trusted.example/org/*", true, "evil.example/x.trusted.example/org/app:1")
	f.Add("registry-vpc.cn-*.example.com/acs/pause:3.2", true, "registry-vpc.cn-hangzhou.example.com/acs/pause:3.2")
	f.Add("a.example/*-*-x", true, "a.example/a-b-c-x")
	f.Add("docker.io/library/alpine:*", false, "alpine:3.11")
	f.Add("docker.io/*/app*", true, "team/app@sha256:"+as)
	f.Add("a.example/nginx*", false, "a.example/nginx/../evil")
	f.Add("*", true, "alpine")
	f.Add("a.example/app", false, "aXexample/app")

	f.Fuzz(func(t *testing.T, pattern string, ack bool, image string) {
		d := Kritis
		if ack {
			d = ACK
		}
		p, err := Compile(pattern, d)
		if err != nil {
			if !errors.Is(err, ErrInvalidPattern) {
				t.Fatalf("Compile error %v is not ErrInvalidPattern", err)
			}
			return
		}
		if len(pattern) > MaxPatternLength || indexNonPrintable(pattern) >= 0 || strings.Contains(pattern, "**") {
			t.Fatalf("Compile accepted %q", pattern)
		}
		if d == Kritis && strings.Contains(strings.TrimSuffix(pattern, "*"), "*") {
			t.Fatalf("Compile accepted a kritis mid-pattern star in %q", pattern)
		}

		if !mayBeDockerHub(image) {
			if ref, err := name.ParseReference(image); err == nil && ref.Context().RegistryStr() == name.DefaultRegistry {
				t.Fatalf("mayBeDockerHub(%q) = false, but it parses as %s", image, ref.Name())
			}
		}
		got := p.Match(image)
		if _, inSet := NewSet(Rule{Pattern: p}).Match("ns", image); inSet != got {
			t.Fatalf("Set.Match = %v, Pattern.Match = %v", inSet, got)
		}
		if want := reference(pattern).matchAny(image); got != want {
			t.Fatalf("%s %q Match(%q) = %v, reference says %v", d, pattern, image, got, want)
		}
		if !got {
			return
		}
		if !plausibleImage(image) {
			t.Fatalf("%q matched the implausible image %q", pattern, image)
		}
		forms := append([]string{image}, dockerHubForms(image)...)
		if !strings.Contains(pattern, "*") && !slices.Contains(forms, pattern) {
			t.Fatalf("literal pattern %q matched %q", pattern, image)
		}
		if d == Kritis && strings.HasSuffix(pattern, "*") {
			prefix := strings.TrimSuffix(pattern, "*")
			if !slices.ContainsFunc(forms, func(f string) bool {
				rest, ok := strings.CutPrefix(f, prefix)
				return ok && !strings.Contains(rest, "/")
			}) {
				t.Fatalf("%q matched %q beyond its literal prefix", pattern, image)
			}
		}
		checkForms(t, image, forms[1:])
	})
}

// checkForms checks that every Docker Hub spelling names the same image as
// image and keeps its tag or digest as written.
func checkForms(t *testing.T, image string, forms []string) {
	t.Helper()
	if len(forms) == 0 {
		return
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		t.Fatalf("forms %q of unparsable %q", forms, image)
	}
	_, rest := splitIdentifier(image)
	for _, f := range forms {
		if !strings.HasPrefix(f, "docker.io/") && !strings.HasPrefix(f, "index.docker.io/") {
			t.Fatalf("form %q of %q is not on Docker Hub", f, image)
		}
		alt, err := name.ParseReference(f)
		if err != nil || alt.Name() != ref.Name() || !strings.HasSuffix(f, rest) {
			t.Fatalf("form %q of %q names %v (%v), want %s", f, image, alt, err, ref.Name())
		}
	}
}

func BenchmarkSetMatch(b *testing.B) {
	var rules []Rule
	add := func(pattern string, d Dialect, ns string) {
		rules = append(rules, Rule{Pattern: MustCompile(pattern, d), Namespace: ns, Source: "bench"})
	}
	for i := range 20 {
		add(fmt.Sprintf("gcr.io/team-%d/app*", i), Kritis, "team")
		add(fmt.Sprintf("registry.example.com/proj%d/img:%d", i, i), Kritis, "team")
	}
	for i := range 9 {
		add(fmt.Sprintf("registry-vpc.cn-*.example%d.com/acs/*", i), ACK, "")
	}
	add("docker.io/library/busybox:*", ACK, "")
	set := NewSet(rules...)
	if set.Len() != 50 {
		b.Fatalf("%d rules", set.Len())
	}
	for _, bc := range []struct {
		name, image string
		want        bool
	}{
		{"hit-first", "gcr.io/team-0/app:1", true},
		{"hit-exact-late", "registry.example.com/proj19/img:19", true},
		{"hit-mid-star", "registry-vpc.cn-hangzhou.example8.com/acs/pause:3.2", true},
		{"hit-hub-short-name", "busybox:1.36", true},
		{"miss-private", "private.example/x/y:1", false},
		{"miss-hub-short-name", "nginx:1.25", false},
		{"miss-digest", "private.example/x/y@sha256:" + as, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := set.Match("team", bc.image); ok != bc.want {
					b.Fatalf("Match(%q) = %v", bc.image, ok)
				}
			}
		})
	}
}
