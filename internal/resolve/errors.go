package resolve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Kinds of failure. An *Error's Kind is one of them (or context.Canceled),
// and errors.Is(err, ErrAuth) and so on tell them apart.
var (
	// ErrAuth: the registry refused the credentials tried, or asked for
	// credentials and none were found (401 or 403).
	ErrAuth = errors.New("registry authentication failed")
	// ErrNotFound: the registry has no such tag or repository.
	ErrNotFound = errors.New("image not found")
	// ErrUnreachable: no answer could be had from the registry: connection
	// refused or reset, DNS lookup failed, TLS handshake or certificate
	// check failed.
	ErrUnreachable = errors.New("registry unreachable")
	// ErrTimeout: the deadline (the caller's or Options.Timeout) passed.
	ErrTimeout = errors.New("registry timeout")
	// ErrRegistry: the registry answered, but not with a usable digest
	// (a server error, rate limiting, a digest that is not sha256).
	ErrRegistry = errors.New("registry error")
	// ErrCredentials: the pull credentials could not be read (the API
	// server refused or failed, a pull secret is malformed, the docker
	// config could not be read).
	ErrCredentials = errors.New("reading pull credentials failed")
)

// Error is the error every Resolver method returns.
type Error struct {
	// Kind is one of ErrAuth, ErrNotFound, ErrUnreachable, ErrTimeout,
	// ErrRegistry, ErrCredentials, or context.Canceled.
	Kind error
	// Image is the tag being resolved; empty when reading credentials.
	Image string
	// Registry is the registry spoken to; empty when reading credentials.
	Registry string
	// Detail says what failed, in words for the deny message.
	Detail string
	// Err is the underlying cause.
	Err error
}

func (e *Error) Error() string {
	msg := e.Detail
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Image != "" {
		return "resolving " + e.Image + ": " + msg
	}
	return msg
}

// Unwrap gives both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	return []error{e.Kind, e.Err}
}

// classify says which kind of failure err is, and for an unreachable
// registry what went wrong in words. ctx is the context of the request:
// once its deadline has passed, whatever surfaced is a timeout.
func classify(ctx context.Context, err error) (kind error, why string) {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return ErrTimeout, ""
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return context.Canceled, ""
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusUnauthorized, terr.StatusCode == http.StatusForbidden,
			hasCode(terr, transport.UnauthorizedErrorCode), hasCode(terr, transport.DeniedErrorCode):
			return ErrAuth, ""
		case terr.StatusCode == http.StatusNotFound,
			hasCode(terr, transport.ManifestUnknownErrorCode), hasCode(terr, transport.NameUnknownErrorCode):
			return ErrNotFound, ""
		}
		return ErrRegistry, ""
	}
	if why := tlsFailure(err); why != "" {
		return ErrUnreachable, why
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return ErrTimeout, ""
		}
		return ErrUnreachable, "DNS lookup of " + dnsErr.Name + " failed"
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return ErrTimeout, ""
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrUnreachable, "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrUnreachable, "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ErrUnreachable, "no route to the registry"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrUnreachable, "connection closed by the registry"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return ErrUnreachable, "network error"
	}
	return ErrRegistry, ""
}

// tlsFailure names a TLS failure, or returns "".
func tlsFailure(err error) string {
	var (
		unknownCA  x509.UnknownAuthorityError
		hostname   x509.HostnameError
		invalid    x509.CertificateInvalidError
		verify     *tls.CertificateVerificationError
		recordHdr  tls.RecordHeaderError
		alert      tls.AlertError
		echReject  *tls.ECHRejectionError
		systemRoot x509.SystemRootsError
	)
	switch {
	case errors.As(err, &unknownCA):
		return "TLS certificate check failed: certificate signed by an unknown authority (give the registry's CA bundle to the hook)"
	case errors.As(err, &hostname):
		return "TLS certificate check failed: the certificate is not valid for this host name"
	case errors.As(err, &invalid):
		return "TLS certificate check failed: the certificate is invalid or expired"
	case errors.As(err, &systemRoot):
		return "TLS certificate check failed: no system root certificates"
	case errors.As(err, &verify):
		return "TLS certificate check failed"
	case errors.As(err, &recordHdr), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns the RecordHeaderError into a plain error.
		return "TLS handshake failed: the registry does not speak TLS on this port (if it serves plain HTTP, list it as an insecure registry)"
	case errors.As(err, &alert), errors.As(err, &echReject):
		return "TLS handshake failed"
	}
	return ""
}

func hasCode(terr *transport.Error, code transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}
