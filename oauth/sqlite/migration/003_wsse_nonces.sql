-- WS-Security UsernameToken nonces the gateway accepted (UsernameToken
-- Profile 1.1 §4): each is accepted once, on every node, until it expires.
-- key is a hash of the client id and the nonce; times are Unix nanoseconds.
CREATE TABLE wsse_nonces (
	key        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX wsse_nonces_expires_at ON wsse_nonces (expires_at);
