package admission

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// maxBody is the largest AdmissionReview read; the API server's own limit
// on objects is 3 MiB, and a review carries the object twice on UPDATE.
const maxBody = 7 << 20

// RejectMalformed answers 400 Bad Request to a body that is not an
// AdmissionReview with a request in it, before next sees it. Well-formed
// bodies go on to next unchanged.
func RejectMalformed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "admission reviews are POSTed", http.StatusMethodNotAllowed)
			return
		}
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
			http.Error(w, "admission reviews are application/json", http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			http.Error(w, fmt.Sprintf("reading body: %v", err), http.StatusBadRequest)
			return
		}
		if len(body) > maxBody {
			http.Error(w, "body exceeds 7 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		var probe struct {
			APIVersion string          `json:"apiVersion"`
			Kind       string          `json:"kind"`
			Request    json.RawMessage `json:"request"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			http.Error(w, fmt.Sprintf("body is not an AdmissionReview: %v", err), http.StatusBadRequest)
			return
		}
		if probe.Kind != "AdmissionReview" || len(probe.Request) == 0 || string(probe.Request) == "null" {
			http.Error(w, "body is not an AdmissionReview with a request", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}
