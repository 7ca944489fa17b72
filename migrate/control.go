package migrate

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

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

// controlTimeout bounds a change's round trips to the store.
const controlTimeout = 10 * time.Second

// RegisterControl adds the routes that change the migration to routes,
// which must be the admin surface: the gateway's routes, whose Guard lets
// /admin/* through only on the admin listener or with an admin-scope
// token. Each answers the state after the change as JSON, or a problem
// (RFC 9457): 400 for a bad request, 409 for one the state refuses, 503
// when the store cannot be reached.
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

// noReason is the history's reason of a change requested without one.
const noReason = "(no reason given)"

// control is a control route's handler: it reads the request (an empty
// body is an empty request), makes the change and answers.
func (c *Controller) control(takesWeight bool, change func(context.Context, ControlRequest) (State, error)) gin.HandlerFunc {
	return func(g *gin.Context) {
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
		}
		if r.Reason == "" {
			r.Reason = noReason
		}
		ctx, cancel := context.WithTimeout(g.Request.Context(), controlTimeout)
		defer cancel()
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
