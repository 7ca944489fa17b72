package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json"

	"github.com/hellogw/hellogw/gateway"
)

// Paths of the control routes (README "Migration control").
const (
	PathWeight   = "/admin/migration/weight"
	PathPause    = "/admin/migration/pause"
	PathResume   = "/admin/migration/resume"
	PathRollback = "/admin/migration/rollback"
	PathRamp     = "/admin/migration/ramp"
)

// ControlRequest is the JSON body of a control route; every field may be
// left out, except the weight of PUT PathWeight.
type ControlRequest struct {
	// Weight is the weight to set (PathWeight) or to resume at
	// (PathResume); the other routes take none.
	Weight *int `json:"weight,omitempty"`
	// Reason is kept in the history with the change.
	Reason string `json:"reason,omitempty"`
}

// maxControlBody bounds a control request's body: a weight and a reason.
const maxControlBody = 64 << 10

// RegisterControl adds the routes that change the migration to routes,
// which must be the admin surface: the gateway's routes, whose Guard lets
// /admin/* through only on the admin listener or with an admin-scope
// token. Each answers the state after the change as JSON, or a problem
// (RFC 9457): 400 for a bad request (a reason over MaxReason characters or
// with a control character among them), 415 for a body not typed
// application/json, 409 for one the state refuses, 503
// when the store cannot be reached, within the deadline that Routes gives
// every request (gateway.Config.StoreTimeout).
func RegisterControl(routes gin.IRoutes, c *Controller) {
	routes.PUT(PathWeight, c.control(true, func(ctx context.Context, r ControlRequest) (State, error) {
		if r.Weight == nil {
			return State{}, &gateway.Error{Kind: gateway.KindInvalid, Message: `the body needs a weight, such as {"weight": 30, "reason": "…"}`}
		}
		return c.SetWeight(ctx, *r.Weight, r.Reason)
	}))
	routes.POST(PathPause, c.control(false, func(ctx context.Context, r ControlRequest) (State, error) {
		return c.Pause(ctx, r.Reason)
	}))
	routes.POST(PathResume, c.control(true, func(ctx context.Context, r ControlRequest) (State, error) {
		return c.Resume(ctx, r.Weight, r.Reason)
	}))
	routes.POST(PathRollback, c.control(false, func(ctx context.Context, r ControlRequest) (State, error) {
		return c.Rollback(ctx, r.Reason)
	}))
	routes.POST(PathRamp, c.control(false, func(ctx context.Context, r ControlRequest) (State, error) {
		return c.Ramp(ctx, r.Reason)
	}))
}

// MaxReason is how many characters a change's reason may have: it is kept
// in the history and shown in the report, the dashboard and `hellogw
// migrate status`.
const MaxReason = 500

// IsControl reports whether r is a control character (Unicode Cc, such as
// ESC, which starts a terminal's escape sequences, or a line break) or a
// bidirectional formatting one (Bidi_Control, which reorders the text
// around it on screen): what a reason may not hold, and what `hellogw
// migrate` escapes in what it prints.
func IsControl(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// noReason is the history's reason of a change requested without one.
const noReason = "(no reason given)"

// control is a control route's handler: it reads the request (an empty
// body is an empty request), makes the change and answers.
func (c *Controller) control(takesWeight bool, change func(context.Context, ControlRequest) (State, error)) gin.HandlerFunc {
	return func(g *gin.Context) {
		// A body of JSON, said so (RFC 8259 §11): a page of another site
		// cannot send that type without a CORS preflight, which the gateway
		// never grants, unlike a form's or text/plain (Fetch, "CORS-safelisted
		// request-header").
		if mt, _, err := mime.ParseMediaType(g.GetHeader("Content-Type")); err != nil || mt != "application/json" {
			gateway.WriteProblem(g, &gateway.Error{Kind: gateway.KindUnsupportedType, Message: "a control request is JSON: send Content-Type: application/json, with an empty body too"})
			return
		}
		var r ControlRequest
		body, err := readBody(g)
		if err == nil && len(body) > 0 {
			err = json.Unmarshal(body, &r, json.RejectUnknownMembers(true))
		}
		switch {
		case err != nil:
			gateway.WriteProblem(g, &gateway.Error{Kind: gateway.KindInvalid, Message: "the body is not a JSON object of weight and reason: " + err.Error()})
			return
		case r.Weight != nil && !takesWeight:
			gateway.WriteProblem(g, &gateway.Error{Kind: gateway.KindInvalid, Message: "this route takes no weight: PUT " + PathWeight + " sets one"})
			return
		case utf8.RuneCountInString(r.Reason) > MaxReason:
			gateway.WriteProblem(g, &gateway.Error{Kind: gateway.KindInvalid, Message: fmt.Sprintf("the reason is longer than %d characters", MaxReason)})
			return
		case strings.ContainsFunc(r.Reason, IsControl):
			gateway.WriteProblem(g, &gateway.Error{Kind: gateway.KindInvalid, Message: "the reason holds a control character, such as a line break, ESC or a bidirectional override: it is one line of plain text"})
			return
		}
		if r.Reason == "" {
			r.Reason = noReason
		}
		ctx := g.Request.Context()
		st, err := change(ctx, r)
		if err != nil {
			gateway.WriteProblem(g, c.controlError(ctx, err))
			return
		}
		out, err := json.Marshal(st)
		if err != nil {
			gateway.WriteProblem(g, &gateway.Error{Kind: gateway.KindInternal, Message: "internal error"})
			return
		}
		g.Header("Cache-Control", "no-store")
		g.Data(http.StatusOK, "application/json", out)
	}
}

// readBody reads a request body of at most maxControlBody bytes.
func readBody(g *gin.Context) ([]byte, error) {
	if g.Request.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(g.Writer, g.Request.Body, maxControlBody))
}

// controlError maps a change's error to the problem answered.
func (c *Controller) controlError(ctx context.Context, err error) *gateway.Error {
	var ge *gateway.Error
	switch {
	case errors.As(err, &ge):
		return ge
	case errors.Is(err, ErrInvalidWeight):
		return &gateway.Error{Kind: gateway.KindInvalid, Message: err.Error()}
	case errors.Is(err, ErrNoRamp), errors.Is(err, ErrRunning), errors.Is(err, ErrRolledBack), errors.Is(err, ErrNoStepAbove):
		return &gateway.Error{Kind: gateway.KindConflict, Message: err.Error()}
	}
	c.log.ErrorContext(ctx, "migration: a change through the admin API", "err", err)
	return &gateway.Error{Kind: gateway.KindUnavailable, Message: "the migration's store cannot be reached: the change is not confirmed (GET /admin/migration shows the state)"}
}
