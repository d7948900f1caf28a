package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/internal/workload"
)

// TestMessageHints: a denial says what would make the image pass.
func TestMessageHints(t *testing.T) {
	t.Parallel()
	unsigned := "r.example/app@" + digestB
	const pinHint = "; pin it with `kritis resolve`, or set tagPolicy: Pin on the policy to have tags resolved to digests at admission"
	signHint := "; sign r.example/app@" + digestB + " with the authority's key (kritis sign or cosign sign)"
	tests := []struct {
		name      string
		tagPolicy string
		image     string
		want      string
		wantNot   string
	}{
		{
			name: "tag denied", tagPolicy: v1beta1.TagPolicyDeny, image: "r.example/app:1.0",
			want:    "spec.containers[0].image: r.example/app:1.0: referenced by tag \"1.0\"; only a reference by digest (r.example/app@sha256:...) can be verified" + pinHint,
			wantNot: "pinned",
		},
		{
			name: "tag denied by default", image: "alpine",
			want:    "spec.containers[0].image: alpine: referenced by tag \"latest\"; only a reference by digest (index.docker.io/library/alpine@sha256:...) can be verified" + pinHint,
			wantNot: "pinned",
		},
		{
			name: "tag reaching the validating webhook of a pinning namespace", tagPolicy: v1beta1.TagPolicyPin, image: "r.example/app:1.0",
			want: "check that it is installed", wantNot: "kritis resolve",
		},
		{
			name: "unsigned", image: unsigned,
			want: "spec.containers[0].image: " + unsigned + ": policy gap: authority aa: no signature found" + signHint,
		},
		{
			name: "unsigned tag and digest: the hint names the repository and the digest", image: "r.example/app:1.0@" + digestB,
			want: "no signature found" + signHint,
		},
		{
			name: "unsigned Docker Hub short name: the hint names the repository signatures are looked up in", image: "alpine@" + digestB,
			want: "no signature found; sign index.docker.io/library/alpine@" + digestB + " with",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, p := pinStore(t, tt.tagPolicy)
			resp := NewHandler(p, SourceOnly{src}).Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(tt.image)}))
			msg := resp.Result.Message
			if resp.Allowed {
				t.Fatalf("admitted: %s", msg)
			}
			if first := "image " + tt.image + " is not attested\n"; !strings.HasPrefix(msg, first) {
				t.Errorf("message does not start with %q:\n%s", first, msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message lacks %q:\n%s", tt.want, msg)
			}
			if tt.wantNot != "" && strings.Contains(msg, tt.wantNot) {
				t.Errorf("message has %q:\n%s", tt.wantNot, msg)
			}
		})
	}
}

// TestImmutableTagSignHint: the hint comes after the digest the tag
// resolved to, which is the digest to sign.
func TestImmutableTagSignHint(t *testing.T) {
	t.Parallel()
	src, p := pinStore(t, "")
	p.(interface {
		PutPolicy(*v1beta1.GenericAttestationPolicy)
	}).PutPolicy(&v1beta1.GenericAttestationPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "gap", Namespace: "team"},
		Spec:       v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: []string{"aa"}, ImmutableTagPatterns: []string{"r.example/app:*"}},
	})
	regs := &fakeRegistries{src: src, tags: map[string]string{"r.example/app:2.0": digestB}}
	resp := NewHandler(p, regs).Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers("r.example/app:2.0")}))
	want := "no signature found (tag 2.0 resolved to " + digestB + "); sign r.example/app@" + digestB + " with the authority's key (kritis sign or cosign sign)"
	if resp.Allowed || !strings.Contains(resp.Result.Message, want) {
		t.Fatalf("allowed=%v %q, want a denial containing %q", resp.Allowed, resp.Result.Message, want)
	}
}

