package oauth

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// authParams are the authorization request parameters of RFC 6749 §4.1.1 and
// RFC 7636 §4.3, in the order they are carried through the forms.
var authParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"}

// authRequest is a validated authorization request.
type authRequest struct {
	client      *client
	params      url.Values // the authRequest parameters as sent, empty ones omitted
	redirectURI string     // where to send the answer: the parameter or the only registered URI
	scopes      []string
	state       string
}

// pageError is an authorization request error that must not be redirected
// (RFC 6749 §4.1.2.1: invalid client or redirect URI): shown as a page.
type pageError struct {
	title, detail string
}

// parseAuthRequest validates an authorization request (RFC 6749 §4.1.1). The
// client and redirect_uri are checked first: if either is wrong, the error is
// a page, never a redirect (§3.1.2.4, §4.1.2.1, RFC 9700 §4.1.3). Any other
// error is redirected to the client.
func (s *Server) parseAuthRequest(values url.Values) (*authRequest, *pageError, *RFC6749Error) {
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(values[name]) > 1 {
			return nil, &pageError{"This sign-in link is not valid", "The request names " + name + " more than once."}, nil
		}
	}
	id := values.Get("client_id")
	if id == "" {
		return nil, &pageError{"This sign-in link is not valid", "The request does not say which application is asking."}, nil
	}
	cl := s.clients[id]
	if cl == nil {
		return nil, &pageError{"Unknown application", "The application that sent you here is not registered with this server."}, nil
	}
	req := &authRequest{client: cl, params: url.Values{}, state: values.Get("state")}
	for _, name := range authParams {
		if v := values.Get(name); v != "" {
			req.params.Set(name, v)
		}
	}
	switch given := values.Get("redirect_uri"); {
	case given == "" && len(cl.redirectURIs) == 1:
		// §3.1.2.3: with one registered URI, the parameter is optional.
		req.redirectURI = cl.redirectURIs[0]
	case given == "":
		return nil, &pageError{"This sign-in link is not valid", "The request has no redirect_uri, and " + cl.name + " has several registered."}, nil
	case matchRedirectURI(cl.redirectURIs, given):
		req.redirectURI = given
	default:
		return nil, &pageError{"This sign-in link is not valid", "The address to return to is not registered for " + cl.name + "."}, nil
	}
	// From here on, errors are redirected (§4.1.2.1).
	for _, name := range authParams {
		if len(values[name]) > 1 {
			return req, nil, ErrInvalidRequest.WithDescription("The parameter " + name + " is included more than once.")
		}
	}
	switch values.Get("response_type") {
	case "code":
	case "":
		return req, nil, ErrInvalidRequest.WithDescription("The response_type parameter is required.")
	default:
		return req, nil, ErrUnsupportedResponseType.WithDescription("Only response_type=code is supported.")
	}
	// §4.1.2.1 unauthorized_client: the client may not use this grant.
	if !cl.allows(GrantAuthorizationCode) {
		return req, nil, ErrUnauthorizedClient.WithDescription("This client may not use the authorization code grant.")
	}
	var scopeErr *RFC6749Error
	if req.scopes, scopeErr = cl.scopesFor(values.Get("scope")); scopeErr != nil {
		return req, nil, scopeErr
	}
	return req, nil, checkChallenge(cl, values.Get("code_challenge"), values.Get("code_challenge_method"))
}

// checkChallenge validates the PKCE parameters of RFC 7636 §4.3. Without a
// method the default is plain (§4.3), which is refused unless the client
// allows it (RFC 9700 §2.1.1: use S256).
func checkChallenge(cl *client, challenge, method string) *RFC6749Error {
	if challenge == "" {
		if method != "" {
			return ErrInvalidRequest.WithDescription("code_challenge_method was sent without code_challenge.")
		}
		return nil
	}
	switch method {
	case "S256":
	case "", "plain":
		if !cl.allowPlainPKCE {
			return ErrInvalidRequest.WithDescription("code_challenge_method must be S256.")
		}
	default:
		// RFC 7636 §4.4.1: "transform algorithm not supported".
		return ErrInvalidRequest.WithDescription("code_challenge_method must be S256.")
	}
	if !validPKCEValue(challenge) {
		return ErrInvalidRequest.WithDescription("code_challenge must be 43 to 128 unreserved characters.")
	}
	return nil
}

