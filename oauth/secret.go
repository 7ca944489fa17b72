package oauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// HashSecret returns a bcrypt hash of a client secret or user password, for the
// secret_hash and password_hash fields of the config file.
func HashSecret(plain string) (string, error) {
	if plain == "" {
		return "", errors.New("hash secret: empty")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(plain), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash secret: %w", err)
	}
	return string(h), nil
}

// GenerateSecret returns a new random client secret: 32 bytes from crypto/rand in
// the URL-safe base64 alphabet without padding, so that the form-urlencoded
// HTTP Basic credentials of RFC 6749 §2.3.1 and raw ones are the same string.
func GenerateSecret() string {
	return randomToken()
}

// randomToken returns 256 bits from crypto/rand, URL-safe base64 encoded
// (RFC 6749 §10.10: the probability of guessing a token is negligible).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails.
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken returns the SHA-256 of a code or token, the only form in which a
// Store sees it (RFC 6819 §5.1.4.1.3: store hashes of credentials).
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validHash reports whether h is a hash verifyHash understands.
func validHash(h string) bool {
	if strings.HasPrefix(h, "$argon2id$") {
		_, err := parseArgon2id(h)
		return err == nil
	}
	_, err := bcrypt.Cost([]byte(h))
	return err == nil
}

// verifyHash reports whether plain matches a bcrypt or argon2id (PHC string) hash.
func verifyHash(hash, plain string) bool {
	if strings.HasPrefix(hash, "$argon2id$") {
		p, err := parseArgon2id(hash)
		if err != nil {
			return false
		}
		got := argon2.IDKey([]byte(plain), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
		return subtle.ConstantTimeCompare(got, p.key) == 1
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(plain)) == nil
}

type argon2idHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseArgon2id parses "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>".
func parseArgon2id(h string) (argon2idHash, error) {
	var p argon2idHash
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return p, errors.New("argon2id: malformed hash")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("argon2id: parameters: %w", err)
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, fmt.Errorf("argon2id: salt: %w", err)
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		return p, fmt.Errorf("argon2id: key: %w", err)
	}
	if p.time == 0 || p.threads == 0 || len(p.key) < 16 {
		return p, errors.New("argon2id: parameters out of range")
	}
	return p, nil
}

// secretCache makes client authentication cheap without weakening storage.
//
// Client secrets are kept only as slow hashes (bcrypt, cost 10: about 60 ms of
// CPU per check), which is right for a secret at rest but would make every
// token request cost 60 ms. So the slow hash is checked once per distinct
// presented secret; after a success, the cache keeps
// HMAC-SHA256(k, client_id || 0 || secret) under a key k drawn from crypto/rand
// at start-up, which never leaves the process. Later requests compute the HMAC
// (about 1 µs) and compare it in constant time (RFC 6749 §2.3.1, RFC 6819
// §5.1.4.1.3). The cache holds no plain secret, cannot be reversed without k,
// and is lost on restart. Wrong secrets are never cached, so each failed guess
// still pays a full bcrypt check and is throttled (see throttle.go). A plain
// secret from the config file primes the cache at load, so even the first grant
// is fast.
type secretCache struct {
	key [32]byte
	mu  sync.RWMutex
	ok  map[string][]byte // client id → HMAC of its verified secret
}

func newSecretCache() *secretCache {
	c := &secretCache{ok: make(map[string][]byte)}
	_, _ = rand.Read(c.key[:])
	return c
}

func (c *secretCache) mac(clientID, secret string) []byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(clientID))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// remember records secret as verified for clientID.
func (c *secretCache) remember(clientID, secret string) {
	mac := c.mac(clientID, secret)
	c.mu.Lock()
	c.ok[clientID] = mac
	c.mu.Unlock()
}

// cached reports whether one of the candidate secrets is the one verified
// for clientID before: an HMAC and a constant-time compare, no slow hash.
func (c *secretCache) cached(clientID string, candidates ...string) bool {
	c.mu.RLock()
	known := c.ok[clientID]
	c.mu.RUnlock()
	for _, secret := range candidates {
		if known != nil && hmac.Equal(c.mac(clientID, secret), known) {
			return true
		}
	}
	return false
}

// verify reports whether one of the candidate secrets matches hash. All
// candidates are looked up in the cache before any slow hash is checked, so a
// known secret never costs a bcrypt check, whichever candidate it is.
func (c *secretCache) verify(clientID, hash string, candidates ...string) bool {
	if c.cached(clientID, candidates...) {
		return true
	}
	for _, secret := range candidates {
		if verifyHash(hash, secret) {
			c.remember(clientID, secret)
			return true
		}
	}
	return false
}
