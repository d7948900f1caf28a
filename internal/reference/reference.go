// Package reference parses image references as written in pod specs, with
// the rules the hook enforces on top of the distribution grammar.
//
// An image can only be verified by digest: a tag names whatever the
// registry says today. Parse therefore tells digests and tags apart, and
// accepts only sha256 digests, the algorithm signatures are stored under.
//
// go-containerregistry's parser, which builds the result, is lenient where
// the hook cannot afford to be: it takes "/" for a repository and "x..y" for
// a registry. Parse first checks the reference against the distribution
// grammar itself, so that whatever it accepts names one repository
// unambiguously, and whatever it refuses is refused with the rule broken.
package reference

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrInvalid marks references that do not parse.
var ErrInvalid = errors.New("invalid image reference")

// Limits of the distribution grammar.
const (
	// MaxNameLength bounds a repository name, registry included.
	MaxNameLength = 255
	// MaxTagLength bounds a tag.
	MaxTagLength = 128
)

// Ref is a parsed image reference.
type Ref struct {
	// Written is the reference as it appears in the spec.
	Written string
	// Digest is set when the reference names a digest (with or without a
	// tag in front of it).
	Digest *name.Digest
	// Tag is set when the reference names only a tag (latest when none is
	// written).
	Tag *name.Tag
}

// Repository is the repository the reference points into.
func (r Ref) Repository() name.Repository {
	if r.Digest != nil {
		return r.Digest.Context()
	}
	return r.Tag.Context()
}

// Parse parses s. Docker Hub short names (alpine) expand to
// index.docker.io/library/alpine, as the kubelet pulls them.
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	invalid := func(format string, args ...any) (Ref, error) {
		return Ref{}, fmt.Errorf("%w %s: %s", ErrInvalid, quote(s), fmt.Sprintf(format, args...))
	}
	if msg := checkChars(s); msg != "" {
		return invalid("%s", msg)
	}

	named, dig, hasDigest := strings.Cut(s, "@")
	if strings.Contains(dig, "@") {
		return invalid("more than one '@'")
	}
	named, tag, hasTag := cutTag(named)
	if msg := checkName(named); msg != "" {
		return invalid("%s", msg)
	}
	if hasTag {
		if msg := checkTag(tag); msg != "" {
			return invalid("%s", msg)
		}
	}
	if hasDigest {
		if msg := checkDigest(dig); msg != "" {
			return invalid("%s", msg)
		}
	}

	var ref Ref
	if hasDigest {
		d, err := name.NewDigest(s)
		if err != nil {
			return Ref{}, fmt.Errorf("%w %s: %w", ErrInvalid, quote(s), err)
		}
		ref = Ref{Written: s, Digest: &d}
	} else {
		t, err := name.NewTag(s)
		if err != nil {
			return Ref{}, fmt.Errorf("%w %s: %w", ErrInvalid, quote(s), err)
		}
		ref = Ref{Written: s, Tag: &t}
	}
	// Docker Hub short names grow by index.docker.io/library/: the name
	// the signatures are looked up under must itself be a valid name.
	if repo := ref.Repository().Name(); len(repo) > MaxNameLength {
		return invalid("repository name %s is longer than %d characters", quote(repo), MaxNameLength)
	}
	return ref, nil
}

// checkChars refuses what no part of a reference may hold. A newline in
// particular would break the layout of a denial message, one line per
// failing container.
func checkChars(s string) string {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return "is not valid UTF-8"
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return "contains whitespace or control characters"
		case r > unicode.MaxASCII:
			return fmt.Sprintf("contains the non-ASCII character %q", r)
		}
	}
	return ""
}

