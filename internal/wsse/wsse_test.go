package wsse_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/wsse"
)

// TestDigest checks the formula against a value computed by Python's
// hashlib (base64(sha1(nonce + created + password))), not by this package.
func TestDigest(t *testing.T) {
	nonce, err := base64.StdEncoding.DecodeString("LKqI6G/AikKCQrN0zqZFlg==")
	require.NoError(t, err)
	assert.Equal(t, "tuOSpGlFlIXsozq4HFNeeGeFLEI=", wsse.Digest(nonce, "2010-09-16T07:50:45Z", "userpassword"))
}

func TestMatches(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for _, digest := range []bool{false, true} {
		tok := wsse.NewUsernameToken("legacy", "s3cret", digest, now)
		assert.True(t, tok.Matches("s3cret"), "digest=%v", digest)
		assert.False(t, tok.Matches("s3cret "), "digest=%v", digest)
		assert.Equal(t, !digest, tok.Password == "s3cret", "a digest token never carries the secret")
		assert.Len(t, tok.Nonce, 16)
		assert.Equal(t, "2026-12-07T03:00:00.000Z", tok.Created)
	}
	tok := wsse.NewUsernameToken("legacy", "s3cret", true, now)
	tok.Created = "2026-12-07T03:00:01.000Z" // the digest covers Created
	assert.False(t, tok.Matches("s3cret"))
}

func TestCheckFresh(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		created string
		want    error
	}{
		{"", nil},
		{"2026-12-07T03:00:00Z", nil},
		{"2026-12-07T02:56:00.123Z", nil},
		{"2026-12-07T04:00:00+01:00", nil},
		{"2026-12-07T02:54:59Z", wsse.ErrMessageExpired},
		{"2026-12-07T03:05:01Z", wsse.ErrMessageExpired},
		{"2026-12-07T03:00:00", wsse.ErrInvalidSecurityToken},
		{"yesterday", wsse.ErrInvalidSecurityToken},
	} {
		err := wsse.UsernameToken{Created: c.created}.CheckFresh(now, 5*time.Minute)
		if c.want == nil {
			assert.NoError(t, err, "Created=%q", c.created)
		} else {
			assert.True(t, errors.Is(err, c.want), "Created=%q: %v, want %v", c.created, err, c.want)
			assert.Equal(t, c.want, wsse.AsFault(err))
		}
	}
}

func TestDecodeNonce(t *testing.T) {
	n, err := wsse.DecodeNonce(" AAEC ", "")
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 2}, n)
	_, err = wsse.DecodeNonce("AAEC", wsse.Base64Binary)
	assert.NoError(t, err)
	_, err = wsse.DecodeNonce("AAEC", "urn:hex")
	assert.ErrorIs(t, err, wsse.ErrUnsupportedSecurityToken)
	_, err = wsse.DecodeNonce("not base64!", "")
	assert.ErrorIs(t, err, wsse.ErrInvalidSecurityToken)
}

// TestAppendSecurityHeader reads the header back with encoding/xml, by
// namespace, as a receiver would.
func TestAppendSecurityHeader(t *testing.T) {
	tok := wsse.NewUsernameToken(`a<&>"b`, "s3cret", true, time.Now())
	var b bytes.Buffer
	b.WriteString(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header>`)
	tok.AppendSecurityHeader(&b, "e")
	b.WriteString(`</e:Header></e:Envelope>`)
	var env struct {
		Header struct {
			Security struct {
				MustUnderstand string `xml:"http://schemas.xmlsoap.org/soap/envelope/ mustUnderstand,attr"`
				Token          struct {
					Username string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Username"`
					Password struct {
						Type string `xml:"Type,attr"`
						Text string `xml:",chardata"`
					} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Password"`
					Nonce   string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Nonce"`
					Created string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Created"`
				} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd UsernameToken"`
			} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Security"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &env), "%s", b.String())
	got := env.Header.Security.Token
	assert.Equal(t, "1", env.Header.Security.MustUnderstand)
	assert.Equal(t, `a<&>"b`, got.Username)
	assert.Equal(t, wsse.PasswordDigest, got.Password.Type)
	assert.Equal(t, tok.Password, got.Password.Text)
	assert.Equal(t, base64.StdEncoding.EncodeToString(tok.Nonce), got.Nonce)
	assert.Equal(t, tok.Created, got.Created)
}
