package cli

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/kritis-project/kritis/internal/reference"
	"github.com/kritis-project/kritis/pkg/attest"
)

// registryFlags are the registry settings sign and verify share.
type registryFlags struct {
	insecure []string
}

func (r *registryFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&r.insecure, "allow-http-registry", nil, "registry host[:port] to reach over plain HTTP (repeatable); loopback registries always are")
}

func (r *registryFlags) remoteOptions(cmd *cobra.Command) []remote.Option {
	return []remote.Option{remote.WithContext(cmd.Context()), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
}

func (r *registryFlags) source() (*attest.RegistrySource, error) {
	opts := []attest.Option{attest.WithKeychain(authn.DefaultKeychain), attest.WithUserAgent("kritis")}
	if len(r.insecure) > 0 {
		opts = append(opts, attest.WithInsecureRegistries(r.insecure...))
	}
	return attest.NewRegistrySource(opts...)
}

// digestArg parses IMAGE@sha256:DIGEST, refusing tags: a signature is for
// one digest, and signing whatever a tag names today is how the wrong image
// gets signed.
func digestArg(s string) (reference.Ref, error) {
	ref, err := reference.Parse(s)
	if err != nil {
		return ref, err
	}
	if ref.Digest == nil {
		return ref, fmt.Errorf("%s names a tag; give the image by digest (%s@sha256:...), e.g. from `kritis resolve %s`", s, ref.Tag.Context(), s)
	}
	return ref, nil
}

func signCmd() *cobra.Command {
	var (
		keyPath, keyID string
		force          bool
		reg            registryFlags
	)
	cmd := &cobra.Command{
		Use:   "sign --key KEY [--key-id ID] IMAGE@sha256:DIGEST",
		Short: "Sign an image digest and push the signature next to it, as cosign stores signatures",
		Long: `sign writes a simple-signing payload for IMAGE's repository and DIGEST,
signs it with KEY (PEM, as keygen writes it) and appends the signature to the
image's signature manifest (<repository>:sha256-<hex>.sig). With --key-id the
payload records the id, which must then equal the authority's publicKeyId.
Registry credentials come from the docker config (~/.docker/config.json).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := digestArg(args[0])
			if err != nil {
				return err
			}
			pemBytes, err := os.ReadFile(keyPath)
			if err != nil {
				return fmt.Errorf("reading key: %w", err)
			}
			key, err := attest.ParsePrivateKeyPEM(pemBytes)
			if err != nil {
				return fmt.Errorf("%s: %w", keyPath, err)
			}
			payload, err := attest.NewPayload(ref.Digest.Context(), ref.Digest.DigestStr(), keyID)
			if err != nil {
				return err
			}
			sig, err := attest.SignRaw(key, payload)
			if err != nil {
				return err
			}
			if !force {
				// A signature for a digest the repository does not hold
				// is almost always a typo.
				if _, err := remote.Head(*ref.Digest, reg.remoteOptions(cmd)...); err != nil {
					return fmt.Errorf("checking that %s exists (--force to sign anyway): %w", args[0], err)
				}
			}
			src, err := reg.source()
			if err != nil {
				return err
			}
			if err := src.Push(cmd.Context(), *ref.Digest, payload, sig); err != nil {
				return err
			}
			tag, _ := attest.SignatureTag(*ref.Digest)
			fmt.Fprintf(cmd.OutOrStdout(), "signed %s@%s with %s, signature pushed to %s\n", ref.Digest.Context(), ref.Digest.DigestStr(), attest.KeyAlgorithm(key.Public()), tag)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "private key PEM file (required)")
	cmd.Flags().StringVar(&keyID, "key-id", "", "key id to record in the payload (the authority's publicKeyId)")
	cmd.Flags().BoolVar(&force, "force", false, "sign even if the registry does not hold the digest")
	_ = cmd.MarkFlagRequired("key")
	reg.bind(cmd)
	return cmd
}

func verifyCmd() *cobra.Command {
	var (
		pubPath, keyID string
		reg            registryFlags
	)
	cmd := &cobra.Command{
		Use:   "verify --key PUB [--key-id ID] IMAGE@sha256:DIGEST",
		Short: "Check that an image digest carries a signature by a public key",
		Long: `verify applies the webhook's rule for one authority: a signature counts only
if it verifies under PUB and its payload names IMAGE's repository and DIGEST
(and, with --key-id, records no other key id). It exits 0 when one does.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := digestArg(args[0])
			if err != nil {
				return err
			}
			pemBytes, err := os.ReadFile(pubPath)
			if err != nil {
				return fmt.Errorf("reading public key: %w", err)
			}
			pub, err := attest.ParsePublicKeyPEM(pemBytes)
			if err != nil {
				return fmt.Errorf("%s: %w", pubPath, err)
			}
			src, err := reg.source()
			if err != nil {
				return err
			}
			sigs, err := src.Signatures(cmd.Context(), *ref.Digest)
			if err != nil {
				return err
			}
			res := attest.Verify(*ref.Digest, sigs, attest.Authority{Name: pubPath, Keys: []attest.PublicKey{{ID: keyID, Key: pub}}})
			if !res.OK {
				return fmt.Errorf("%s is not attested: %s", args[0], res.Detail)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "verified: %s@%s is %s\n", ref.Digest.Context(), ref.Digest.DigestStr(), res.Detail)
			return nil
		},
	}
	cmd.Flags().StringVar(&pubPath, "key", "", "public key PEM file (required)")
	cmd.Flags().StringVar(&keyID, "key-id", "", "the key's id; a signature recording another id does not count")
	_ = cmd.MarkFlagRequired("key")
	reg.bind(cmd)
	return cmd
}
