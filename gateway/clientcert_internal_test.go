package gateway

import (
	"crypto/x509/pkix"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/testpki"
)

// subjectClients answers what matching the subject against the DNs
// answers, the first time and from what it remembers; a malformed subject
// matches no one.
func TestSubjectClients(t *testing.T) {
	client := func(id, dn string) *legacyClient {
		parsed, err := ParseDN(dn)
		require.NoError(t, err)
		return &legacyClient{LegacyClient: LegacyClient{ID: id}, dn: parsed}
	}
	billing, reader := client("billing", "CN=Billing,OU=Legacy Apps"), client("reader", "/CN=Reader")
	byDN := []*legacyClient{billing, reader}
	subject := func(rdns ...pkix.AttributeTypeAndValue) []byte {
		var seq pkix.RDNSequence
		for _, a := range rdns {
			seq = append(seq, pkix.RelativeDistinguishedNameSET{a})
		}
		return testpki.SelfSigned(t, testpki.Options{Subject: seq}).Cert.RawSubject
	}
	ou := pkix.AttributeTypeAndValue{Type: testpki.OIDOrganizationalUnit, Value: "legacy  apps"}
	cn := func(v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: testpki.OIDCommonName, Value: v}
	}
	var s subjectClients
	for pass := range 2 {
		assert.Same(t, billing, s.match(subject(ou, cn("billing")), byDN), "pass %d", pass)
		assert.Same(t, reader, s.match(subject(cn("Reader")), byDN), "pass %d", pass)
		assert.Nil(t, s.match(subject(cn("Billing")), byDN), "pass %d: no OU", pass)
		assert.Nil(t, s.match([]byte("not DER"), byDN), "pass %d", pass)
	}
	assert.Len(t, s.m, 4)

	// What is remembered is answered without matching again: here,
	// against no DNs at all.
	assert.Same(t, reader, s.match(subject(cn("Reader")), nil))

	for i := range maxSubjects {
		s.match([]byte{byte(i), byte(i >> 8), 0xff}, nil)
	}
	assert.LessOrEqual(t, len(s.m), maxSubjects, "bounded")
	assert.Nil(t, s.match(subject(cn("Reader")), nil), "started again empty once full")
}
