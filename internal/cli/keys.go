package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kritis-project/kritis/pkg/attest"
)

func keygenCmd() *cobra.Command {
	var kind, keyPath, pubPath string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate a key pair as PEM files (private key 0600)",
		Long: `keygen writes a new private key (PKCS#8 PEM, mode 0600) and its public key
(PKIX PEM). Put the public key in an AttestationAuthority:

  publicKeyData: $(base64 < kritis.pub | tr -d '\n')`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := attest.GenerateKey(kind)
			if err != nil {
				return err
			}
			priv, err := attest.MarshalPrivateKeyPEM(key)
			if err != nil {
				return err
			}
			pub, err := attest.MarshalPublicKeyPEM(key.Public())
			if err != nil {
				return err
			}
			// O_EXCL: never overwrite a key someone may depend on.
			f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("writing private key: %w", err)
			}
			if _, err := f.Write(priv); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				return fmt.Errorf("writing public key: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key: %s\npublic key:  %s (%s)\n", keyPath, pubPath, attest.KeyAlgorithm(key.Public()))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "type", "ecdsa-p256", "key type: "+strings.Join(attest.KeyKinds(), ", "))
	f.StringVar(&keyPath, "output-key", "kritis.key", "path of the private key")
	f.StringVar(&pubPath, "output-pub", "kritis.pub", "path of the public key")
	return cmd
}
