// Package oauth is hellogw's OAuth 2.0 authorization server: the
// authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), refresh
// token rotation, revocation (RFC 7009), introspection (RFC 7662) and server
// metadata (RFC 8414), following the OAuth 2.0 Security BCP (RFC 9700).
//
// NewServer builds a Server from a Config (clients and users from the config
// file) and a Store; Register mounts its routes on a gin router:
//
//	GET/POST /authorize                               login and consent pages (authorize.go)
//	POST     /odfksdlfksld345345fdgdfg3453            token endpoint (token.go)
//	POST     /oauth/revoke                            revocation (revoke.go)
//	POST     /oauth/introspect                        introspection (introspect.go)
//	GET      /.well-known/oauth-authorization-server  metadata (metadata.go)
//
// A resource server checks bearer tokens with VerifyAccessToken, through a
// one-method interface of its own; this package imports nothing of it.
//
// Codes and tokens are 256-bit random strings that the Store only ever sees
// as SHA-256 hashes. Client secrets and passwords are kept as bcrypt or
// argon2id hashes; secretCache (secret.go) keeps client authentication well
// under a millisecond without storing anything reversible. The login session
// is a signed cookie, so the server itself holds no session state.
package oauth
