package gateway

import (
	"bytes"
	"encoding/xml"
	"net/http"
)

// faultCode names the fault for an error kind in the envelope's version:
// SOAP 1.1 §4.4.1 and SOAP 1.2 part 1 §5.4.6.
func (v *soapVersion) faultCode(k Kind) string {
	switch {
	case k == KindMustUnderstand:
		return "MustUnderstand"
	case k == KindVersionMismatch:
		return "VersionMismatch"
	case k.clientFault():
		return v.client
	}
	return v.server
}

// faultStatus is the HTTP status of a fault. SOAP 1.1's HTTP binding sends
// every fault as 500 (§6.2); so do we for SOAP 1.2, as the SPEC asks, except
// for a missing bearer token, which is an HTTP matter (RFC 6750 §3.1).
func faultStatus(k Kind) int {
	if k == KindUnauthorized {
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// appendFault writes a whole fault envelope for err in version v.
func (v *soapVersion) appendFault(b *bytes.Buffer, err *Error) {
	code := v.faultCode(err.Kind)
	b.WriteString(xml.Header)
	if v == soap12 {
		b.WriteString(`<env:Envelope xmlns:env="` + v.envNS + `"><env:Body><env:Fault><env:Code><env:Value>env:`)
		b.WriteString(code)
		b.WriteString(`</env:Value></env:Code><env:Reason><env:Text xml:lang="en">`)
		xml.EscapeText(b, []byte(err.Message))
		b.WriteString(`</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`)
		return
	}
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + v.envNS + `"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:`)
	b.WriteString(code)
	b.WriteString(`</faultcode><faultstring>`)
	xml.EscapeText(b, []byte(err.Message))
	b.WriteString(`</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
}