// cutTag splits name:tag. A colon before the last slash belongs to the
// registry's port, not to a tag.
func cutTag(s string) (named, tag string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i < strings.LastIndexByte(s, '/') {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// checkName checks [registry/]path against the distribution grammar. The
// first component is the registry when there are others and it holds a
// '.' or a ':' or is localhost, as go-containerregistry and the kubelet
// decide it.
func checkName(s string) string {
	if s == "" {
		return "no repository name"
	}
	if len(s) > MaxNameLength {
		return fmt.Sprintf("repository name longer than %d characters", MaxNameLength)
	}
	path := s
	if host, rest, ok := strings.Cut(s, "/"); ok && (host == "localhost" || strings.ContainsAny(host, ".:")) {
		if msg := checkRegistry(host); msg != "" {
			return msg
		}
		path = rest
	}
	for _, c := range strings.Split(path, "/") {
		if !pathComponent(c) {
			if c == "" {
				return "empty repository path component (a leading, trailing or doubled '/')"
			}
			return fmt.Sprintf("repository path component %s is invalid: lower-case letters and digits, separated by '.', '_', '__' or dashes", quote(c))
		}
	}
	return ""
}

// pathComponent reports whether c matches
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*.
func pathComponent(c string) bool {
	i := 0
	for {
		// One or more alphanumerics.
		start := i
		for i < len(c) && (c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9') {
			i++
		}
		if i == start {
			return false
		}
		if i == len(c) {
			return true
		}
		// A separator.
		switch {
		case c[i] == '.':
			i++
		case strings.HasPrefix(c[i:], "__"):
			i += 2
		case c[i] == '_':
			i++
		case c[i] == '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// checkRegistry checks host[:port], where host is a DNS name, an IPv4
// address or an IPv6 address in brackets.
func checkRegistry(s string) string {
	bad := func(why string) string { return fmt.Sprintf("registry %s is invalid: %s", quote(s), why) }
	host, port, hasPort := s, "", false
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("no ']' after the IPv6 address")
		}
		host = s[:end+1]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return bad("only a ':port' may follow the IPv6 address")
			}
			port, hasPort = rest[1:], true
		}
		if !ipv6(host[1 : len(host)-1]) {
			return bad("not an IPv6 address in brackets")
		}
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port, hasPort = s[:i], s[i+1:], true
		}
		for _, label := range strings.Split(host, ".") {
			if !dnsLabel(label) {
				return bad("a host name is labels of letters, digits and inner dashes, separated by single dots")
			}
		}
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return bad("the port is not a number from 0 to 65535")
		}
	}
	return ""
}

func dnsLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ipv6 reports whether s is an IPv6 address without a zone.
func ipv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

// checkTag checks a tag against [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func checkTag(t string) string {
	if t == "" {
		return "empty tag after ':'"
	}
	if len(t) > MaxTagLength {
		return fmt.Sprintf("tag longer than %d characters", MaxTagLength)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		word := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if !word && (i == 0 || c != '.' && c != '-') {
			return fmt.Sprintf("tag %s is invalid: letters, digits, '_', '.' and '-', not starting with '.' or '-'", quote(t))
		}
	}
	return ""
}

// checkDigest accepts sha256:<64 lower-case hex> only.
func checkDigest(d string) string {
	if d == "" {
		return "empty digest after '@'"
	}
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return "a digest without an algorithm is not supported; use sha256:<64 hex>"
	}
	if alg != "sha256" {
		return fmt.Sprintf("digest algorithm %s is not supported; use a sha256 digest", quote(alg))
	}
	if len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return "a sha256 digest is 64 lower-case hex characters"
	}
	return ""
}

// Display renders a reference, as written, for a message: unchanged when
// it is short and printable, otherwise quoted, and shortened to its first
// 120 and last 40 characters when longer than 256. A spec may carry any
// string as an image, and a denial must stay readable and bounded.
func Display(s string) string {
	if utf8.RuneCountInString(s) <= 256 && printable(s) {
		return s
	}
	return quote(s)
}

// quote is %q of s, shortened as Display does.
func quote(s string) string {
	return strconv.Quote(shorten(s))
}

func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// shorten keeps the first 120 and the last 40 characters of a string
// longer than 256, saying how many there were in between.
func shorten(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 256 {
		return s
	}
	head := 0
	for i := 0; i < 120; i++ {
		_, size := utf8.DecodeRuneInString(s[head:])
		head += size
	}
	tail := len(s)
	for i := 0; i < 40; i++ {
		_, size := utf8.DecodeLastRuneInString(s[:tail])
		tail -= size
	}
	return fmt.Sprintf("%s…(%d chars)…%s", s[:head], n, s[tail:])
}
