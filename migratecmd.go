package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hellogw/hellogw/migrate"
)

// migrateUsage heads `hellogw migrate -h`.
const migrateUsage = `usage: hellogw migrate COMMAND [flags]

Reads and changes the migration of a running hellogw (its config's migration
section) through the admin routes: -admin-url is the gateway's -admin-addr, or
its public address with -token, an access token with the admin scope.

  status            the weight, the state, this node's window, the latest changes
  set WEIGHT        send WEIGHT % of the callers (0-100) to the new backend; ends a ramp, pause or rollback
  pause             hold a ramp at its step (the weight stands)
  resume [WEIGHT]   run a paused or rolled-back migration again, at WEIGHT or the weight it had
  rollback          send every caller to the current backend until a resume
  ramp              start the ramp of migration.ramp at its first step above the weight

Every change is kept in the history with -reason.

flags:
`

// migrateFlags are the flags of every migrate command.
type migrateFlags struct {
	adminURL string
	token    string
	reason   string
	timeout  time.Duration
	json     bool
}

// migrateCmd is `hellogw migrate COMMAND [ARG] [flags]`: an HTTP client of
// the admin routes (migrate.RegisterControl, GET /admin/migration).
func (m *Main) migrateCmd(ctx context.Context, args []string) error {
	var f migrateFlags
	fs := flag.NewFlagSet("hellogw migrate", flag.ContinueOnError)
	fs.StringVar(&f.adminURL, "admin-url", env("HELLOGW_ADMIN_URL", "http://127.0.0.1:9090"), "the gateway's admin address (its -admin-addr), or its public URL with -token [HELLOGW_ADMIN_URL]")
	fs.StringVar(&f.token, "token", env("HELLOGW_ADMIN_TOKEN", ""), "a bearer access token with the admin scope, for the public port [HELLOGW_ADMIN_TOKEN]")
	fs.StringVar(&f.reason, "reason", "", "why, for the history (default: the command)")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Second, "how long to wait for the gateway")
	fs.BoolVar(&f.json, "json", false, "print the gateway's JSON answer as it is (compact, control characters escaped)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), migrateUsage)
		fs.PrintDefaults()
	}
	// Flags may come before or after the command and its argument.
	var pos []string
	for rest := args; ; {
		if err := m.parse(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) == 0 {
		fs.SetOutput(m.logOut)
		fs.Usage()
		return errors.New("name a command: status, set, pause, resume, rollback or ramp")
	}
	if f.reason == "" {
		f.reason = "hellogw migrate " + strings.Join(pos, " ")
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cmd, arg := pos[0], pos[1:]
	weight := func(required bool) (*int, error) {
		switch {
		case len(arg) == 0 && !required:
			return nil, nil
		case len(arg) != 1:
			return nil, fmt.Errorf("%s takes one weight, from 0 to 100", cmd)
		}
		w, err := strconv.Atoi(arg[0])
		if err != nil || w < 0 || w > 100 {
			return nil, fmt.Errorf("%s %s: the weight is a whole number from 0 to 100 (a percentage of callers)", cmd, arg[0])
		}
		return &w, nil
	}
	var (
		method, path string
		req          migrate.ControlRequest
		err          error
	)
	switch cmd {
	case "status":
		method, path = http.MethodGet, "/admin/migration"
	case "set":
		method, path = http.MethodPut, migrate.PathWeight
		req.Weight, err = weight(true)
	case "resume":
		method, path = http.MethodPost, migrate.PathResume
		req.Weight, err = weight(false)
	case "pause", "rollback", "ramp":
		method, path = http.MethodPost, map[string]string{"pause": migrate.PathPause, "rollback": migrate.PathRollback, "ramp": migrate.PathRamp}[cmd]
	default:
		return fmt.Errorf("unknown command %q: the commands are status, set, pause, resume, rollback and ramp", cmd)
	}
	switch {
	case err != nil:
		return err
	case len(arg) > 0 && req.Weight == nil:
		return fmt.Errorf("unexpected argument %q: %s takes none", arg[0], cmd)
	}
	var body io.Reader
	if method != http.MethodGet {
		req.Reason = f.reason
		b, _ := json.Marshal(req) // a number and a string always marshal
		body = bytes.NewReader(b)
	}
	answer, err := f.call(ctx, method, path, body)
	if err != nil {
		return err
	}
	if f.json {
		// Compact first: then the answer, if it is JSON, holds control
		// characters only in its strings, where printable's escapes mean
		// the same characters.
		var compact bytes.Buffer
		if json.Compact(&compact, answer) == nil {
			answer = compact.Bytes()
		}
		_, err := io.WriteString(m.Stdout, printable(string(answer))+"\n")
		return err
	}
	return printMigration(m.Stdout, cmd, answer)
}

// call sends one request to the admin routes and returns the answer's
// body; a problem answer is an error saying what the gateway said.
func (f migrateFlags) call(ctx context.Context, method, path string, body io.Reader) ([]byte, error) {
	u := strings.TrimRight(f.adminURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("-admin-url: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token) // RFC 6750 §2.1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no answer from %s within -timeout", f.adminURL)
		}
		return nil, fmt.Errorf("is hellogw running with -admin-addr at %s? %w", f.adminURL, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return answer, nil
	}
	var p struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal(answer, &p) != nil || p.Detail == "" {
		p.Detail = strings.TrimSpace(string(answer))
	}
	p.Detail = printable(p.Detail)
	var hint string
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = " (give -admin-url the gateway's -admin-addr, or -token an access token with the admin scope)"
	case http.StatusNotFound:
		hint = " (does the gateway's config have a migration section? -admin-url must be its -admin-addr or its public URL)"
	}
	return nil, fmt.Errorf("%s %s: HTTP %d: %s%s", method, u, resp.StatusCode, p.Detail, hint)
}