// matchRedirectURI compares redirect URIs by simple string comparison
// (RFC 9700 §4.1.3, RFC 6749 §3.1.2.3), except that the port of an http
// loopback URI may vary (RFC 8252 §7.3, RFC 9700 §2.1).
func matchRedirectURI(registered []string, given string) bool {
	if slices.Contains(registered, given) {
		return true
	}
	g, err := url.Parse(given)
	if err != nil || g.Scheme != "http" || !isLoopback(g.Hostname()) || g.User != nil || g.Fragment != "" || strings.Contains(given, "#") {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == g.Scheme && u.Hostname() == g.Hostname() &&
			u.EscapedPath() == g.EscapedPath() && u.RawQuery == g.RawQuery && u.User == nil {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authorize serves the authorization endpoint (RFC 6749 §3.1, §4.1.1): GET
// shows the login or the consent page, POST takes the login or the decision.
func (s *Server) authorize(c *gin.Context) {
	values := c.Request.URL.Query()
	if c.Request.Method == http.MethodPost {
		var err error
		if values, err = readPageForm(c); err != nil {
			s.renderError(c, http.StatusBadRequest, &pageError{"This form could not be read", "Go back to the application and start again."})
			return
		}
	}
	req, perr, rerr := s.parseAuthRequest(values)
	if perr != nil {
		s.renderError(c, http.StatusBadRequest, perr)
		return
	}
	if rerr != nil {
		s.redirectError(c, req, rerr)
		return
	}
	sess, ok := s.readSession(c)
	// A GET, or a POST of the authorization request itself (RFC 6749 §3.1
	// allows both), shows the login or the consent page. Forms of ours
	// always carry a CSRF token.
	if c.Request.Method == http.MethodGet || !values.Has("csrf") {
		switch {
		case ok && sess.User != "":
			s.renderConsent(c, http.StatusOK, req, sess, "")
		case ok:
			s.renderLogin(c, http.StatusOK, req, sess, "", "")
		default:
			s.renderLogin(c, http.StatusOK, req, s.newSession(c, ""), "", "")
		}
		return
	}
	if !ok {
		s.renderLogin(c, http.StatusOK, req, s.newSession(c, ""), msgSessionExpired, "")
		return
	}
	if !s.macEqual(values.Get("csrf"), "csrf", sess.ID) {
		// RFC 6749 §10.12: a form not from this session.
		if sess.User != "" {
			s.renderConsent(c, http.StatusForbidden, req, sess, msgStaleForm)
		} else {
			s.renderLogin(c, http.StatusForbidden, req, sess, msgStaleForm, "")
		}
		return
	}
	if values.Has("decision") {
		if sess.User == "" {
			s.renderLogin(c, http.StatusOK, req, s.newSession(c, ""), msgSessionExpired, "")
			return
		}
		s.decide(c, req, sess, values)
		return
	}
	s.login(c, req, sess, values)
}

// User-facing messages.
const (
	msgSessionExpired = "Your session has expired. Please sign in again."
	msgStaleForm      = "This page was out of date, so nothing was done. Please try again."
	msgBadLogin       = "The username or password is incorrect."
	msgMissingLogin   = "Enter your username and password."
)

// readPageForm reads the body of a form posted to /authorize.
func readPageForm(c *gin.Context) (url.Values, error) {
	if c.ContentType() != "application/x-www-form-urlencoded" {
		return nil, errors.New("not a form")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes))
	if err != nil {
		return nil, err
	}
	return url.ParseQuery(string(body))
}

// login checks the resource owner's password (RFC 6749 §3.1: the way the
// server authenticates the user is beyond the spec) and, on success, starts a
// new session and redirects (303, RFC 9700 §4.12) to the consent page.
func (s *Server) login(c *gin.Context, req *authRequest, sess *session, values url.Values) {
	username, password := values.Get("username"), values.Get("password")
	if username == "" || password == "" {
		s.renderLogin(c, http.StatusBadRequest, req, sess, msgMissingLogin, username)
		return
	}
	// Counted before the password is checked, like client secrets
	// (throttle.go), with the username as the account whether or not it exists.
	ctx := c.Request.Context()
	att, _, err := s.throttle.begin(ctx, "login", c.ClientIP(), username, nil)
	var throttled *ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := throttled.RetryAfterSeconds()
		c.Header("Retry-After", secs)
		s.renderLogin(c, http.StatusTooManyRequests, req, sess, "Too many failed attempts. Try again in "+secs+" seconds.", username)
		return
	case err != nil:
		s.log.Error("oauth login", "client_id", req.client.id, "err", err)
		s.renderError(c, http.StatusServiceUnavailable, &pageError{"Sign-in is unavailable", "Please try again in a moment."})
		return
	}
	hash, known := s.users[username]
	if !known {
		hash = dummyHash() // same cost whether or not the user exists
	}
	if !verifyHash(hash, password) || !known {
		s.log.Info("oauth login failed", "client_id", req.client.id, "remote", c.ClientIP())
		s.renderLogin(c, http.StatusUnauthorized, req, sess, msgBadLogin, username)
		return
	}
	if err := att.succeeded(ctx); err != nil {
		s.log.Error("oauth login", "client_id", req.client.id, "err", err)
	}
	s.newSession(c, username)
	s.log.Info("oauth login", "client_id", req.client.id, "user", username)
	setRedirectHeaders(c)
	c.Redirect(http.StatusSeeOther, AuthorizePath+"?"+req.params.Encode())
}

// decide handles the consent form. The code is derived from the consent form's
// signed nonce, so a form submitted twice yields one code: the second
// CreateCode finds it exists and, while that code is unused and unexpired,
// the same redirect is sent again. A form is single-use beyond that: once its
// code was redeemed or expired, submitting it again (Back, then Allow) shows
// a page, never the spent code, whose redemption would count as a replay and
// revoke the live tokens (RFC 6749 §4.1.2).
func (s *Server) decide(c *gin.Context, req *authRequest, sess *session, values url.Values) {
	switch values.Get("decision") {
	case "deny":
		s.redirectError(c, req, ErrAccessDenied)
		return
	case "allow":
	default:
		s.redirectError(c, req, ErrInvalidRequest.WithDescription("The decision must be allow or deny."))
		return
	}
	nonce, sig, _ := strings.Cut(values.Get("consent"), ".")
	if nonce == "" || !s.macEqual(sig, "consent", sess.ID, nonce, req.params.Encode()) {
		s.renderConsent(c, http.StatusForbidden, req, sess, msgStaleForm)
		return
	}
	code := s.mac("code", sess.ID, nonce)
	now := s.now()
	err := s.store.CreateCode(c.Request.Context(), &Code{
		Hash: hashToken(code), ChainID: randomToken(), ClientID: req.client.id, Subject: sess.User,
		RedirectURI: req.params.Get("redirect_uri"), Scopes: req.scopes,
		Challenge: req.params.Get("code_challenge"), ChallengeMethod: challengeMethod(req.params),
		CreatedAt: now, ExpiresAt: now.Add(s.ttl.CodeTTL),
	})
	if errors.Is(err, ErrConflict) {
		var rec *Code
		rec, err = s.store.GetCode(c.Request.Context(), hashToken(code))
		switch again := "Go back to " + req.client.name + " and start again."; {
		case err == nil && rec.Used:
			s.renderError(c, http.StatusBadRequest, &pageError{"This approval was already used", again})
			return
		case err == nil && !now.Before(rec.ExpiresAt):
			s.renderError(c, http.StatusBadRequest, &pageError{"This approval has expired", again})
			return
		}
	}
	if err != nil {
		s.log.Error("oauth create code", "client_id", req.client.id, "err", err)
		s.redirectError(c, req, ErrServerError)
		return
	}
	s.redirect(c, req, url.Values{"code": {code}})
}

// challengeMethod is the code_challenge_method in effect for a request.
func challengeMethod(params url.Values) string {
	switch {
	case params.Get("code_challenge") == "":
		return ""
	case params.Get("code_challenge_method") == "":
		return "plain" // RFC 7636 §4.3
	}
	return params.Get("code_challenge_method")
}

// redirectError sends an error to the client's redirect URI (RFC 6749 §4.1.2.1).
func (s *Server) redirectError(c *gin.Context, req *authRequest, e *RFC6749Error) {
	s.redirect(c, req, url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

// redirect sends the authorization response (RFC 6749 §4.1.2) with state and
// the issuer (RFC 9207 §2), keeping the redirect URI's own query (§3.1.2).
// It uses 303 (RFC 9700 §4.12), so a POST is never replayed.
func (s *Server) redirect(c *gin.Context, req *authRequest, params url.Values) {
	u, _ := url.Parse(req.redirectURI) // validated by matchRedirectURI or at load
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.state != "" {
		q.Set("state", req.state)
	}
	q.Set("iss", s.issuerURL(c))
	u.RawQuery = q.Encode()
	setRedirectHeaders(c)
	c.Redirect(http.StatusSeeOther, u.String())
}

// setRedirectHeaders keeps the code out of caches and Referer headers
// (RFC 9700 §4.2.4).
func setRedirectHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.Header("Referrer-Policy", "no-referrer")
}
