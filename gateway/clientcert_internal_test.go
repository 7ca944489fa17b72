package gateway

import (
	"crypto/x509/pkix"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/internal/memo"
	"github.com/hellogw/hellogw/internal/testpki"
)

// clientOfSubject answers what matching the subject against the DNs
// answers, the first time and from what it remembers; a malformed subject
// matches no one.
func TestClientOfSubject(t *testing.T) {
	client := func(id, dn string) *legacyClient {
		parsed, err := ParseDN(dn)
		require.NoError(t, err)
		return &legacyClient{LegacyClient: LegacyClient{ID: id}, dn: parsed}
	}
	billing, reader := client("billing", "CN=Billing,OU=Legacy Apps"), client("reader", "/CN=Reader")
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
	p := &protection{byDN: []*legacyClient{billing, reader}, subjects: memo.New[string, *legacyClient](maxSubjects)}
	for pass := range 2 {
		assert.Same(t, billing, p.clientOfSubject(subject(ou, cn("billing"))), "pass %d", pass)
		assert.Same(t, reader, p.clientOfSubject(subject(cn("Reader"))), "pass %d", pass)
		assert.Nil(t, p.clientOfSubject(subject(cn("Billing"))), "pass %d: no OU", pass)
		assert.Nil(t, p.clientOfSubject([]byte("not DER")), "pass %d", pass)
	}
	assert.Equal(t, 4, p.subjects.Len())

	// What is remembered is answered without matching again: here,
	// against no DNs at all.
	p.byDN = nil
	assert.Same(t, reader, p.clientOfSubject(subject(cn("Reader"))))
}
