package gateway

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxBody is the request body limit when the config gives none.
const DefaultMaxBody = 1 << 20

// readBody reads the request body, undoing a gzip Content-Encoding, and
// refuses more than limit bytes before or after decompression. A body
// whose Content-Length is already over the limit is refused unread.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	var zr *gzip.Reader
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		var err error
		if zr, err = gzip.NewReader(body); err != nil {
			return nil, bodyError(err, limit, "the gzip request body is corrupt")
		}
		defer zr.Close()
		// The limit applies to what the body expands to, too: a small
		// gzip body can unpack to gigabytes.
		body = io.LimitReader(zr, limit+1)
	default:
		return nil, errorf(KindUnsupportedType, "this Content-Encoding is not supported; send identity or gzip")
	}

	if zr == nil && r.ContentLength >= 0 {
		// The usual case: the size is known, so read it in one piece.
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, bodyError(err, limit, "the request body could not be read")
		}
		return buf, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, bodyError(err, limit, "the request body could not be read")
	}
	if int64(buf.Len()) > limit {
		return nil, tooLarge(limit)
	}
	return buf.Bytes(), nil
}

func tooLarge(limit int64) *Error {
	return errorf(KindTooLarge, "the request body is larger than the limit of %d bytes", limit)
}

func bodyError(err error, limit int64, msg string) *Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(limit)
	}
	return errorf(KindInvalid, "%s", msg)
}
