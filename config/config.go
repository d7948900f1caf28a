// Package config embeds the manifests the project ships, so that the CLI
// (demo, install) and the tests use the very files an operator applies.
package config

import (
	"embed"
	"fmt"
	"io/fs"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed crd/*.yaml
var crds embed.FS

// CRDs returns the CustomResourceDefinitions of kritis.grafeas.io.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := fs.Glob(crds, "crd/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("internal error: %w", err)
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := crds.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("internal error: %w", err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", f, err)
		}
		out = append(out, &crd)
	}
	return out, nil
}
