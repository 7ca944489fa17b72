package oauth

import "slices"

// maxScopeBytes bounds the scope parameter: far more than any client here
// registers, and small enough that nobody can store a 60 KB scope.
const maxScopeBytes = 1024

// parseScope parses a scope parameter, RFC 6749 §3.3:
//
//	scope       = scope-token *( SP scope-token )
//	scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
//
// Duplicates are collapsed, keeping the first; the order is otherwise kept.
// A value longer than maxScopeBytes, with no token, or not in the grammar (a
// space at either end or twice, a tab, a quote, a backslash, a non-ASCII
// byte) is invalid_scope, described without quoting it.
func parseScope(raw string) ([]string, *RFC6749Error) {
	if len(raw) > maxScopeBytes {
		return nil, ErrInvalidScope.WithDescription("The scope parameter is longer than 1024 bytes.")
	}
	var scopes []string
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != ' ' {
			if !validScopeChar(raw[i]) {
				return nil, ErrInvalidScope.WithDescription("The scope parameter has a character that RFC 6749 section 3.3 does not allow.")
			}
			continue
		}
		if i == start {
			return nil, ErrInvalidScope.WithDescription("The scope parameter must be scope tokens separated by single spaces.")
		}
		if tok := raw[start:i]; !slices.Contains(scopes, tok) {
			scopes = append(scopes, tok)
		}
		start = i + 1
	}
	return scopes, nil
}

// validScopeToken reports whether s is one scope-token of RFC 6749 §3.3.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !validScopeChar(s[i]) {
			return false
		}
	}
	return true
}

// validScopeChar reports whether c is an NQCHAR of RFC 6749 Appendix A
// other than space: %x21 / %x23-5B / %x5D-7E.
func validScopeChar(c byte) bool {
	return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'
}

// withinScopes checks that every requested scope is one of available;
// otherwise it is invalid_scope with the given description.
func withinScopes(requested, available []string, description string) *RFC6749Error {
	for _, sc := range requested {
		if !slices.Contains(available, sc) {
			return ErrInvalidScope.WithDescription(description)
		}
	}
	return nil
}
