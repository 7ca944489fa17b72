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
	}
	return o
}
