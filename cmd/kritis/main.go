// Command kritis is the operator's and the signer's tool: key generation,
// signing and verification of images, and the demo.
package main

import (
	"os"

	"github.com/kritis-project/kritis/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
