package gateway

import (
	"encoding/xml"
	"slices"

	"github.com/beevik/etree"

	"github.com/hellogw/hellogw/internal/wsse"
)

// soapVersion is what differs between SOAP 1.1 and SOAP 1.2 on the wire.
type soapVersion struct {
	name        string // "soap11" or "soap12", as in logs and metrics
	envNS       string
	encNS       string
	contentType string
	client      string // fault code for the caller's errors
	server      string // fault code for the gateway's errors
	// targetsUs reports whether a header entry's actor (1.1) or role (1.2)
	// names this node; absent means the ultimate receiver, which we are.
	targetsUs func(actorOrRole string) bool
	roleAttr  string
	// mandatory reports a mustUnderstand attribute value that makes the
	// header entry mandatory.
	mandatory func(v string) bool
}

var (
	soap11 = &soapVersion{
		name:        "soap11",
		envNS:       nsSOAP11Env,
		encNS:       nsSOAP11Enc,
		contentType: SOAP11ContentType,
		client:      "Client",
		server:      "Server",
		roleAttr:    "actor",
		// SOAP 1.1 §4.2.2: actor "…/actor/next" or none.
		targetsUs: func(a string) bool { return a == "" || a == actorNext },
		// SOAP 1.1 §4.2.3: "1" is mandatory; we also take "true", as
		// some toolkits send it.
		mandatory: func(v string) bool { return v == "1" || v == "true" },
	}
	soap12 = &soapVersion{
		name:        "soap12",
		envNS:       nsSOAP12Env,
		encNS:       nsSOAP12Enc,
		contentType: "application/soap+xml; charset=utf-8",
		client:      "Sender",
		server:      "Receiver",
		roleAttr:    "role",
		// SOAP 1.2 part 1 §2.2: next and ultimateReceiver are ours.
		targetsUs: func(r string) bool { return r == "" || r == roleNext || r == roleUltimate },
		// SOAP 1.2 part 1 §5.2.3: xs:boolean.
		mandatory: func(v string) bool { return v == "1" || v == "true" },
	}
)

func versionByNamespace(ns string) *soapVersion {
	switch ns {
	case nsSOAP11Env:
		return soap11
	case nsSOAP12Env:
		return soap12
	}
	return nil
}

// understoodHeaders is the one place that says which header blocks the
// gateway understands, by expanded name: a mandatory block listed here is
// processed rather than faulted (SOAP 1.1 §4.2.3, SOAP 1.2 part 1 §5.2.3).
// wsse:Security is the one the gateway processes: its UsernameToken is the
// caller's credential (WS-Security 1.1 §5).
var understoodHeaders = map[xml.Name]bool{securityHeaderName: true}

// checkHeaders faults when a header entry is mandatory for this node and
// not understood. The fault names every such block once, in the order they
// come, for SOAP 1.2's NotUnderstood blocks (part 1 §5.4.8). It returns the
// wsse:Security block targeted at this node, if any; two of them are a
// WS-Security fault (§6.1).
func (v *soapVersion) checkHeaders(header *etree.Element) (security *etree.Element, _ *Error) {
	var missed []xml.Name
	for _, h := range header.ChildElements() {
		var must bool
		var role string
		for _, a := range h.Attr {
			if a.NamespaceURI() != v.envNS {
				continue
			}
			switch a.Key {
			case "mustUnderstand":
				must = v.mandatory(a.Value)
			case v.roleAttr:
				role = a.Value
			}
		}
		name := xml.Name{Space: h.NamespaceURI(), Local: h.Tag}
		if !v.targetsUs(role) {
			continue
		}
		if name == securityHeaderName {
			if security != nil {
				return nil, &Error{Kind: KindInvalid, Subcode: wsse.ErrInvalidSecurity.Code,
					Message: wsse.ErrInvalidSecurity.Reason + ": the envelope has two Security headers for this service"}
			}
			security = h
		}
		if must && !understoodHeaders[name] && !slices.Contains(missed, name) {
			missed = append(missed, name)
		}
	}
	if missed == nil {
		return security, nil
	}
	return nil, &Error{Kind: KindMustUnderstand, NotUnderstood: missed,
		Message: "a header block marked mustUnderstand is not one this service understands"}
}
