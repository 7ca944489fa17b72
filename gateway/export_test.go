package gateway

import "strings"

// JSONRoutes lists "METHOD /path" of every route the JSON codec answers,
// for the OpenAPI test in the external test package.
func (g *Gateway) JSONRoutes() []string {
	var out []string
	for _, r := range g.engine.Routes() {
		if strings.HasSuffix(r.Handler, ".(*Gateway).handleJSON-fm") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}
