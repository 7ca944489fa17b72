// Package reqlog lets a handler that is not the gateway's (the OAuth
// server's) tell the gateway's one log line per request what error it
// answered with, without either package importing the other: the handler
// notes it on the gin.Context, the gateway's logging middleware reads it.
package reqlog

import "github.com/gin-gonic/gin"

// key is where the note lives among the request's gin keys.
const key = "hellogw.reqlog.note"

// Note is an error a request was answered with.
type Note struct {
	// Outcome is a short machine-readable code, such as an OAuth error code
	// (invalid_grant): the log line's outcome and the metrics' label.
	Outcome string
	// Message says what went wrong in words: the log line's error. It must
	// hold no secret, code or token.
	Message string
}

// NoteError records the error the request is answered with.
func NoteError(c *gin.Context, outcome, message string) {
	c.Set(key, Note{Outcome: outcome, Message: message})
}

// Get returns the note of the request, if a handler made one.
func Get(c *gin.Context) (Note, bool) {
	v, ok := c.Get(key)
	if !ok {
		return Note{}, false
	}
	n, ok := v.(Note)
	return n, ok
}
