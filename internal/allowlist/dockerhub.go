package allowlist

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

const (
	dockerHubHost  = "docker.io"
	dockerHubIndex = name.DefaultRegistry // index.docker.io
)

// dockerHubForms returns the fully-qualified spellings of image when it
// parses as a Docker Hub reference: "docker.io/<repository><rest>" and
// "index.docker.io/<repository><rest>", where repository includes the
// implicit "library/" and rest is the tag and/or digest exactly as written.
// Spellings equal to image itself are left out. Images that do not parse,
// or name another registry, have none.
func dockerHubForms(image string) []string {
	if !mayBeDockerHub(image) {
		return nil
	}
	ref, err := name.ParseReference(image)
	if err != nil || ref.Context().RegistryStr() != dockerHubIndex {
		return nil
	}
	_, rest := splitIdentifier(image)
	repo := ref.Context().RepositoryStr()
	forms := make([]string, 0, 2)
	for _, host := range [...]string{dockerHubHost, dockerHubIndex} {
		f := host + "/" + repo + rest
		if f == image {
			continue
		}
		// A short name near the length limit can outgrow it once
		// expanded; such a spelling names nothing and is not offered.
		if len(host)+1+len(repo) > maxNameLength {
			continue
		}
		forms = append(forms, f)
	}
	return forms
}

// mayBeDockerHub is a cheap test, ahead of parsing, that rules out images
// naming another registry. As in pkg/name, the part before the first '/' is
// a registry when it is "localhost" or contains '.' or ':'.
func mayBeDockerHub(image string) bool {
	first, _, found := strings.Cut(image, "/")
	if !found || first != "localhost" && !strings.ContainsAny(first, ".:") {
		return true
	}
	return first == dockerHubHost || first == dockerHubIndex
}

// splitIdentifier splits a reference into its repository part and the
// ":tag", "@digest" or ":tag@digest" that follows it, the way pkg/name does:
// a digest starts at '@'; a tag starts at the last ':' not followed by '/'.
func splitIdentifier(ref string) (repo, rest string) {
	head := ref
	if at := strings.IndexByte(ref, '@'); at >= 0 {
		head = ref[:at]
	}
	if c := strings.LastIndexByte(head, ':'); c >= 0 && c > strings.LastIndexByte(head, '/') {
		return ref[:c], ref[c:]
	}
	return head, ref[len(head):]
}

// maxNameLength is the longest repository name, registry included, that
// references may have.
const maxNameLength = 255