// TestMessageBounds: whatever a spec holds, the denial stays readable and
// bounded.
func TestMessageBounds(t *testing.T) {
	t.Parallel()
	huge := func(c string) string { return "r.example/" + strings.Repeat(c, 1_000_000) + ":1" }
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("r.example/team-%04d/application-with-a-rather-long-name@%s", i, digestB)
	}
	tests := []struct {
		name   string
		images []string
		first  string   // the message's first line
		has    []string // substrings of the message
		lines  int      // the message's number of lines, 0 for any
	}{
		{
			name:   "two images of a million characters",
			images: []string{huge("a"), huge("b")},
			first:  `image "r.example/` + strings.Repeat("a", 110) + "…(1000012 chars)…" + strings.Repeat("a", 38) + `:1" is not attested`,
			has:    []string{"spec.containers[1].image: \"r.example/bbb", "invalid image reference"},
			lines:  3,
		},
		{
			name:   "a newline in an image does not break the layout",
			images: []string{"r.example/app\nspec.containers[9].image: fake: admitted", "r.example/app@" + digestB},
			first:  `image "r.example/app\nspec.containers[9].image: fake: admitted" is not attested`,
			has:    []string{"contains whitespace or control characters", "spec.containers[1].image: r.example/app@" + digestB + ": policy gap"},
			lines:  3,
		},
		{
			name:   "NUL and escape sequences are quoted",
			images: []string{"r.example/a\x00\x1b[31mb:1"},
			first:  `image "r.example/a\x00\x1b[31mb:1" is not attested`,
			lines:  2,
		},
		{
			name:   "a thousand failing images",
			images: many,
			first:  "image " + many[0] + " is not attested",
			has:    []string{"failing images"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, src := fixture(t)
			rec := &fakeRecorder{}
			resp := NewHandler(store, SourceOnly{src}, WithEventRecorder(rec)).Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(tt.images...)}))
			msg := resp.Result.Message
			if resp.Allowed {
				t.Fatalf("admitted: %.500s", msg)
			}
			if len(msg) > maxDenial || !utf8.ValidString(msg) {
				t.Errorf("message is %d bytes (valid UTF-8: %v), want at most %d", len(msg), utf8.ValidString(msg), maxDenial)
			}
			lines := strings.Split(msg, "\n")
			if lines[0] != tt.first {
				t.Errorf("first line = %.400q, want %.400q", lines[0], tt.first)
			}
			if tt.lines != 0 && len(lines) != tt.lines {
				t.Errorf("%d lines, want %d:\n%.2000s", len(lines), tt.lines, msg)
			}
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "  spec.containers[") && !strings.HasPrefix(l, "  … and ") {
					t.Errorf("line %.200q is not a container's", l)
				}
			}
			for _, h := range tt.has {
				if !strings.Contains(msg, h) {
					t.Errorf("message lacks %q:\n%.2000s", h, msg)
				}
			}
			if len(rec.events) != 1 {
				t.Fatalf("want one event, got %d", len(rec.events))
			}
			if n := rec.events[0].note; len(n) > maxEventNote || !utf8.ValidString(n) {
				t.Errorf("event note is %d bytes (valid UTF-8: %v), want at most %d", len(n), utf8.ValidString(n), maxEventNote)
			}
		})
	}
}

func TestDenialTruncation(t *testing.T) {
	t.Parallel()
	var fs []failure
	for i := range 1000 {
		ref := fmt.Sprintf("r.example/app-%d@%s", i, digestB)
		fs = append(fs, failure{
			image:   workload.Image{Ref: ref, Path: fmt.Sprintf("spec.containers[%d].image", i)},
			reasons: []string{"policy gap: authority aa: no signature found", "policy other: authority bb: no signature found"},
		})
	}
	msg := denial(fs)
	if len(msg) > maxDenial {
		t.Fatalf("denial of %d bytes", len(msg))
	}
	if !strings.HasPrefix(msg, "image r.example/app-0@"+digestB+" is not attested\n  spec.containers[0].image: ") {
		t.Errorf("first lines: %.300s", msg)
	}
	// Count the images the message lists in full; the rest are counted.
	listed := 0
	for i := range fs {
		if strings.Contains(msg, fmt.Sprintf("spec.containers[%d].image: r.example/app-%d@%s: policy other:", i, i, digestB)) {
			listed++
		}
	}
	if want := fmt.Sprintf("\n  … and %d more failing images", len(fs)-listed); !strings.HasSuffix(msg, want) {
		t.Errorf("denial ends %q, want %q", msg[len(msg)-80:], want)
	}
	if listed < 40 {
		t.Errorf("only %d images listed in %d bytes", listed, len(msg))
	}

	// One line longer than a denial line may be is cut, on a character
	// boundary.
	long := denial([]failure{{image: workload.Image{Ref: "r.example/a@" + digestB, Path: "spec.containers[0].image"}, reasons: []string{strings.Repeat("é", 5000)}}})
	if l := len(long) - len("image r.example/a@"+digestB+" is not attested"); l > maxDenialLine || !utf8.ValidString(long) || !strings.HasSuffix(long, "…") {
		t.Errorf("long reason gives a line of %d bytes: %.100q…%q", l, long, long[len(long)-20:])
	}
}
