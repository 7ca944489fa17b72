package oauth

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

//go:embed web/pages.html web/page.css
var webFS embed.FS

var (
	pageCSS = mustRead("web/page.css")
	// pages is parsed on the first page served, not at start, for the
	// reason migrate's dashboard template is: the collector marks every
	// live object in every cycle (README, Performance).
	pages = sync.OnceValue(func() *template.Template {
		return template.Must(template.New("pages").Parse(mustRead("web/pages.html")))
	})
	styleHash = func() string {
		sum := sha256.Sum256([]byte(pageCSS))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}()
)

func mustRead(name string) string {
	b, err := webFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// scopeWords says in words what each known scope lets a client do.
var scopeWords = map[string]string{
	"hello": "Send greetings through the HelloService on your behalf",
}

type hiddenField struct{ Name, Value string }

// pageData is what the templates in web/pages.html see.
type pageData struct {
	Title, Message string
	CSS            template.CSS
	Action, CSRF   string
	Hidden         []hiddenField
	ClientName     string
	Initial        string
	Username       string
	Scopes         []string
	Consent        string
	ReturnTo       string
}

// setPageHeaders protects the HTML pages: no framing (RFC 6749 §10.13,
// RFC 9700 §4.16), no caching, no Referer (RFC 9700 §4.2.4), and a CSP that
// allows only the page's own inline style and forms posting to this server
// or, through the redirect after a POST, to formTarget.
func setPageHeaders(c *gin.Context, formTarget string) {
	formAction := "'self'"
	if formTarget != "" {
		formAction += " " + formTarget
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash+"; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

func (s *Server) render(c *gin.Context, status int, name, formTarget string, data *pageData) {
	data.CSS = template.CSS(pageCSS)
	var buf bytes.Buffer
	if err := pages().ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("oauth render page", "page", name, "err", err)
		c.Status(http.StatusInternalServerError)
		return
	}
	setPageHeaders(c, formTarget)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// formData fills what the login and consent forms share.
func (s *Server) formData(req *authRequest, sess *session, title, msg string) *pageData {
	d := &pageData{Title: title, Message: msg, Action: AuthorizePath, CSRF: s.csrfToken(sess), ClientName: req.client.name}
	for _, name := range authParams {
		if v := req.params.Get(name); v != "" {
			d.Hidden = append(d.Hidden, hiddenField{name, v})
		}
	}
	return d
}

// renderLogin shows the login page, with username filled in after a failure.
func (s *Server) renderLogin(c *gin.Context, status int, req *authRequest, sess *session, msg, username string) {
	d := s.formData(req, sess, "Sign in", msg)
	d.Username = username
	s.render(c, status, "login", origin(req.redirectURI), d)
}

// renderConsent shows the consent page, where the server "establishes whether
// the resource owner grants or denies the client's access request" (RFC 6749
// §4.1 step B). It is shown for every request, never skipped (§10.2). Its form
// carries a fresh nonce signed together with the session and the request,
// from which the code is derived.
func (s *Server) renderConsent(c *gin.Context, status int, req *authRequest, sess *session, msg string) {
	d := s.formData(req, sess, "Allow "+req.client.name+"?", msg)
	d.Username = sess.User
	r, _ := utf8.DecodeRuneInString(req.client.name)
	d.Initial = string(unicode.ToUpper(r))
	for _, sc := range req.scopes {
		words, ok := scopeWords[sc]
		if !ok {
			words = "Use the “" + sc + "” permission"
		}
		d.Scopes = append(d.Scopes, words)
	}
	nonce := randomToken()
	d.Consent = nonce + "." + s.mac("consent", sess.ID, nonce, req.params.Encode())
	d.ReturnTo = origin(req.redirectURI)
	s.render(c, status, "consent", d.ReturnTo, d)
}

func (s *Server) renderError(c *gin.Context, status int, e *pageError) {
	s.render(c, status, "error", "", &pageData{Title: e.title, Message: e.detail})
}

// origin returns scheme://host[:port] of an absolute URI, or "scheme:" for a
// private-use scheme (RFC 8252 §7.1); both are CSP source expressions.
func origin(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme == "":
		return ""
	case u.Host == "":
		return strings.ToLower(u.Scheme) + ":"
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}
