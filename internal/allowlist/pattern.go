package allowlist

import (
	"errors"
	"fmt"
	"strings"
)

// MaxPatternLength bounds a pattern, in bytes. Image references are far
// shorter; the bound keeps compiled policies and match cost small.
const MaxPatternLength = 512

// Dialect selects the pattern syntax of the object a pattern comes from.
// The zero value is not a dialect, so a caller that forgets to set one gets
// an error rather than a default.
type Dialect int

const (
	// Kritis is GenericAttestationPolicy.spec.admissionAllowlistPatterns:
	// '*' is allowed only as the last character.
	Kritis Dialect = iota + 1
	// ACK is AdmissionAllowlist.spec.patterns: a '*' before the end matches
	// one run of [A-Za-z0-9_-].
	ACK
)

// String returns the dialect name used in error messages.
func (d Dialect) String() string {
	switch d {
	case Kritis:
		return "kritis"
	case ACK:
		return "ACK"
	default:
		return fmt.Sprintf("Dialect(%d)", int(d))
	}
}

// ErrInvalidPattern is matched by every error Compile returns.
var ErrInvalidPattern = errors.New("invalid allowlist pattern")

// PatternError explains why Compile rejected a pattern.
type PatternError struct {
	Pattern string
	Dialect Dialect
	Reason  string
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("invalid %s allowlist pattern %q: %s", e.Dialect, e.Pattern, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidPattern) hold.
func (e *PatternError) Is(target error) bool { return target == ErrInvalidPattern }

// Pattern is a compiled allowlist pattern. The zero Pattern matches nothing.
// A Pattern is immutable and safe for concurrent use.
type Pattern struct {
	raw     string
	dialect Dialect
	// prefix is the literal text before the first '*' (all of raw when
	// there is no '*').
	prefix string
	// parts holds, for each mid-pattern '*' in order, the literal text that
	// follows it up to the next '*' or the end. Never empty strings.
	parts []string
	// trailing is set when raw ends in '*'.
	trailing bool
	// greedy is set when every part starts with a byte a mid-pattern '*'
	// cannot match, so each star must take the whole run of word bytes in
	// front of it and matching needs no search.
	greedy bool
	// hub is set when the pattern could match a string that starts with a
	// Docker Hub host, so that only such patterns pay for expanding short
	// names.
	hub bool
	// tagScoped is set when the pattern's text names a tag (a ':' after
	// its last '/'): its trailing '*' then never runs over an '@digest',
	// which the kubelet would pull instead of the tag.
	tagScoped bool
}

// Compile checks pattern against the rules of dialect d and compiles it.
// The returned error satisfies errors.Is(err, ErrInvalidPattern) and
// errors.As(err, **PatternError).
func Compile(pattern string, d Dialect) (Pattern, error) {
	bad := func(format string, args ...any) (Pattern, error) {
		return Pattern{}, &PatternError{Pattern: pattern, Dialect: d, Reason: fmt.Sprintf(format, args...)}
	}
	if d != Kritis && d != ACK {
		return bad("unknown dialect")
	}
	if pattern == "" {
		return bad("empty")
	}
	if len(pattern) > MaxPatternLength {
		return bad("longer than %d bytes", MaxPatternLength)
	}
	if i := indexNonPrintable(pattern); i >= 0 {
		return bad("byte %#02x at offset %d; image references are printable ASCII without spaces", pattern[i], i)
	}

	body, trailing := strings.CutSuffix(pattern, "*")
	chunks := strings.Split(body, "*")
	if len(chunks) > 1 {
		if d == Kritis {
			return bad("'*' is only allowed as the last character")
		}
		for _, c := range chunks[1:] {
			// An empty chunk after a mid star means two adjacent stars
			// (or a mid star directly before the trailing one).
			if c == "" {
				return bad("'**' has no meaning; use a single '*'")
			}
		}
	}
	p := Pattern{
		raw:      pattern,
		dialect:  d,
		prefix:   chunks[0],
		trailing: trailing,
	}
	if len(chunks) > 1 {
		p.parts = chunks[1:]
		p.greedy = true
		for _, c := range p.parts {
			p.greedy = p.greedy && !isWordByte(c[0])
		}
	}
	lit := strings.ReplaceAll(body, "*", "")
	p.tagScoped = strings.LastIndexByte(lit, ':') > strings.LastIndexByte(lit, '/') && !strings.Contains(lit, "@")
	p.hub = compatible(p.prefix, dockerHubHost+"/") || compatible(p.prefix, dockerHubIndex+"/")
	return p, nil
}

// MustCompile is Compile for patterns fixed in code; it panics on error.
func MustCompile(pattern string, d Dialect) Pattern {
	p, err := Compile(pattern, d)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Dialect returns the dialect the pattern was compiled with.
func (p Pattern) Dialect() Dialect { return p.dialect }

// Match reports whether image, as written or in one of its fully-qualified
// Docker Hub spellings, matches the pattern.
func (p Pattern) Match(image string) bool {
	if p.raw == "" || !plausibleImage(image) {
		return false
	}
	if p.match(image) {
		return true
	}
	if !p.hub {
		return false
	}
	for _, alt := range dockerHubForms(image) {
		if p.match(alt) {
			return true
		}
	}
	return false
}

// match matches s alone, without Docker Hub expansion.
func (p *Pattern) match(s string) bool {
	if !strings.HasPrefix(s, p.prefix) {
		return false
	}
	switch {
	case len(p.parts) == 0:
		return p.tailMatches(s, len(p.prefix))
	case p.greedy:
		return p.matchGreedy(s)
	default:
		return p.matchStars(s)
	}
}

// tailMatches reports whether s[from:] is what the end of the pattern
// accepts: nothing at all, or with a trailing '*', anything but '/'.
func (p *Pattern) tailMatches(s string, from int) bool {
	if p.trailing {
		if p.tagScoped && strings.IndexByte(s[from:], '@') >= 0 {
			return false
		}
		return strings.IndexByte(s[from:], '/') < 0
	}
	return from == len(s)
}

// matchGreedy handles patterns whose mid-pattern stars are each followed by
// a byte outside [A-Za-z0-9_-], the common case ("cn-*.example.com",
// "*.trusted.example", "org/*/app"): such a star has exactly one way to end.
func (p *Pattern) matchGreedy(s string) bool {
	pos := len(p.prefix)
	for _, lit := range p.parts {
		run := pos
		for run < len(s) && isWordByte(s[run]) {
			run++
		}
		if run == pos || !strings.HasPrefix(s[run:], lit) {
			return false
		}
		pos = run + len(lit)
	}
	return p.tailMatches(s, pos)
}

// matchStars handles the remaining patterns with mid-pattern stars. Rather than trying
// each way a star could end (which backtracks exponentially on patterns
// such as "*-*-*-*x"), it carries the set of offsets in s at which the
// pattern matched so far could stand, one star and literal at a time.
func (p *Pattern) matchStars(s string) bool {
	n := len(s)
	// Image references are almost always short enough for the stack.
	var bufA, bufB [256]bool
	var cur, next []bool
	if n < len(bufA) {
		cur, next = bufA[:n+1], bufB[:n+1]
	} else {
		cur, next = make([]bool, n+1), make([]bool, n+1)
	}
	cur[len(p.prefix)] = true
	for _, lit := range p.parts {
		clear(next)
		found := false
		// reach: some offset in cur lies before q and every byte between
		// it and q is a word byte, so the star can end at q.
		reach := false
		for q := len(p.prefix) + 1; q+len(lit) <= n; q++ {
			reach = isWordByte(s[q-1]) && (reach || cur[q-1])
			if reach && s[q:q+len(lit)] == lit {
				next[q+len(lit)] = true
				found = true
			}
		}
		if !found {
			return false
		}
		cur, next = next, cur
	}
	for q, ok := range cur {
		if ok && p.tailMatches(s, q) {
			return true
		}
	}
	return false
}

// isWordByte is the class a mid-pattern '*' matches: [A-Za-z0-9_-].
func isWordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-'
}

// plausibleImage rejects strings that cannot be image references and that a
// trailing '*' would otherwise happily match: the empty string and strings
// with spaces, control characters or non-ASCII bytes.
func plausibleImage(image string) bool {
	return image != "" && indexNonPrintable(image) < 0
}

// indexNonPrintable returns the offset of the first byte of s outside
// printable ASCII (0x21 to 0x7e), or -1.
func indexNonPrintable(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return i
		}
	}
	return -1
}

// compatible reports whether one of a and b is a prefix of the other, that
// is whether a string starting with a can also start with b.
func compatible(a, b string) bool {
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}
