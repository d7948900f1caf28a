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
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kritis-project/kritis/internal/reference"
	"github.com/kritis-project/kritis/internal/resolve"
	"github.com/kritis-project/kritis/internal/workload"
)

func resolveCmd() *cobra.Command {
	var (
		file string
		reg  registryFlags
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
Keys are printed in sorted order and comments are not kept.

With IMAGE arguments instead, it prints each image pinned, one per line.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (file == "") == (len(args) == 0) {
				return fmt.Errorf("give either -f MANIFEST or IMAGE arguments")
			}
			res, err := resolve.New(resolve.Options{Keychain: authn.DefaultKeychain, InsecureRegistries: reg.insecure, UserAgent: "kritis"})
			if err != nil {
				return err
			}
			if len(args) > 0 {
				return pinImages(cmd, res, args)
			}
			var in io.Reader = cmd.InOrStdin()
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			return pinManifests(cmd, res, in, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifest file, or - for stdin")
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

func pinManifests(cmd *cobra.Command, res *resolve.Resolver, in io.Reader, out io.Writer) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(in))
	first := true
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
		if !first {
			fmt.Fprintln(out, "---")
		}
		first = false
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
	var tree any
	if err := json.Unmarshal(js, &tree); err != nil {
		return nil, err
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
		if err := setPointer(tree, img.Pointer, img.Ref+"@"+d.DigestStr()); err != nil {
			return nil, fmt.Errorf("internal error: %w", err)
		}
		changed = true
	}
	if !changed {
		return doc, nil
	}
	return yaml.Marshal(tree)
}

// setPointer sets the string at a JSON pointer of the kind workload
// produces (object keys and array indexes, nothing to unescape).
func setPointer(tree any, ptr, value string) error {
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	cur := tree
	for i, tok := range toks {
		last := i == len(toks)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[tok] = value
				return nil
			}
			cur = c[tok]
		case []any:
			n, err := strconv.Atoi(tok)
			if err != nil || n < 0 || n >= len(c) {
				return fmt.Errorf("pointer %s: bad index %q", ptr, tok)
			}
			if last {
				c[n] = value
				return nil
			}
			cur = c[n]
		default:
			return fmt.Errorf("pointer %s: nothing at %q", ptr, tok)
		}
	}
	return fmt.Errorf("pointer %s: empty", ptr)
}
