//go:build ignore

// Command mkenvelopes writes the hand-made envelopes (ok-*, bad-*) and cases.json, byte
// for byte. The captured client envelopes (php-*, perl-*, node-*, zeep-*, suds-*) are
// not generated; their cases are listed here so that cases.json is complete. Run it from the repository root:
//
//	go run testdata/envelopes/mkenvelopes.go
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

const (
	U  = "O'Brien <&> \"名前\" 😀"
	UX = `O'Brien &lt;&amp;&gt; "名前" 😀`

	ctUTF8  = "text/xml; charset=utf-8"
	saWSDL  = `"sayHello"`
	saURI   = `"urn:examples:helloservice#sayHello"`
	ct12    = `application/soap+xml; charset=utf-8; action="sayHello"`
	soapEnv = "http://schemas.xmlsoap.org/soap/envelope/"
)

type Case struct {
	Name            string `json:"name"`
	File            string `json:"file"`
	ContentType     string `json:"content_type"`
	SOAPAction      string `json:"soap_action"`
	NoSOAPAction    bool   `json:"no_soap_action,omitempty"`
	ContentEncoding string `json:"content_encoding,omitempty"`
	WantFirstName   string `json:"want_first_name,omitempty"`
	WantFault       string `json:"want_fault,omitempty"`
	FaultContains   string `json:"fault_contains,omitempty"`
	FaultExcludes   string `json:"fault_excludes,omitempty"`
	Source          string `json:"source"`
	Note            string `json:"note,omitempty"`
}

var (
	dir   = filepath.Join("testdata", "envelopes")
	cases []Case
)

func write(file string, b []byte) {
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		panic(err)
	}
}

