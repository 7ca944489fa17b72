package oauth

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// serverMetadata is the authorization server metadata of RFC 8414 §2.
type serverMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                  string   `json:"introspection_endpoint"`
	ScopesSupported                        []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods       []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	// RFC 9207 §3: the authorization response carries "iss".
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// metadata serves GET /.well-known/oauth-authorization-server (RFC 8414 §3).
func (s *Server) metadata(c *gin.Context) {
	iss := s.issuerURL(c)
	var scopes []string
	pkce := []string{"S256"}
	for _, cl := range s.clients {
		scopes = append(scopes, cl.scopes...)
		if cl.allowPlainPKCE && !slices.Contains(pkce, "plain") {
			pkce = append(pkce, "plain")
		}
	}
	slices.Sort(scopes)
	auth := []string{"client_secret_basic", "client_secret_post"}
	c.JSON(http.StatusOK, serverMetadata{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + AuthorizePath,
		TokenEndpoint:                              iss + TokenPath,
		RevocationEndpoint:                         iss + RevokePath,
		IntrospectionEndpoint:                      iss + IntrospectPath,
		ScopesSupported:                            slices.Compact(scopes),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials},
		TokenEndpointAuthMethodsSupported:          auth,
		RevocationEndpointAuthMethodsSupported:     auth,
		IntrospectionEndpointAuthMethods:           auth,
		CodeChallengeMethodsSupported:              pkce,
		AuthorizationResponseIssParameterSupported: true,
	})
}
