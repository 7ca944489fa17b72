package main

import (
	"slices"
	"strings"

	"github.com/hellogw/hellogw/config"
	"github.com/hellogw/hellogw/internal/openapi"
	"github.com/hellogw/hellogw/oauth"
)

// apiDoc says what /openapi.json documents for this config: the OAuth
// endpoints, and the ways a caller must authenticate to sayHello. A new
// way (HTTP Basic, a client certificate) is one more openapi.Scheme here.
func apiDoc(cfg config.Config, public string) openapi.Options {
	base := strings.TrimRight(public, "/")
	o := openapi.Options{OAuth: &openapi.OAuth{
		AuthorizePath:  oauth.AuthorizePath,
		TokenPath:      oauth.TokenPath,
		RevokePath:     oauth.RevokePath,
		IntrospectPath: oauth.IntrospectPath,
		MetadataPath:   oauth.MetadataPath,
	}}
	if cfg.SayHello.RequireToken {
		var offered []string
		for _, c := range cfg.OAuth.Clients {
			offered = append(offered, c.Scopes...)
		}
		slices.Sort(offered)
		o.Security = append(o.Security, openapi.OAuth2(base+oauth.AuthorizePath, base+oauth.TokenPath, slices.Compact(offered), []string{cfg.SayHello.Scope}))
		// Legacy credentials (README "Legacy credentials"): a UsernameToken
		// is inside the SOAP envelope, which this document does not describe.
		var basic, cert bool
		for _, c := range cfg.OAuth.Clients {
			basic = basic || c.Legacy.Basic
			cert = cert || c.Legacy.TLSSubjectDN != "" || c.Legacy.TLSThumbprint != ""
		}
		if basic {
			o.Security = append(o.Security, openapi.HTTPBasic("legacyBasic",
				"A client's id and secret (RFC 7617), for clients whose legacy.basic allows it."))
		}
		if cert {
			o.Security = append(o.Security, openapi.MutualTLS("legacyMutualTLS",
				"A TLS client certificate registered to a client by subject DN or SHA-256 thumbprint (RFC 8705 §2)."))
		}
	}
	return o
}
