package gateway

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id,omitempty"`
}

// problemStatus maps an error kind to its HTTP status.
var problemStatus = [...]int{
	KindInternal:         http.StatusInternalServerError,
	KindInvalid:          http.StatusBadRequest,
	KindTooLarge:         http.StatusRequestEntityTooLarge,
	KindUnsupportedType:  http.StatusUnsupportedMediaType,
	KindUnauthorized:     http.StatusUnauthorized,
	KindMustUnderstand:   http.StatusBadRequest,
	KindVersionMismatch:  http.StatusBadRequest,
	KindBadGateway:       http.StatusBadGateway,
	KindTimeout:          http.StatusGatewayTimeout,
	KindUnavailable:      http.StatusServiceUnavailable,
	KindNotFound:         http.StatusNotFound,
	KindMethodNotAllowed: http.StatusMethodNotAllowed,
	KindForbidden:        http.StatusForbidden,
	KindThrottled:        http.StatusTooManyRequests,
	KindConflict:         http.StatusConflict,           // RFC 9110 §15.5.10
	KindMisdirected:      http.StatusMisdirectedRequest, // RFC 9110 §15.5.20
}

// WriteProblem answers with err as application/problem+json (RFC 9457),
// with the request id, as every route of the gateway does: for handlers
// added to Routes (the admin surface) to answer errors the same way.
func WriteProblem(c *gin.Context, err *Error) {
	noteError(c, err)
	status := problemStatus[err.Kind]
	body, _ := json.Marshal(problem{ // a struct of strings and an int always marshals
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    err.Message,
		RequestID: requestIDOf(c),
	})
	writeData(c, status, ctProblem, body)
}
