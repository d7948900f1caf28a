package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/kritis-project/kritis/internal/demo"
)

func demoCmd() *cobra.Command {
	var (
		o                    demo.Options
		teardown, serveStack bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the documented example on a real kube-apiserver, etcd, registry and webhook",
		Long: `demo starts etcd, kube-apiserver, a registry and the webhook on loopback,
pushes and signs an image, applies the documented AttestationAuthority and
GenericAttestationPolicy, runs the documented kubectl commands and checks every
answer. It exits 0 only when every outcome matches.

With --keep the stack stays up and <work-dir>/env holds KUBECONFIG, REGISTRY,
KEY, PUB, KRITIS and KUBECTL for going on by hand; --teardown stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Out = cmd.OutOrStdout()
			self, err := os.Executable()
			if err != nil {
				return err
			}
			o.Self = self
			switch {
			case teardown:
				return demo.Teardown(o)
			case serveStack:
				return demo.ServeStack(cmd.Context(), o)
			default:
				return demo.Run(cmd.Context(), o)
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.BinDir, "bin-dir", "bin", "directory of kube-apiserver, etcd, kubectl, registry and kritis-validation-hook")
	f.StringVar(&o.WorkDir, "work-dir", ".demo", "directory of the demo's state")
	f.BoolVar(&o.Keep, "keep", false, "leave the stack running and write <work-dir>/env")
	f.BoolVar(&teardown, "teardown", false, "stop a stack left by --keep")
	f.BoolVar(&serveStack, "serve-stack", false, "run the stack in the foreground (used by --keep)")
	_ = f.MarkHidden("serve-stack")
	cmd.MarkFlagsMutuallyExclusive("keep", "teardown", "serve-stack")
	return cmd
}
