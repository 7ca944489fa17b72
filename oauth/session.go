package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The login session lives in a signed cookie, so the server keeps no session
// state: {id, user, expires} plus an HMAC-SHA256 under the session key. The
// id is random and replaced at login, against session fixation. The cookie is
// HttpOnly and SameSite=Lax, and Secure when the issuer is https.
const (
	sessionCookie = "hellogw_session"
	sessionTTL    = 15 * time.Minute
)

type session struct {
	ID      string `json:"i"`
	User    string `json:"u,omitempty"`
	Expires int64  `json:"e"`
}

// mac returns the URL-safe HMAC-SHA256 of the parts under the session key.
func (s *Server) mac(parts ...string) string { return macOf(s.sessionKey, parts...) }

// macOf returns the URL-safe HMAC-SHA256 of the parts under key. Each part
// is prefixed with its length, so no two lists of parts collide.
func macOf(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(len(p))))
		m.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) macEqual(got string, parts ...string) bool {
	return hmac.Equal([]byte(got), []byte(s.mac(parts...)))
}

// readSession returns the request's session if it has a valid, unexpired one.
func (s *Server) readSession(c *gin.Context) (*session, bool) {
	ck, err := c.Request.Cookie(sessionCookie)
	if err != nil {
		return nil, false
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok || !s.macEqual(sig, "session", payload) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, false
	}
	var sess session
	if err := json.Unmarshal(raw, &sess); err != nil || sess.ID == "" {
		return nil, false
	}
	if s.now().Unix() >= sess.Expires {
		return nil, false
	}
	return &sess, true
}

// newSession starts a session for user ("" before login) and sets its cookie.
func (s *Server) newSession(c *gin.Context, user string) *session {
	sess := &session{ID: randomToken(), User: user, Expires: s.now().Add(sessionTTL).Unix()}
	raw, _ := json.Marshal(sess) // cannot fail for this type
	payload := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     sessionCookie,
		Value:    payload + "." + s.mac("session", payload),
		Path:     AuthorizePath,
		MaxAge:   int(sessionTTL / time.Second),
		HttpOnly: true,
		Secure:   strings.HasPrefix(s.issuerURL(c), "https://"),
		SameSite: http.SameSiteLaxMode,
	})
	return sess
}

// csrfToken is the synchronizer token of every form, bound to the session
// (RFC 6749 §10.12, RFC 6819 §4.4.1.8).
func (s *Server) csrfToken(sess *session) string { return s.mac("csrf", sess.ID) }