// printMigration prints an answer for a person: the state, and for status
// this node's window and the latest changes.
func printMigration(w io.Writer, cmd string, answer []byte) error {
	var report struct {
		State   migrate.State   `json:"state"`
		Window  *migrate.Counts `json:"window"`
		History []migrate.Event `json:"history"`
	}
	var st migrate.State
	target := any(&st)
	if cmd == "status" {
		target = &report
	}
	if err := json.Unmarshal(answer, target); err != nil {
		return fmt.Errorf("the gateway's answer is not a migration state: %w", err)
	}
	if cmd == "status" {
		st = report.State
	}
	st.Status, st.Reason = printable(st.Status), printable(st.Reason)
	for i := range report.History {
		ev := &report.History[i]
		ev.Node, ev.Actor, ev.Action, ev.Reason = printable(ev.Node), printable(ev.Actor), printable(ev.Action), printable(ev.Reason)
	}
	fmt.Fprintf(w, "weight %d%%, %s", st.Weight, strings.ReplaceAll(st.Status, "_", " "))
	if st.ResumeWeight > 0 {
		fmt.Fprintf(w, ", resume_weight %d%%", st.ResumeWeight)
	}
	// ramp_step as in the JSON: the index of the step in
	// migration.ramp.steps, from 0.
	if st.RampStep >= 0 {
		fmt.Fprintf(w, ", ramp_step %d", st.RampStep)
		if !st.NextStepAt.IsZero() {
			fmt.Fprintf(w, " (next not before %s)", st.NextStepAt.UTC().Format(time.RFC3339))
		}
	}
	fmt.Fprintf(w, "\nreason: %s\n", st.Reason)
	if cmd != "status" {
		return nil
	}
	if c := report.Window; c != nil {
		fmt.Fprintf(w, "window of this node: %d calls of the new backend, %d errors; %d shadow comparisons, %d mismatches\n",
			c.Calls, c.Errors, c.Comparisons, c.Mismatches)
	}
	for i, ev := range report.History {
		if i == 10 {
			break
		}
		fmt.Fprintf(w, "%s  %-8s %-8s %3d%% -> %3d%%  %s (%s)\n", ev.At.UTC().Format(time.RFC3339), ev.Actor, ev.Action, ev.From, ev.To, ev.Reason, ev.Node)
	}
	return nil
}

// printable escapes the control and bidirectional formatting characters
// of s (migrate.IsControl) as JSON does (RFC 8259 §7: \u001b, \u202e): s
// came from the gateway and goes to a terminal, where ESC would start an
// escape sequence (clear the screen, rewrite a line, set the title) and
// U+202E reverse the text after it. A gateway refuses them in new reasons;
// an old row in the history, or a server that is not hellogw, may still
// send them.
func printable(s string) string {
	if !strings.ContainsFunc(s, migrate.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if migrate.IsControl(r) {
			fmt.Fprintf(&b, `\u%04x`, r) // every such character is in the BMP
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
