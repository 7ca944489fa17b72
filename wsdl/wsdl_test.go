package wsdl_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hellogw/hellogw/wsdl"
)

func TestParse(t *testing.T) {
	b, err := wsdl.Parse(wsdl.Document())
	require.NoError(t, err)

	assert.Equal(t, "Hello_Service", b.Service)
	assert.Equal(t, "Hello_Port", b.Port)
	assert.Equal(t, "http://www.examples.com/SayHello/", b.Location)
	require.Len(t, b.Operations, 1)
	assert.Equal(t, wsdl.Operation{
		Name:          "sayHello",
		SOAPAction:    "sayHello",
		Namespace:     "urn:examples:helloservice",
		EncodingStyle: "http://schemas.xmlsoap.org/soap/encoding/",
		Style:         "rpc",
		Use:           "encoded",
		InputPart:     "firstName",
		OutputPart:    "greeting",
		ResponseName:  "sayHelloResponse",
	}, b.Operations["sayHello"])
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"NotXML":     "not xml",
		"NotWSDL":    `<definitions xmlns="urn:other"/>`,
		"NoService":  `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>`,
		"NoAddress":  `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"><service name="s"><port name="p" binding="b"/></service></definitions>`,
		"NoBinding":  `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"><service name="s"><port name="p" binding="tns:b"><soap:address location="x"/></port></service></definitions>`,
		"SOAP12Only": `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"><binding name="b" type="pt"/><service name="s"><port name="p" binding="tns:b"><soap:address location="x"/></port></service></definitions>`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := wsdl.Parse([]byte(doc))
			assert.Error(t, err)
		})
	}
}

func TestWithLocation(t *testing.T) {
	doc, err := wsdl.WithLocation(wsdl.Document(), "https://gw.example.net/SayHello/")
	require.NoError(t, err)

	b, err := wsdl.Parse(doc)
	require.NoError(t, err)
	assert.Equal(t, "https://gw.example.net/SayHello/", b.Location)

	orig, err := wsdl.Parse(wsdl.Document())
	require.NoError(t, err)
	assert.Equal(t, orig.Operations, b.Operations, "only the address may change")
}

// TestGeneratedCodeIsCurrent fails when gen/ is not what gowsdl makes from
// the WSDL today: gen/ is never edited by hand, only regenerated.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command("go", "tool", "gowsdl", "-d", out, "-p", "gen", "-o", "hello.go", "HelloService.wsdl")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run(), "running gowsdl")

	want, err := os.ReadFile(filepath.Join(out, "gen", "hello.go"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "gen", "hello.go"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "gen/hello.go is stale: run `make gen`")
}

func TestSoleOperation(t *testing.T) {
	b, err := wsdl.Parse(wsdl.Document())
	require.NoError(t, err)
	op, err := b.SoleOperation()
	require.NoError(t, err)
	assert.Equal(t, "sayHello", op.Name)

	b.Operations["other"] = wsdl.Operation{Name: "other"}
	_, err = b.SoleOperation()
	assert.ErrorContains(t, err, "has 2 operations")
}
