package gateway

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/hellogw/hellogw/internal/wsse"
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
// for authentication, which is an HTTP matter: 401 and 403 (RFC 6750 §3.1,
// RFC 9110 §15.5.2), 429 when throttled (RFC 6585 §4).
func faultStatus(k Kind) int {
	switch k {
	case KindUnauthorized, KindForbidden, KindThrottled:
		return problemStatus[k]
	}
	return http.StatusInternalServerError
}

// appendFault writes a whole fault envelope for err in version v. A
// WS-Security fault code (WS-Security 1.1 §12) is the faultcode in SOAP
// 1.1, and the Subcode of Sender in SOAP 1.2.
func (v *soapVersion) appendFault(b *bytes.Buffer, err *Error) {
	code := v.faultCode(err.Kind)
	b.WriteString(xml.Header)
	if v == soap12 {
		b.WriteString(`<env:Envelope xmlns:env="` + v.envNS + `">`)
		appendNotUnderstood(b, err.NotUnderstood)
		b.WriteString(`<env:Body><env:Fault><env:Code><env:Value>env:`)
		b.WriteString(code)
		if err.Subcode != "" {
			b.WriteString(`</env:Value><env:Subcode><env:Value xmlns:wsse="` + wsse.NS + `">wsse:` + err.Subcode + `</env:Value></env:Subcode>`)
		} else {
			b.WriteString(`</env:Value>`)
		}
		b.WriteString(`</env:Code><env:Reason><env:Text xml:lang="en">`)
		xml.EscapeText(b, []byte(err.Message))
		b.WriteString(`</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`)
		return
	}
	b.WriteString(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + v.envNS + `"><SOAP-ENV:Body><SOAP-ENV:Fault>`)
	if err.Subcode != "" {
		b.WriteString(`<faultcode xmlns:wsse="` + wsse.NS + `">wsse:` + err.Subcode)
	} else {
		b.WriteString(`<faultcode>SOAP-ENV:` + code)
	}
	b.WriteString(`</faultcode><faultstring>`)
	xml.EscapeText(b, []byte(err.Message))
	b.WriteString(`</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
}

// appendNotUnderstood writes SOAP 1.2's NotUnderstood header blocks (part 1
// §5.4.8), one per block name. Each namespace is declared once, on the
// Header, so that the fault grows with the request and no faster: a long
// namespace shared by many blocks is written once.
func appendNotUnderstood(b *bytes.Buffer, names []xml.Name) {
	if len(names) == 0 {
		return
	}
	prefixes := make(map[string]string, len(names))
	b.WriteString(`<env:Header`)
	for _, n := range names {
		if _, ok := prefixes[n.Space]; ok || n.Space == "" {
			continue
		}
		p := "n" + strconv.Itoa(len(prefixes)+1)
		prefixes[n.Space] = p
		b.WriteString(` xmlns:` + p + `="`)
		xml.EscapeText(b, []byte(n.Space))
		b.WriteByte('"')
	}
	b.WriteByte('>')
	for _, n := range names {
		b.WriteString(`<env:NotUnderstood qname="`)
		if p := prefixes[n.Space]; p != "" {
			b.WriteString(p + ":")
		}
		b.WriteString(n.Local) // an XML name: nothing to escape
		b.WriteString(`"/>`)
	}
	b.WriteString(`</env:Header>`)
}
