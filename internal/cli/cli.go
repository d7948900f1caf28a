// Package cli implements the kritis command: keygen, sign, verify and demo.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the command line args and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "kritis",
		Short:         "Sign container images and check them against kritis attestation policies",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(keygenCmd(), signCmd(), verifyCmd(), resolveCmd(), demoCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "kritis: %v\n", err)
		return 1
	}
	return 0
}
