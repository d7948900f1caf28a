package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"
	yaml3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kritis-project/kritis/internal/reference"
	"github.com/kritis-project/kritis/internal/resolve"
	"github.com/kritis-project/kritis/internal/workload"
)

func resolveCmd() *cobra.Command {
	var (
		files []string
		reg   registryFlags
	)
	cmd := &cobra.Command{
		Use:   "resolve (-f MANIFEST | IMAGE...)",
		Short: "Pin image tags to digests (name:tag@sha256:...), in manifests or given images",
		Long: `resolve reads Kubernetes manifests (several YAML documents; - for stdin),
resolves each image referenced by tag in Pods, Deployments, ReplicaSets,
StatefulSets, DaemonSets, Jobs, CronJobs and ReplicationControllers at its
registry, and prints the manifests with the references rewritten to
name:tag@sha256:<digest>, for GitOps pipelines that pin before they apply.
Other documents pass through. Credentials come from the docker config.
Only the image values change: key order, comments and styles are kept
(document markers and whitespace may be normalised). -f may be repeated.

With IMAGE arguments instead, it prints each image pinned, one per line.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(files) == 0) == (len(args) == 0) {
				return fmt.Errorf("give either -f MANIFEST or IMAGE arguments")
			}
			res, err := resolve.New(resolve.Options{Keychain: authn.DefaultKeychain, InsecureRegistries: reg.insecure, UserAgent: "kritis"})
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return pinImages(cmd, res, args)
			}
			// Several files print as one stream of documents, in order.
			first := true
			for _, file := range files {
				var in io.Reader = cmd.InOrStdin()
				if file != "-" {
					f, err := os.Open(file)
					if err != nil {
						return err
					}
					defer f.Close()
					in = f
				}
				if err := pinManifests(cmd, res, in, cmd.OutOrStdout(), &first); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, or - for stdin (repeatable)")
	reg.bind(cmd)
	return cmd
}

func pinImages(cmd *cobra.Command, res *resolve.Resolver, images []string) error {
	for _, img := range images {
		ref, err := reference.Parse(img)
		if err != nil {
			return err
		}
		if ref.Digest != nil {
			fmt.Fprintln(cmd.OutOrStdout(), img)
			continue
		}
		d, err := res.Resolve(cmd.Context(), *ref.Tag, resolve.Credentials{})
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), img+"@"+d.DigestStr())
	}
	return nil
}

// pinManifests pins the documents of in onto out, separating documents
// with "---" once *first is false.
func pinManifests(cmd *cobra.Command, res *resolve.Resolver, in io.Reader, out io.Writer, first *bool) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(in))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading manifests: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		pinned, err := pinDocument(cmd, res, doc)
		if err != nil {
			return err
		}
		if !*first {
			fmt.Fprintln(out, "---")
		}
		*first = false
		if _, err := out.Write(pinned); err != nil {
			return err
		}
	}
}

// pinDocument returns doc with its tags pinned, or doc unchanged when it is
// not a workload or has nothing to pin.
func pinDocument(cmd *cobra.Command, res *resolve.Resolver, doc []byte) ([]byte, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		return doc, nil // not an object: pass through
	}
	gv, err := schema.ParseGroupVersion(meta.APIVersion)
	if err != nil {
		return doc, nil
	}
	obj, err := workload.Extract(gv.WithKind(meta.Kind), js)
	if err != nil {
		var unsupported *workload.UnsupportedKindError
		if errors.As(err, &unsupported) {
			return doc, nil
		}
		return nil, fmt.Errorf("%s %s: %w", meta.Kind, meta.Metadata.Name, err)
	}
	// Edit the YAML node tree in place, so that key order, comments and
	// styles survive: GitOps diffs should show only the pinned images.
	var root yaml3.Node
	if err := yaml3.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	changed := false
	for _, img := range obj.Images {
		ref, err := reference.Parse(img.Ref)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %s: %w", meta.Kind, meta.Metadata.Name, img.Path, err)
		}
		if ref.Digest != nil {
			continue
		}
		d, err := res.Resolve(cmd.Context(), *ref.Tag, resolve.Credentials{})
		if err != nil {
			return nil, fmt.Errorf("%s %s: %s: %w", meta.Kind, meta.Metadata.Name, img.Path, err)
		}
		if err := setPointer(&root, img.Pointer, img.Ref+"@"+d.DigestStr()); err != nil {
			return nil, fmt.Errorf("internal error: %w", err)
		}
		changed = true
	}
	if !changed {
		return doc, nil
	}
	var out bytes.Buffer
	enc := yaml3.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// setPointer sets the scalar at a JSON pointer of the kind workload
// produces (object keys and array indexes, nothing to unescape) in a YAML
// document node.
func setPointer(root *yaml3.Node, ptr, value string) error {
	cur := root
	if cur.Kind == yaml3.DocumentNode && len(cur.Content) == 1 {
		cur = cur.Content[0]
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		var next *yaml3.Node
		switch cur.Kind {
		case yaml3.MappingNode:
			for i := 0; i+1 < len(cur.Content); i += 2 {
				if cur.Content[i].Value == tok {
					next = cur.Content[i+1]
				}
			}
		case yaml3.SequenceNode:
			n, err := strconv.Atoi(tok)
			if err == nil && n >= 0 && n < len(cur.Content) {
				next = cur.Content[n]
			}
		}
		if next == nil {
			return fmt.Errorf("pointer %s: nothing at %q", ptr, tok)
		}
		cur = next
	}
	if cur.Kind != yaml3.ScalarNode {
		return fmt.Errorf("pointer %s: not a scalar", ptr)
	}
	cur.Value = value
	cur.Tag = "!!str"
	return nil
}
