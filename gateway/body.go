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

// readBody reads the request body into buf, undoing a gzip
// Content-Encoding, and refuses more than limit bytes before or after
// decompression. A body whose Content-Length is already over the limit is
// refused unread. The bytes returned are buf's: they are good until buf is
// reused.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, buf *bytes.Buffer) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var gz bool
	switch enc := strings.ToLower(strings.TrimSpace(headerValue(r.Header, fieldContentEncoding))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz = true
	default:
		return nil, Errorf(KindUnsupportedType, "this Content-Encoding is not supported; send identity or gzip")
	}
	buf.Reset()
	if !gz && r.ContentLength >= 0 {
		// The usual case: the size is known, within the limit, and
		// net/http's body reads no further than it. Read it in one piece.
		buf.Grow(int(r.ContentLength))
		b := buf.AvailableBuffer()[:r.ContentLength]
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, bodyError(err, limit, "the request body could not be read")
		}
		return b, nil
	}

	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	if gz {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, bodyError(err, limit, "the gzip request body is corrupt")
		}
		defer zr.Close()
		// The limit applies to what the body expands to, too: a small
		// gzip body can unpack to gigabytes.
		body = io.LimitReader(zr, limit+1)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, bodyError(err, limit, "the request body could not be read")
	}
	if int64(buf.Len()) > limit {
		return nil, tooLarge(limit)
	}
	return buf.Bytes(), nil
}

func tooLarge(limit int64) *Error {
	return Errorf(KindTooLarge, "the request body is larger than the limit of %d bytes", limit)
}

func bodyError(err error, limit int64, msg string) *Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(limit)
	}
	return Errorf(KindInvalid, "%s", msg)
}
