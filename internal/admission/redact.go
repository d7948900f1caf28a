package admission

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// errorText renders a registry error for a denial without the body of an
// unstructured HTTP answer. An image may name any host the hook can reach;
// what an internal service answers must not reach the pod's creator. The
// status and the registry's structured error codes stay.
func errorText(err error) string {
	msg := err.Error()
	var te *transport.Error
	if !errors.As(err, &te) || len(te.Errors) > 0 {
		return msg
	}
	full := te.Error()
	short := fmt.Sprintf("unexpected status code %d %s", te.StatusCode, http.StatusText(te.StatusCode))
	if te.Request != nil {
		if i := strings.Index(full, ": unexpected status code"); i >= 0 {
			short = full[:i+2] + short
		}
	}
	return strings.Replace(msg, full, short, 1)
}
