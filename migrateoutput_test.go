package main_test

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // database/sql's "sqlite", as the gateway's store uses
)

// TestMigrateStatusEscapes: what `hellogw migrate status` prints of the
// gateway's answer has its control characters escaped, so that a reason
// or a node name in the history (a row from before the API refused them)
// cannot clear the operator's screen, set the terminal's title or reverse
// the text around it.
func TestMigrateStatusEscapes(t *testing.T) {
	var failing atomic.Bool
	store := filepath.Join(t.TempDir(), "hellogw.db")
	gw := startClientsGateway(t, "-config", writeConfig(t, "migration: {to: {kind: json, url: %q}, weight: 10}", newAPI(t, &failing)), "-store", store)
	db, err := sql.Open("sqlite", store)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	const (
		reason = "\x1b[2J\x1b[Hall clear \u202eeno\u202c\r"
		node   = "vm\x1b]0;owned\x07\u009b"
	)
	_, err = db.ExecContext(t.Context(), `INSERT INTO migration_events (at, node, actor, action, from_weight, to_weight, reason)
		VALUES (?, ?, 'api', 'set', 10, 10, ?)`, time.Now().Add(time.Minute).UnixNano(), node, reason)
	require.NoError(t, err)
	_, err = db.ExecContext(t.Context(), `UPDATE migration_state SET reason = ?`, reason)
	require.NoError(t, err)
	// The gateway reads the stored state within its poll.
	var res clientResult
	require.Eventually(t, func() bool {
		res = migrateCLI(t, "status", "-admin-url", gw.AdminURL)
		return strings.Contains(res.stdout, `reason: \u001b[2J`)
	}, 5*time.Second, 100*time.Millisecond, "%s", res)
	assert.Contains(t, res.stdout, `reason: \u001b[2J\u001b[Hall clear \u202eeno\u202c\u000d`+"\n")
	assert.Contains(t, res.stdout, `\u001b[2J\u001b[Hall clear \u202eeno\u202c\u000d (vm\u001b]0;owned\u0007\u009b)`+"\n")
	assert.False(t, strings.ContainsFunc(res.stdout, unsafe), "%q", res.stdout)

	// -json: the same answer as JSON, which it stays, the same strings
	// in it, and nothing raw.
	res = migrateCLI(t, "status", "-json", "-admin-url", gw.AdminURL)
	require.Equal(t, 0, res.code, "%s", res)
	assert.False(t, strings.ContainsFunc(res.stdout, unsafe), "%q", res.stdout)
	assert.Equal(t, 1, strings.Count(res.stdout, "\n"), "one line: %q", res.stdout)
	var report struct {
		State struct {
			Reason string `json:"reason"`
		} `json:"state"`
		History []struct {
			Node   string `json:"node"`
			Reason string `json:"reason"`
		} `json:"history"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &report), res.stdout)
	assert.Equal(t, reason, report.State.Reason)
	require.NotEmpty(t, report.History)
	assert.Equal(t, node, report.History[0].Node)
	assert.Equal(t, reason, report.History[0].Reason)
}

// unsafe reports whether r is a control character (C0 but the output's
// own line breaks, DEL, C1) or one of the bidirectional formatting
// characters the test stores.
func unsafe(r rune) bool {
	return r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == '\u202e' || r == '\u202c'
}
