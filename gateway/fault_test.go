package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/gateway"
)

// TestNotUnderstood checks SOAP 1.2's NotUnderstood header blocks (part 1
// §5.4.8): one per mandatory block this node does not understand, each
// QName once, and only those targeted at this node.
func TestNotUnderstood(t *testing.T) {
	g := newGateway(t)
	for _, tc := range []struct {
		desc, header string
		want         []string // "{ns}local" in order; nil means no fault
	}{
		{"OneBlock", `<t:Tx xmlns:t="urn:tx" e:mustUnderstand="true">5</t:Tx>`, []string{"{urn:tx}Tx"}},
		{"EachQNameOnce", `<t:Tx xmlns:t="urn:tx" e:mustUnderstand="1"/><u:Tx xmlns:u="urn:tx" e:mustUnderstand="true"/><t:Other xmlns:t="urn:tx" e:mustUnderstand="true"/><x:Tx xmlns:x="urn:x" e:mustUnderstand="true"/>`,
			[]string{"{urn:tx}Tx", "{urn:tx}Other", "{urn:x}Tx"}},
		{"Unqualified", `<Plain e:mustUnderstand="true"/>`, []string{"{}Plain"}},
		{"OptionalIgnored", `<t:Tx xmlns:t="urn:tx" e:mustUnderstand="false"/><t:Ty xmlns:t="urn:tx"/>`, nil},
		{"OtherRoleIgnored", `<t:Tx xmlns:t="urn:tx" e:mustUnderstand="true" e:role="http://www.w3.org/2003/05/soap-envelope/role/none"/>`, nil},
		{"UltimateReceiver", `<t:Tx xmlns:t="urn:tx" e:mustUnderstand="true" e:role="http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"/>`, []string{"{urn:tx}Tx"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			body := strings.Replace(envelope12("Ada"), "<e:Body>", "<e:Header>"+tc.header+"</e:Header><e:Body>", 1)
			w := do(g, "POST", "/SayHello/", "application/soap+xml", strings.NewReader(body))
			a := parseAnswer(t, w.Body.Bytes())
			if tc.want == nil {
				require.Equal(t, 200, w.Code, "%s", w.Body)
				return
			}
			assert.Equal(t, 500, w.Code)
			assert.Equal(t, "MustUnderstand", a.code)
			assert.Equal(t, tc.want, notUnderstood(t, w.Body.Bytes()))
		})
	}
}

// TestNotUnderstoodProportionate sends 400 mandatory blocks (100 names) in one 64 KiB
// namespace, declared once: the fault declares it once too, so it stays
// about as large as the request, not 400 times larger.
func TestNotUnderstoodProportionate(t *testing.T) {
	g := newGateway(t)
	ns := "urn:" + strings.Repeat("n", 64<<10)
	var h strings.Builder
	fmt.Fprintf(&h, `<e:Header xmlns:p="%s">`, ns)
	for i := range 200 {
		fmt.Fprintf(&h, `<p:h%d e:mustUnderstand="true"/><p:h%d e:mustUnderstand="true"/>`, i%100, i%100)
	}
	h.WriteString(`</e:Header>`)
	body := strings.Replace(envelope12("Ada"), "<e:Body>", h.String()+"<e:Body>", 1)
	w := do(g, "POST", "/SayHello/", "application/soap+xml", strings.NewReader(body))
	require.Equal(t, 500, w.Code)
	names := notUnderstood(t, w.Body.Bytes())
	require.Len(t, names, 100, "each QName once")
	assert.Equal(t, "{"+ns+"}h0", names[0])
	assert.Equal(t, 1, strings.Count(w.Body.String(), ns), "the namespace is declared once")
	assert.Less(t, w.Body.Len(), len(body), "the fault is no larger than its request")
}

// notUnderstood lists the NotUnderstood blocks of a SOAP 1.2 fault as
// "{ns}local", resolving each qname's prefix where the fault declares it.
func notUnderstood(t *testing.T, fault []byte) []string {
	t.Helper()
	doc := etree.NewDocument()
	require.NoError(t, doc.ReadFromBytes(fault))
	var out []string
	for _, e := range doc.FindElements("//NotUnderstood") {
		require.Equal(t, nsEnv12, e.NamespaceURI())
		prefix, local, ok := strings.Cut(e.SelectAttrValue("qname", ""), ":")
		ns := ""
		if ok {
			ns = lookupNS(e, prefix)
			require.NotEmpty(t, ns, "prefix %q is not declared", prefix)
		} else {
			local = prefix
		}
		out = append(out, "{"+ns+"}"+local)
	}
	return out
}

// TestFaultsNeverQuote sends hostile values in every place a fault or its
// log line could echo them, and checks that neither does: the answer says
// what is wrong in the gateway's own words.
func TestFaultsNeverQuote(t *testing.T) {
	var logs bytes.Buffer
	g := newGateway(t, func(c *gateway.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	const evil = "EVIL<&>"
	long := evil + strings.Repeat("x", 64<<10)
	op := func(name string) string {
		return strings.Replace(envelope11("Ada"), "h:sayHello", "h:"+name, 2)
	}
	for _, tc := range []struct {
		desc, method, path, contentType, body string
		headers                               []string
	}{
		{"SOAPAction", "POST", "/SayHello/", "text/xml", envelope11("Ada"), []string{"SOAPAction", long}},
		{"SOAP12Action", "POST", "/SayHello/", `application/soap+xml; action="` + long + `"`, envelope12("Ada"), nil},
		{"Operation", "POST", "/SayHello/", "text/xml", op("EVIL" + strings.Repeat("x", 200)), nil},
		{"HrefTarget", "POST", "/SayHello/", "text/xml", strings.Replace(envelope11("Ada"), "<firstName>Ada</firstName>", `<firstName href="#EVIL&lt;&amp;&gt;"/>`, 1), nil},
		{"CharsetLabel", "POST", "/SayHello/", `text/xml; charset="` + long + `"`, envelope11("Ada"), nil},
		{"DeclaredCharset", "POST", "/SayHello/", "text/xml", `<?xml version="1.0" encoding="EVILxx"?>` + envelope11("Ada"), nil},
		{"ContentType", "POST", "/SayHello/", "application/EVIL", envelope11("Ada"), nil},
		{"ContentEncoding", "POST", "/SayHello/", "text/xml", envelope11("Ada"), []string{"Content-Encoding", long}},
		{"JSONContentEncoding", "POST", "/sayHello", "application/json", `{"firstName":"Ada"}`, []string{"Content-Encoding", long}},
		{"JSONBody", "POST", "/sayHello", "application/json", `{"firstName":` + `"EVIL"` + `,`, nil},
		{"JSONType", "POST", "/sayHello", "application/json", `{"firstName":["EVIL"]}`, nil},
		{"Path", "GET", "/EVIL", "", "", nil},
		{"Method", "EVIL", "/SayHello/", "", "", nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			logs.Reset()
			w := do(g, tc.method, tc.path, tc.contentType, strings.NewReader(tc.body), tc.headers...)
			require.GreaterOrEqual(t, w.Code, 400)
			assert.NotContains(t, w.Body.String(), "EVIL")
			require.NotEmpty(t, logs.String(), "the refusal is logged")
			for line := range strings.Lines(logs.String()) {
				var rec struct{ Error string }
				require.NoError(t, json.Unmarshal([]byte(line), &rec))
				assert.NotContains(t, rec.Error, "EVIL", "the logged error quotes the caller")
			}
			assert.Less(t, w.Body.Len(), 1024, "a fault or problem does not grow with the input")
		})
	}
}