// php11 is PHP SoapClient's SOAP 1.1 envelope shape around a part element.
func php11(op, part string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:examples:helloservice" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:` + op + `>` + part + `</ns1:` + op + `></SOAP-ENV:Body></SOAP-ENV:Envelope>
`
}

// axis11 is an Axis-1-like pretty-printed SOAP 1.1 envelope; body goes inside soapenv:Body.
func axis11(decl, header, body string) string {
	return decl + `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:xsd="http://www.w3.org/2001/XMLSchema"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/">` + header + `
  <soapenv:Body>
` + body + `
  </soapenv:Body>
</soapenv:Envelope>
`
}

const declUTF8 = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func sayHello(part string) string {
	return `    <ns1:sayHello soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:examples:helloservice">
      ` + part + `
    </ns1:sayHello>`
}

func soap12(header, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + header + `
  <env:Body>
` + body + `
  </env:Body>
</env:Envelope>
`
}

func sayHello12(part string) string {
	return `    <m:sayHello xmlns:m="urn:examples:helloservice" env:encodingStyle="http://www.w3.org/2003/05/soap-encoding">
      ` + part + `
    </m:sayHello>`
}

func ok(name, file, ct, sa, want, note string) {
	cases = append(cases, Case{Name: name, File: file, ContentType: ct, SOAPAction: sa, WantFirstName: want, Source: "hand-made", Note: note})
}

func bad(name, file, ct, sa, fault, contains, note string) {
	cases = append(cases, Case{Name: name, File: file, ContentType: ct, SOAPAction: sa, WantFault: fault, FaultContains: contains, Source: "hand-made", Note: note})
}

func captured(file, ct, sa string, noSA bool, enc, want, fault, contains, source, note string) {
	cases = append(cases, Case{Name: strings.TrimSuffix(strings.TrimSuffix(file, ".gz"), ".xml"), File: file, ContentType: ct, SOAPAction: sa, NoSOAPAction: noSA, ContentEncoding: enc, WantFirstName: want, WantFault: fault, FaultContains: contains, Source: source, Note: note})
}

func utf16LE(s string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.Bytes()
}

func utf16BE(s string) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFE, 0xFF})
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u >> 8))
		b.WriteByte(byte(u))
	}
	return b.Bytes()
}

func main() {
	const php, perl, node = "PHP 8.2.36 ext/soap (SoapClient)", "Perl 5.36 SOAP::Lite 1.27", "node-soap 1.13.0 (Node 20.20.2)"
	const zeep, suds = "zeep 4.2.1 (Debian python3-zeep, Python 3.11)", "suds 1.1.2 (Debian python3-suds, Python 3.11)"
	// ---- captured from real clients ----
	captured("php-wsdl-ada.xml", ctUTF8, saWSDL, false, "", "Ada", "", "", php, "WSDL mode")
	captured("php-wsdl-unicode.xml", ctUTF8, saWSDL, false, "", U, "", "", php, "WSDL mode")
	captured("php-wsdl-empty.xml", ctUTF8, saWSDL, false, "", "", "Client", "firstName", php, "WSDL mode, sayHello('')")
	captured("php-wsdl-gzip-ada.xml.gz", ctUTF8, saWSDL, false, "gzip", "Ada", "", "", php, "WSDL mode, compression => SOAP_COMPRESSION_GZIP|1: gzip request body")
	captured("php-nowsdl-ada.xml", ctUTF8, saURI, false, "", "Ada", "", "", php, "non-WSDL mode, new SoapParam($name, 'firstName')")
	captured("php-nowsdl-unicode.xml", ctUTF8, saURI, false, "", U, "", "", php, "non-WSDL mode, SoapParam")
	captured("php-nowsdl-positional-ada.xml", ctUTF8, saURI, false, "", "Ada", "", "", php, "non-WSDL mode, bare argument: part named param0")
	captured("php-nowsdl-positional-unicode.xml", ctUTF8, saURI, false, "", U, "", "", php, "non-WSDL mode, bare argument: part named param0")
	captured("php-soap12-ada.xml", ct12, "", true, "", "Ada", "", "", php, "WSDL mode, soap_version => SOAP_1_2")
	captured("php-soap12-unicode.xml", ct12, "", true, "", U, "", "", php, "WSDL mode, soap_version => SOAP_1_2")
	captured("php-soap12-nowsdl-ada.xml", `application/soap+xml; charset=utf-8; action="urn:examples:helloservice#sayHello"`, "", true, "", "Ada", "", "", php, "non-WSDL mode, SOAP 1.2")
	captured("perl-named-ada.xml", ctUTF8, saURI, false, "", "Ada", "", "", perl, "->sayHello(SOAP::Data->name(firstName => $name))")
	captured("perl-named-unicode.xml", ctUTF8, saURI, false, "", U, "", "", perl, "SOAP::Lite auto-types non-ASCII strings as xsd:base64Binary")
	captured("perl-named-empty.xml", ctUTF8, saURI, false, "", "", "Client", "firstName", perl, "SOAP::Data->name(firstName => '')")
	captured("perl-gensym-ada.xml", ctUTF8, saURI, false, "", "Ada", "", "", perl, "->sayHello($name): part named c-gensymN")
	captured("perl-gensym-unicode.xml", ctUTF8, saURI, false, "", U, "", "", perl, "c-gensymN part, xsd:base64Binary")
	captured("perl-typed-unicode.xml", ctUTF8, saWSDL, false, "", U, "", "", perl, "->on_action(sub {'\"sayHello\"'}), SOAP::Data->...->type('string')")
	captured("perl-soap12-ada.xml", "application/soap+xml; charset=utf-8", saURI, false, "", "Ada", "", "", perl, "SOAP::Lite->soapversion('1.2'): no action parameter, SOAPAction header instead, encodingStyle on Envelope")
	captured("perl-multiref-scalarref-ada.xml", ctUTF8, saURI, false, "", "", "Client", "", perl, "a Perl scalar *reference* passed twice: href to a multiRef whose value is a compound (struct) element, not a string")
	captured("perl-multiref-inplace-ada.xml", ctUTF8, saURI, false, "", "", "Client", "", perl, "same with serializer->multirefinplace(1): firstName is itself the compound id'd element")
	captured("node-wsdl-ada.xml", ctUTF8, saWSDL, false, "", "Ada", "", "", node, "createClient(WSDL): body element in the WSDL targetNamespace, no xsi:type, no encodingStyle")
	captured("node-wsdl-unicode.xml", ctUTF8, saWSDL, false, "", U, "", "", node, "node-soap escapes ' and \" as &apos; &quot;")
	captured("zeep-wsdl-ada.xml", ctUTF8, saWSDL, false, "", "Ada", "", "", zeep, "Client(WSDL).service.sayHello(firstName=name): single-quoted XML declaration, soap-env and ns0 prefixes, no xsi:type")
	captured("zeep-wsdl-unicode.xml", ctUTF8, saWSDL, false, "", U, "", "", zeep, "zeep escapes only < & >")
	captured("suds-wsdl-ada.xml", ctUTF8, saWSDL, false, "", "Ada", "", "", suds, "Client(WSDL).service.sayHello(name): an empty SOAP-ENV:Header, the Body under a second prefix (ns3) of the envelope namespace, xsi:type ns1:string")
	captured("suds-wsdl-unicode.xml", ctUTF8, saWSDL, false, "", U, "", "", suds, "suds escapes ' and \" as &apos; &quot;")

	// ---- hand-made: tolerated ----
	write("ok-basic.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+UX+`</firstName>`))))
	ok("ok-basic", "ok-basic.xml", ctUTF8, saWSDL, U, "exactly the WSDL binding's shape")
	ok("ok-basic/soapaction-unquoted", "ok-basic.xml", ctUTF8, "sayHello", U, "SOAPAction: sayHello")
	ok("ok-basic/soapaction-uri-hash", "ok-basic.xml", ctUTF8, saURI, U, "")
	ok("ok-basic/soapaction-uri-hash-unquoted", "ok-basic.xml", ctUTF8, "urn:examples:helloservice#sayHello", U, "")
	ok("ok-basic/soapaction-empty-quoted", "ok-basic.xml", ctUTF8, `""`, U, `SOAPAction: ""`)
	ok("ok-basic/soapaction-empty", "ok-basic.xml", ctUTF8, "", U, "SOAPAction header present, empty value")
	cases = append(cases, Case{Name: "ok-basic/soapaction-absent", File: "ok-basic.xml", ContentType: ctUTF8, NoSOAPAction: true, WantFirstName: U, Source: "hand-made", Note: "no SOAPAction header at all"})
	ok("ok-basic/content-type-no-charset", "ok-basic.xml", "text/xml", saWSDL, U, "")
	ok("ok-basic/content-type-upper-nospace", "ok-basic.xml", "text/xml;charset=UTF-8", saWSDL, U, "")
	ok("ok-basic/content-type-quoted-charset", "ok-basic.xml", `text/xml; charset="utf-8"`, saWSDL, U, "")

	write("ok-no-encodingstyle.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <soap:Body>
    <h:sayHello xmlns:h="urn:examples:helloservice">
      <firstName xsi:type="xsd:string">Ada</firstName>
    </h:sayHello>
  </soap:Body>
</soap:Envelope>
`))
	ok("ok-no-encodingstyle", "ok-no-encodingstyle.xml", ctUTF8, saWSDL, "Ada", "no encodingStyle anywhere")

	write("ok-encodingstyle-on-body.xml", []byte(`<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:tns="urn:examples:helloservice" xmlns:types="urn:examples:helloservice/encodedTypes" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <soap:Body soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
    <tns:sayHello>
      <firstName xsi:type="xsd:string">`+UX+`</firstName>
    </tns:sayHello>
  </soap:Body>
</soap:Envelope>
`))
	ok("ok-encodingstyle-on-body", "ok-encodingstyle-on-body.xml", ctUTF8, `"sayHello"`, U, ".NET (SoapHttpClientProtocol, rpc/encoded)-like: encodingStyle on Body")

	write("ok-encodingstyle-on-part.xml", []byte(axis11(declUTF8, "", `    <ns1:sayHello xmlns:ns1="urn:examples:helloservice">
      <firstName soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="xsd:string">Ada</firstName>
    </ns1:sayHello>`)))
	ok("ok-encodingstyle-on-part", "ok-encodingstyle-on-part.xml", ctUTF8, saWSDL, "Ada", "encodingStyle on the part element")

	write("ok-part-qualified.xml", []byte(php11("sayHello", `<ns1:firstName xsi:type="xsd:string">`+UX+`</ns1:firstName>`)))
	ok("ok-part-qualified", "ok-part-qualified.xml", ctUTF8, saWSDL, U, "part qualified with the operation namespace")

	write("ok-part-unqualified-default-ns.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/">
  <Body>
    <sayHello xmlns="urn:examples:helloservice">
      <firstName xmlns="">Ada</firstName>
    </sayHello>
  </Body>
</Envelope>
`))
	ok("ok-part-unqualified-default-ns", "ok-part-unqualified-default-ns.xml", ctUTF8, saWSDL, "Ada", "no prefixes at all: default namespaces, part explicitly unqualified with xmlns=\"\"")

	write("ok-part-other-name.xml", []byte(axis11(declUTF8, "", sayHello(`<arg0 xsi:type="xsd:string">`+UX+`</arg0>`))))
	ok("ok-part-other-name", "ok-part-other-name.xml", ctUTF8, saWSDL, U, "single part with another name (arg0): found by position")

	write("ok-part-other-name-namespaced.xml", []byte(axis11(declUTF8, "", sayHello(`<x:name xmlns:x="urn:example:other">Ada</x:name>`))))
	ok("ok-part-other-name-namespaced", "ok-part-other-name-namespaced.xml", ctUTF8, saWSDL, "Ada", "single part with another name in another namespace: found by position")

	write("ok-no-xsi-type.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName>`+UX+`</firstName>`))))
	ok("ok-no-xsi-type", "ok-no-xsi-type.xml", ctUTF8, saWSDL, U, "")

	write("ok-xsi-type-other-prefixes.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:s="http://www.w3.org/2001/XMLSchema">
  <e:Body>
    <q:sayHello xmlns:q="urn:examples:helloservice" e:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
      <firstName i:type="s:string">Ada</firstName>
    </q:sayHello>
  </e:Body>
</e:Envelope>
`))
	ok("ok-xsi-type-other-prefixes", "ok-xsi-type-other-prefixes.xml", ctUTF8, saWSDL, "Ada", "unusual prefixes everywhere")

	write("ok-soapenc-string.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="soapenc:string">`+UX+`</firstName>`))))
	ok("ok-soapenc-string", "ok-soapenc-string.xml", ctUTF8, saWSDL, U, "xsi:type=\"soapenc:string\" (Axis 1)")

	b64 := base64.StdEncoding.EncodeToString([]byte(U))
	write("ok-base64.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:base64Binary">`+b64+`</firstName>`))))
	ok("ok-base64", "ok-base64.xml", ctUTF8, saWSDL, U, "")

	write("ok-base64-other-prefixes.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">
  <e:Body>
    <q:sayHello xmlns:q="urn:examples:helloservice">
      <firstName xmlns:t="http://www.w3.org/2001/XMLSchema-instance" xmlns:b="http://www.w3.org/2001/XMLSchema" t:type="b:base64Binary">`+b64+`</firstName>
    </q:sayHello>
  </e:Body>
</e:Envelope>
`))
	ok("ok-base64-other-prefixes", "ok-base64-other-prefixes.xml", ctUTF8, saWSDL, U, "xsi:type resolved by namespace, not by prefix")

	long := strings.Repeat("Ada Lovelace ", 8) + U
	lb := base64.StdEncoding.EncodeToString([]byte(long))
	write("ok-base64-wrapped.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:base64Binary">
        `+lb[:76]+"\r\n        "+lb[76:]+`
      </firstName>`))))
	ok("ok-base64-wrapped", "ok-base64-wrapped.xml", ctUTF8, saWSDL, long, "base64 with line breaks and surrounding whitespace (allowed in xsd:base64Binary's lexical space)")

	write("ok-soapenc-base64.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="soapenc:base64">`+b64+`</firstName>`))))
	ok("ok-soapenc-base64", "ok-soapenc-base64.xml", ctUTF8, saWSDL, U, "SOAP 1.1 encoding's own base64 type (SOAP 1.1 section 5.2.3)")

	write("ok-href-multiref.xml", []byte(axis11(declUTF8, "", `    <ns1:sayHello soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:examples:helloservice">
      <firstName href="#id0"/>
    </ns1:sayHello>
    <multiRef id="id0" soapenc:root="0" soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xsi:type="soapenc:string">`+UX+`</multiRef>`)))
	ok("ok-href-multiref", "ok-href-multiref.xml", ctUTF8, saWSDL, U, "Axis 1 style href to a multiRef sibling of the operation element")

	write("ok-href-multiref-base64.xml", []byte(axis11(declUTF8, "", `    <ns1:sayHello soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:examples:helloservice">
      <arg0 href="#id1"/>
    </ns1:sayHello>
    <multiRef id="id1" soapenc:root="0" xsi:type="xsd:base64Binary">`+b64+`</multiRef>`)))
	ok("ok-href-multiref-base64", "ok-href-multiref-base64.xml", ctUTF8, saWSDL, U, "positional part, href to a base64Binary multiRef")

	latin1 := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" + axis11("", "", sayHello(`<firstName xsi:type="xsd:string">Jos`+"\xe9 M\xfcller"+`</firstName>`))
	write("ok-iso-8859-1.xml", []byte(latin1))
	ok("ok-iso-8859-1", "ok-iso-8859-1.xml", "text/xml; charset=ISO-8859-1", saWSDL, "José Müller", "Latin-1 bytes 0xE9, 0xFC")
	ok("ok-iso-8859-1/declaration-only", "ok-iso-8859-1.xml", "text/xml", saWSDL, "José Müller", "charset only in the XML declaration (RFC 7303 section 3.2)")

	cp := "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n" + axis11("", "", sayHello(`<firstName>`+"\x93Ada\x94 \x80 Fran\xe7ois"+`</firstName>`))
	write("ok-windows-1252.xml", []byte(cp))
	ok("ok-windows-1252", "ok-windows-1252.xml", "text/xml; charset=windows-1252", saWSDL, "“Ada” € François", "0x93/0x94/0x80 differ from ISO-8859-1")
	ok("ok-windows-1252/declaration-only", "ok-windows-1252.xml", "text/xml", saWSDL, "“Ada” € François", "")

	write("ok-utf8-bom.xml", append([]byte{0xEF, 0xBB, 0xBF}, axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+UX+`</firstName>`))...))
	ok("ok-utf8-bom", "ok-utf8-bom.xml", ctUTF8, saWSDL, U, "UTF-8 byte order mark before the declaration")

	u16 := axis11(`<?xml version="1.0" encoding="UTF-16"?>`+"\n", "", sayHello(`<firstName xsi:type="xsd:string">`+UX+`</firstName>`))
	write("ok-utf16le-bom.xml", utf16LE(u16))
	ok("ok-utf16le-bom", "ok-utf16le-bom.xml", "text/xml; charset=utf-16", saWSDL, U, "UTF-16 little-endian with BOM; the emoji is a surrogate pair")
	write("ok-utf16be-bom.xml", utf16BE(u16))
	ok("ok-utf16be-bom", "ok-utf16be-bom.xml", "text/xml; charset=utf-16", saWSDL, U, "UTF-16 big-endian with BOM")

	write("ok-comments.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!-- before the envelope -->
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><!-- c1 -->
  <soapenv:Header><!-- empty header --></soapenv:Header>
  <!-- between Header and Body -->
  <soapenv:Body><!-- before the operation -->
    <ns1:sayHello xmlns:ns1="urn:examples:helloservice"><!-- before the part -->
      <firstName>O'Brien <!-- inside the text -->&lt;&amp;&gt; "名前"<!-- again --> 😀</firstName>
      <!-- after the part -->
    </ns1:sayHello>
  </soapenv:Body>
</soapenv:Envelope>
<!-- after the envelope -->
`))
	ok("ok-comments", "ok-comments.xml", ctUTF8, saWSDL, U, "comments everywhere, including inside the part's text")

	write("ok-cdata.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string"><![CDATA[`+U+`]]></firstName>`))))
	ok("ok-cdata", "ok-cdata.xml", ctUTF8, saWSDL, U, "")
	write("ok-cdata-mixed.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">O'Brien <![CDATA[<&>]]> &quot;名前&quot;<![CDATA[ 😀]]></firstName>`))))
	ok("ok-cdata-mixed", "ok-cdata-mixed.xml", ctUTF8, saWSDL, U, "text and CDATA sections mixed")

	write("ok-char-refs.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">O&apos;Brien &#60;&#x26;&gt; &quot;&#x540D;&#21069;&quot; &#x1F600;</firstName>`))))
	ok("ok-char-refs", "ok-char-refs.xml", ctUTF8, saWSDL, U, "predefined entities and decimal/hex character references, including a non-BMP one")

	write("ok-pretty-printed.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>

<SOAP-ENV:Envelope
    xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">

	<SOAP-ENV:Header/>

	<SOAP-ENV:Body>

		<ns1:sayHello
		    xmlns:ns1="urn:examples:helloservice">

			<firstName
			    xsi:type="xsd:string"
			    >Ada</firstName>

		</ns1:sayHello>

	</SOAP-ENV:Body>

</SOAP-ENV:Envelope>

`))
	ok("ok-pretty-printed", "ok-pretty-printed.xml", ctUTF8, saWSDL, "Ada", "tabs, blank lines, attributes on their own lines, an empty Header")

	write("ok-no-xml-declaration.xml", []byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><sayHello xmlns="urn:examples:helloservice"><firstName>Ada</firstName></sayHello></soap:Body></soap:Envelope>`))
	ok("ok-no-xml-declaration", "ok-no-xml-declaration.xml", ctUTF8, saWSDL, "Ada", "no declaration, no trailing newline")

	write("ok-body-no-namespace.xml", []byte(axis11(declUTF8, "", `    <sayHello>
      <firstName>Ada</firstName>
    </sayHello>`)))
	ok("ok-body-no-namespace", "ok-body-no-namespace.xml", ctUTF8, saWSDL, "Ada", "operation element in no namespace: dispatch by local name")

	write("ok-body-other-namespace.xml", []byte(axis11(declUTF8, "", `    <t:sayHello xmlns:t="http://tempuri.org/">
      <firstName>Ada</firstName>
    </t:sayHello>`)))
	ok("ok-body-other-namespace", "ok-body-other-namespace.xml", ctUTF8, saWSDL, "Ada", "operation element in another namespace: dispatch by local name")

	write("ok-space-preserved.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">  Ada  Lovelace </firstName>`))))
	ok("ok-space-preserved", "ok-space-preserved.xml", ctUTF8, saWSDL, "  Ada  Lovelace ", "xsd:string preserves whitespace; the name round-trips exactly")

	write("ok-single-char.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">A</firstName>`))))
	ok("ok-single-char", "ok-single-char.xml", ctUTF8, saWSDL, "A", "lower bound: 1 character")

	n1024 := strings.Repeat("abcdefgh", 128)
	write("ok-firstname-1024-chars.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+n1024+`</firstName>`))))
	ok("ok-firstname-1024-chars", "ok-firstname-1024-chars.xml", ctUTF8, saWSDL, n1024, "upper bound: 1024 characters")
	m1024 := strings.Repeat("名", 1024)
	write("ok-firstname-1024-multibyte.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+m1024+`</firstName>`))))
	ok("ok-firstname-1024-multibyte", "ok-firstname-1024-multibyte.xml", ctUTF8, saWSDL, m1024, "1024 characters = 3072 UTF-8 bytes: the limit counts characters, not bytes")
	e1024 := strings.Repeat("😀", 1024)
	write("ok-firstname-1024-emoji.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+e1024+`</firstName>`))))
	ok("ok-firstname-1024-emoji", "ok-firstname-1024-emoji.xml", ctUTF8, saWSDL, e1024, "1024 characters = 4096 bytes = 2048 UTF-16 code units")

	mu0 := axis11(declUTF8, `
  <soapenv:Header>
    <t:Transaction xmlns:t="urn:example:tx" soapenv:mustUnderstand="0">5</t:Transaction>
  </soapenv:Header>`, sayHello(`<firstName xsi:type="xsd:string">Ada</firstName>`))
	write("ok-mustunderstand-0.xml", []byte(mu0))
	ok("ok-mustunderstand-0", "ok-mustunderstand-0.xml", ctUTF8, saWSDL, "Ada", "unknown header with mustUnderstand=\"0\" is ignored")

	s12 := soap12("", sayHello12(`<firstName xsi:type="xsd:string">`+UX+`</firstName>`))
	write("ok-soap12.xml", []byte(s12))
	ok("ok-soap12", "ok-soap12.xml", ct12, "", U, "SOAP 1.2: action in the content type")
	cases[len(cases)-1].NoSOAPAction = true
	cases = append(cases, Case{Name: "ok-soap12/no-action", File: "ok-soap12.xml", ContentType: "application/soap+xml", NoSOAPAction: true, WantFirstName: U, Source: "hand-made", Note: "SOAP 1.2 without any action parameter"})
	cases = append(cases, Case{Name: "ok-soap12/action-uri-unquoted", File: "ok-soap12.xml", ContentType: "application/soap+xml;charset=UTF-8;action=urn:examples:helloservice#sayHello", NoSOAPAction: true, WantFirstName: U, Source: "hand-made"})

	// ---- hand-made: rejected ----
	write("bad-doctype-internal-entity.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE soapenv:Envelope [
  <!ENTITY name "Ada">
]>
`+axis11("", "", sayHello(`<firstName xsi:type="xsd:string">&name;</firstName>`))))
	bad("bad-doctype-internal-entity", "bad-doctype-internal-entity.xml", ctUTF8, saWSDL, "Client", "DTD", "SOAP 1.1 section 3: a SOAP message MUST NOT contain a DTD")

	write("bad-doctype-external-entity.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE soapenv:Envelope [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
`+axis11("", "", sayHello(`<firstName xsi:type="xsd:string">&xxe;</firstName>`))))
	bad("bad-doctype-external-entity", "bad-doctype-external-entity.xml", ctUTF8, saWSDL, "Client", "DTD", "XXE: must never read the file")
	cases[len(cases)-1].FaultExcludes = "root:"

	write("bad-doctype-bare.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE soapenv:Envelope>
`+axis11("", "", sayHello(`<firstName xsi:type="xsd:string">Ada</firstName>`))))
	bad("bad-doctype-bare", "bad-doctype-bare.xml", ctUTF8, saWSDL, "Client", "DTD", "a DTD without entities is still forbidden by SOAP 1.1 section 3")

	write("bad-not-xml.xml", []byte("sayHello firstName=Ada\n"))
	bad("bad-not-xml", "bad-not-xml.xml", ctUTF8, saWSDL, "Client", "", "")
	write("bad-json-body.xml", []byte(`{"firstName": "Ada"}`+"\n"))
	bad("bad-json-body", "bad-json-body.xml", ctUTF8, saWSDL, "Client", "", "JSON sent to the SOAP endpoint as text/xml")
	write("bad-empty-request.xml", nil)
	bad("bad-empty-request", "bad-empty-request.xml", ctUTF8, saWSDL, "Client", "", "zero-byte body")
	tr := axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">Ada</firstName>`))
	write("bad-truncated.xml", []byte(tr[:strings.Index(tr, "</ns1:sayHello>")]))
	bad("bad-truncated", "bad-truncated.xml", ctUTF8, saWSDL, "Client", "", "envelope cut off after the part")

	write("bad-version-mismatch.xml", []byte(strings.Replace(php11("sayHello", `<firstName xsi:type="xsd:string">Ada</firstName>`), soapEnv, "http://schemas.xmlsoap.org/soap/envelope", 1)))
	bad("bad-version-mismatch", "bad-version-mismatch.xml", ctUTF8, saWSDL, "VersionMismatch", "", "Envelope namespace without its trailing slash (SOAP 1.1 section 4.4.1)")

	write("bad-no-body.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Header/>
</soapenv:Envelope>
`))
	bad("bad-no-body", "bad-no-body.xml", ctUTF8, saWSDL, "Client", "", "")
	write("bad-empty-body.xml", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body>
  </soapenv:Body>
</soapenv:Envelope>
`))
	bad("bad-empty-body", "bad-empty-body.xml", ctUTF8, saWSDL, "Client", "", "")

	write("bad-unknown-operation.xml", []byte(axis11(declUTF8, "", `    <ns1:sayGoodbye soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:examples:helloservice">
      <firstName xsi:type="xsd:string">Ada</firstName>
    </ns1:sayGoodbye>`)))
	bad("bad-unknown-operation", "bad-unknown-operation.xml", ctUTF8, `"sayGoodbye"`, "Client", "does not offer", "the fault never quotes the caller's operation name")
	cases[len(cases)-1].FaultExcludes = "sayGoodbye"

	write("bad-missing-firstname.xml", []byte(axis11(declUTF8, "", `    <ns1:sayHello soapenv:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" xmlns:ns1="urn:examples:helloservice"/>`)))
	bad("bad-missing-firstname", "bad-missing-firstname.xml", ctUTF8, saWSDL, "Client", "firstName", "")
	write("bad-empty-firstname.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string"/>`))))
	bad("bad-empty-firstname", "bad-empty-firstname.xml", ctUTF8, saWSDL, "Client", "firstName", "")
	write("bad-nil-firstname.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:nil="true"/>`))))
	bad("bad-nil-firstname", "bad-nil-firstname.xml", ctUTF8, saWSDL, "Client", "firstName", "xsi:nil")
	write("bad-empty-base64.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:base64Binary"></firstName>`))))
	bad("bad-empty-base64", "bad-empty-base64.xml", ctUTF8, saWSDL, "Client", "firstName", "base64 of the empty string")

	n1025 := strings.Repeat("abcdefgh", 128) + "i"
	write("bad-firstname-1025-chars.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+n1025+`</firstName>`))))
	bad("bad-firstname-1025-chars", "bad-firstname-1025-chars.xml", ctUTF8, saWSDL, "Client", "firstName", "")
	m1025 := strings.Repeat("名", 1025)
	write("bad-firstname-1025-multibyte.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+m1025+`</firstName>`))))
	bad("bad-firstname-1025-multibyte", "bad-firstname-1025-multibyte.xml", ctUTF8, saWSDL, "Client", "firstName", "")

	write("bad-firstname-element-content.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName><b>Ada</b></firstName>`))))
	bad("bad-firstname-element-content", "bad-firstname-element-content.xml", ctUTF8, saWSDL, "Client", "firstName", "a compound value is not an xsd:string")

	write("bad-href-dangling.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName href="#nowhere"/>`))))
	bad("bad-href-dangling", "bad-href-dangling.xml", ctUTF8, saWSDL, "Client", "", "href to an id that does not exist")

	mu1 := axis11(declUTF8, `
  <soapenv:Header>
    <t:Transaction xmlns:t="urn:example:tx" soapenv:mustUnderstand="1">5</t:Transaction>
  </soapenv:Header>`, sayHello(`<firstName xsi:type="xsd:string">Ada</firstName>`))
	write("bad-mustunderstand.xml", []byte(mu1))
	bad("bad-mustunderstand", "bad-mustunderstand.xml", ctUTF8, saWSDL, "MustUnderstand", "", "SOAP 1.1 section 4.2.3")

	for _, c := range []struct{ file, text, note string }{
		{"bad-char-ref-control.xml", "Ada&#1;", "&#1; is not an XML 1.0 Char; XML 1.0 parsers reject it"},
		{"bad-char-ref-fffe.xml", "Ada&#xFFFE;", "U+FFFE is not an XML 1.0 Char"},
		{"bad-char-ref-surrogate.xml", "Ada&#xD800;", "a lone surrogate is not an XML 1.0 Char"},
		{"bad-raw-control-char.xml", "Ada\x01", "raw 0x01 byte"},
		{"bad-invalid-utf8.xml", "Ada\xff\xfe", "bytes 0xFF 0xFE in a UTF-8 document"},
		{"bad-overlong-utf8.xml", "Ada\xc0\xaf", "overlong UTF-8 encoding of '/'"},
	} {
		write(c.file, []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+c.text+`</firstName>`))))
		bad(strings.TrimSuffix(c.file, ".xml"), c.file, ctUTF8, saWSDL, "Client", "", c.note)
	}
	for _, c := range []struct{ file, raw, note string }{
		{"bad-base64-invalid-utf8.xml", "\xff\xfeAda", "decodes to bytes that are not UTF-8"},
		{"bad-base64-control-char.xml", "A\x01B", "decodes to U+0001, which XML 1.0 cannot carry"},
	} {
		write(c.file, []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:base64Binary">`+base64.StdEncoding.EncodeToString([]byte(c.raw))+`</firstName>`))))
		bad(strings.TrimSuffix(c.file, ".xml"), c.file, ctUTF8, saWSDL, "Client", "", c.note)
	}
	write("bad-base64-malformed.xml", []byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:base64Binary">@@not base64@@</firstName>`))))
	bad("bad-base64-malformed", "bad-base64-malformed.xml", ctUTF8, saWSDL, "Client", "", "")

	write("bad-soap12-empty-firstname.xml", []byte(soap12("", sayHello12(`<firstName xsi:type="xsd:string"></firstName>`))))
	bad("bad-soap12-empty-firstname", "bad-soap12-empty-firstname.xml", ct12, "", "Sender", "firstName", "SOAP 1.2 faults use env:Sender")
	cases[len(cases)-1].NoSOAPAction = true
	write("bad-soap12-unknown-operation.xml", []byte(soap12("", `    <m:sayGoodbye xmlns:m="urn:examples:helloservice"><firstName>Ada</firstName></m:sayGoodbye>`)))
	bad("bad-soap12-unknown-operation", "bad-soap12-unknown-operation.xml", `application/soap+xml; charset=utf-8; action="sayGoodbye"`, "", "Sender", "does not offer", "")
	cases[len(cases)-1].FaultExcludes = "sayGoodbye"
	cases[len(cases)-1].NoSOAPAction = true
	write("bad-soap12-mustunderstand.xml", []byte(soap12(`
  <env:Header>
    <t:Transaction xmlns:t="urn:example:tx" env:mustUnderstand="true">5</t:Transaction>
  </env:Header>`, sayHello12(`<firstName xsi:type="xsd:string">Ada</firstName>`))))
	bad("bad-soap12-mustunderstand", "bad-soap12-mustunderstand.xml", ct12, "", "MustUnderstand", "", "SOAP 1.2 spells it mustUnderstand=\"true\"")
	cases[len(cases)-1].NoSOAPAction = true

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+UX+`</firstName>`))))
	zw.Close()
	write("bad-gzip-truncated.xml.gz", gz.Bytes()[:100])
	bad("bad-gzip-truncated", "bad-gzip-truncated.xml.gz", ctUTF8, saWSDL, "Client", "", "Content-Encoding: gzip, stream cut off after 100 bytes")
	cases[len(cases)-1].ContentEncoding = "gzip"
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write([]byte(axis11(declUTF8, "", sayHello(`<firstName xsi:type="xsd:string">`+strings.Repeat("A", 16<<20)+`</firstName>`))))
	zw.Close()
	write("bad-gzip-bomb.xml.gz", gz.Bytes())
	bad("bad-gzip-bomb", "bad-gzip-bomb.xml.gz", ctUTF8, saWSDL, "Client", "", "a small gzip body that inflates to 16 MiB: whatever limit trips, it is a client error, never a crash or a hang")
	cases[len(cases)-1].ContentEncoding = "gzip"

	hardening()

	// Every case file must exist.
	for _, c := range cases {
		if _, err := os.Stat(filepath.Join(dir, c.File)); err != nil {
			panic(err)
		}
		if (c.WantFirstName == "") == (c.WantFault == "") {
			panic(fmt.Sprintf("%s: exactly one of want_first_name and want_fault", c.Name))
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(cases); err != nil {
		panic(err)
	}
	write("cases.json", out.Bytes())
	fmt.Println(len(cases), "cases")
}

// hardening writes the cases of issue #8: XML that is not well-formed or
// not one envelope, charsets as RFC 7303 section 3.2 says, and faults that
// never quote the caller.
func hardening() {
	part := `<firstName xsi:type="xsd:string">Ada</firstName>`
	env := func(inside string) string { return axis11(declUTF8, "", inside) }
	for _, c := range []struct{ file, body, contains, note string }{
		{"bad-content-after-root.xml", env(sayHello(part)) + "trailing text", "not well-formed", "XML 1.0 section 2.1: nothing but misc after the root"},
		{"bad-second-root.xml", env(sayHello(part)) + env(sayHello(part)), "not well-formed", "two documents in one body"},
		{"bad-undeclared-prefix.xml", env(`<ns1:sayHello><firstName>Ada</firstName></ns1:sayHello>`), "not well-formed", "Namespaces in XML section 5: ns1 is never declared"},
		{"bad-undeclared-attr-prefix.xml", env(sayHello(`<firstName q:type="x">Ada</firstName>`)), "not well-formed", "an attribute's prefix is never declared"},
		{"bad-inner-xml-declaration.xml", env(sayHello(`<?xml version="1.0"?>` + part)), "not well-formed", "XML 1.0 section 2.8: the declaration comes first or not at all"},
		{"bad-late-xml-declaration.xml", "\n" + env(sayHello(part)), "not well-formed", "white space before the declaration"},
		{"bad-duplicate-attribute.xml", env(sayHello(`<firstName xsi:type="xsd:string" xsi:type="xsd:base64Binary">QWRh</firstName>`)), "not well-formed", "XML 1.0 section 3.1: Unique Att Spec"},
		{"bad-duplicate-expanded-attribute.xml", env(sayHello(`<firstName xmlns:a="urn:x" xmlns:b="urn:x" a:t="1" b:t="2">Ada</firstName>`)), "not well-formed", "Namespaces in XML section 6.3: one expanded name twice"},
		{"bad-mismatched-end-tag.xml", env(sayHello(`<firstName>Ada</lastName>`)), "not well-formed", ""},
		{"bad-empty-prefix-declaration.xml", env(sayHello(`<firstName xmlns:p="">Ada</firstName>`)), "not well-formed", "Namespaces in XML 1.0 cannot undeclare a prefix"},
		{"bad-two-bodies.xml", `<s:Envelope xmlns:s="` + soapEnv + `"><s:Body><m:sayHello xmlns:m="urn:examples:helloservice"><firstName>Ada</firstName></m:sayHello></s:Body><s:Body><m:sayHello xmlns:m="urn:examples:helloservice"><firstName>Eve</firstName></m:sayHello></s:Body></s:Envelope>`, "two Bodies", "SOAP 1.1 section 4.1.1: one Body; which one a firewall reads is unknown"},
		{"bad-two-headers.xml", `<s:Envelope xmlns:s="` + soapEnv + `"><s:Header><t:Tx xmlns:t="urn:example:tx" s:mustUnderstand="1">5</t:Tx></s:Header><s:Header/><s:Body><m:sayHello xmlns:m="urn:examples:helloservice"><firstName>Ada</firstName></m:sayHello></s:Body></s:Envelope>`, "second Header", "the mandatory header is in the first of two Headers"},
		{"bad-header-after-body.xml", `<s:Envelope xmlns:s="` + soapEnv + `"><s:Body><m:sayHello xmlns:m="urn:examples:helloservice"><firstName>Ada</firstName></m:sayHello></s:Body><s:Header/></s:Envelope>`, "second Header, or a Header after its Body", "SOAP 1.1 section 4.1.1: the Header comes first"},
		{"bad-deep-nesting.xml", env(sayHello(`<firstName>` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</firstName>`)), "more elements", "past the nesting limit"},
		{"bad-long-name.xml", env(sayHello(`<firstName ` + strings.Repeat("a", 300) + `="1">Ada</firstName>`)), "longer names", "a 300-byte attribute name"},
		{"bad-many-attributes.xml", env(sayHello(`<firstName` + manyAttrs(70) + `>Ada</firstName>`)), "more elements, attributes", "70 attributes on one element"},
	} {
		write(c.file, []byte(c.body))
		bad(strings.TrimSuffix(c.file, ".xml"), c.file, ctUTF8, saWSDL, "Client", c.contains, c.note)
	}
	// Charsets named only in the Content-Type, with no declaration.
	latin1 := axis11("", "", sayHello(`<firstName xsi:type="xsd:string">Jos`+"\xe9"+`</firstName>`))
	write("ok-iso-8859-1-header-only.xml", []byte(latin1))
	ok("ok-iso-8859-1-header-only", "ok-iso-8859-1-header-only.xml", "text/xml; charset=ISO-8859-1", saWSDL, "José", "RFC 7303 section 3.2: the header's charset, no declaration")
	ok("ok-iso-8859-1-header-only/windows-1252", "ok-iso-8859-1-header-only.xml", "text/xml; charset=windows-1252", saWSDL, "José", "")
	write("ok-utf16le-no-bom.xml", utf16LE(axis11("", "", sayHello(`<firstName>José 名前</firstName>`)))[2:])
	ok("ok-utf16le-no-bom", "ok-utf16le-no-bom.xml", "text/xml; charset=UTF-16LE", saWSDL, "José 名前", "UTF-16 without a BOM, named only in the Content-Type")
	write("ok-utf16be-no-bom.xml", utf16BE(axis11("", "", sayHello(`<firstName>José 名前</firstName>`)))[2:])
	ok("ok-utf16be-no-bom", "ok-utf16be-no-bom.xml", "text/xml; charset=utf-16", saWSDL, "José 名前", "charset=utf-16 without a BOM is big-endian (RFC 2781 section 4.3)")

	// Header UTF-8, declaration ISO-8859-1: whichever bytes the name is in,
	// the two readings differ, so it is refused, never JosÃ©.
	conflict := func(name string) string {
		return "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" + axis11("", "", sayHello(`<firstName>`+name+`</firstName>`))
	}
	write("bad-charset-conflict-utf8-bytes.xml", []byte(conflict("José")))
	bad("bad-charset-conflict-utf8-bytes", "bad-charset-conflict-utf8-bytes.xml", ctUTF8, saWSDL, "Client", "disagree", "UTF-8 bytes, declared ISO-8859-1: read either way the name would change")
	cases[len(cases)-1].FaultExcludes = "JosÃ©"
	write("bad-charset-conflict-latin1-bytes.xml", []byte(conflict("Jos\xe9")))
	bad("bad-charset-conflict-latin1-bytes", "bad-charset-conflict-latin1-bytes.xml", ctUTF8, saWSDL, "Client", "disagree", "Latin-1 bytes under a UTF-8 header")
	write("ok-charset-agree-ascii.xml", []byte(conflict("Ada")))
	ok("ok-charset-agree-ascii", "ok-charset-agree-ascii.xml", ctUTF8, saWSDL, "Ada", "header and declaration differ but read the same text")

	write("bad-us-ascii-non-ascii.xml", []byte(latin1))
	bad("bad-us-ascii-non-ascii", "bad-us-ascii-non-ascii.xml", "text/xml; charset=us-ascii", saWSDL, "Client", "not valid text", "US-ASCII is read strictly, not as windows-1252")
	cases[len(cases)-1].FaultExcludes = "us-ascii"
	bad("bad-charset-x-user-defined", "ok-iso-8859-1-header-only.xml", "text/xml; charset=x-user-defined", saWSDL, "Client", "charset this service does not read", "a WHATWG label, no IANA charset")
	cases[len(cases)-1].FaultExcludes = "x-user-defined"
	bad("bad-charset-unknown", "ok-iso-8859-1-header-only.xml", "text/xml; charset=\"<script>"+strings.Repeat("x", 200)+"\"", saWSDL, "Client", "charset this service does not read", "the label is never quoted back")
	cases[len(cases)-1].FaultExcludes = "script"

	// In SOAP 1.2 the same refusals are Sender faults.
	body12 := sayHello12(`<firstName>Ada</firstName>`)
	write("bad-soap12-two-bodies.xml", []byte(soap12("", body12+"\n  </env:Body>\n  <env:Body>\n"+body12)))
	bad("bad-soap12-two-bodies", "bad-soap12-two-bodies.xml", ct12, "", "Sender", "two Bodies", "SOAP 1.2 part 1 section 5.1")
	cases[len(cases)-1].NoSOAPAction = true
	write("bad-soap12-after-body.xml", []byte(strings.Replace(soap12("", body12), "</env:Envelope>", `<x:Trailer xmlns:x="urn:x"/></env:Envelope>`, 1)))
	bad("bad-soap12-after-body", "bad-soap12-after-body.xml", ct12, "", "Sender", "other than its Header and Body", "SOAP 1.2 allows nothing after the Body, unlike SOAP 1.1")
	cases[len(cases)-1].NoSOAPAction = true
	write("bad-soap12-undeclared-prefix.xml", []byte(soap12("", `<m:sayHello><firstName>Ada</firstName></m:sayHello>`)))
	bad("bad-soap12-undeclared-prefix", "bad-soap12-undeclared-prefix.xml", ct12, "", "Sender", "not well-formed", "")
	cases[len(cases)-1].NoSOAPAction = true

	// Faults never quote the SOAPAction, nor href targets.
	bad("ok-basic/soapaction-never-quoted", "ok-basic.xml", ctUTF8, `"<evil>`+strings.Repeat("A", 300)+`"`, "Client", "does not match operation sayHello", "")
	cases[len(cases)-1].FaultExcludes = "evil"
	write("bad-href-quoted.xml", []byte(env(`<ns1:sayHello xmlns:ns1="urn:examples:helloservice"><firstName href="#evil-target"/></ns1:sayHello>`)))
	bad("bad-href-quoted", "bad-href-quoted.xml", ctUTF8, saWSDL, "Client", "points to no element", "")
	cases[len(cases)-1].FaultExcludes = "evil-target"
}

func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d=\"\"", i)
	}
	return b.String()
}
