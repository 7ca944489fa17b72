package main_test

// End-to-end tests of the hellogw binary with SOAP clients nobody on the project wrote:
// PHP's SoapClient, Perl's SOAP::Lite and node-soap, plus a replay of every
// envelope in testdata/envelopes (captured from those clients, or hand-made) over HTTP.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	nsSOAP11    = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12    = "http://www.w3.org/2003/05/soap-envelope"
	nsSOAPRPC12 = "http://www.w3.org/2003/05/soap-rpc"
	nsHello     = "urn:examples:helloservice"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXSD       = "http://www.w3.org/2001/XMLSchema"

	// clientsTestName is the name every real client sends: every character XML can
	// carry must round-trip exactly.
	clientsTestName = `O'Brien <&> "名前" 😀`

	clientsInstallHint = "`make test` installs the SOAP clients (apt-get install -y php-cli php-soap libsoap-lite-perl)"
)

// clientsTestNames are the names each client sends, with their subtest labels.
var clientsTestNames = []struct{ label, name string }{{"Unicode", clientsTestName}, {"Ada", "Ada"}}

// TestRealClients drives the gateway with real SOAP client libraries: each must get the
// exact greeting back, and a Client fault for an empty name.
func TestRealClients(t *testing.T) {
	requireClientTool(t, "php-cli", "php", "-r", "exit(0);")
	requireClientTool(t, "php-soap", "php", "-r", `exit(class_exists("SoapClient") ? 0 : 1);`)
	requireClientTool(t, "perl", "perl", "-e", "1")
	requireClientTool(t, "libsoap-lite-perl", "perl", "-MSOAP::Lite", "-e", "1")

	gw := startClientsGateway(t)
	endpoint := gw.URL + "/SayHello/"

	t.Run("WSDL", func(t *testing.T) {
		resp, err := http.Get(endpoint + "?wsdl")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "body:\n%s", body)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml"), "Content-Type=%q", resp.Header.Get("Content-Type"))
		m := regexp.MustCompile(`<(?:\w+:)?address\s[^>]*location="([^"]*)"`).FindSubmatch(body)
		require.NotNil(t, m, "no soap:address in the served WSDL:\n%s", body)
		assert.True(t, strings.HasPrefix(string(m[1]), gw.URL+"/"), "soap:address location=%q, want it under the public URL %s", m[1], gw.URL)
	})

	clients := []struct {
		name      string
		args      []string // the command; the endpoint and the name are appended, then mode
		mode      string
		faultCode string // the fault code's local name for an empty name
	}{
		{name: "PHP/WSDL", args: []string{"php", "testdata/clients/sayhello.php"}, mode: "wsdl", faultCode: "Client"},
		{name: "PHP/NonWSDL", args: []string{"php", "testdata/clients/sayhello.php"}, mode: "nowsdl", faultCode: "Client"},
		{name: "PHP/SOAP12", args: []string{"php", "testdata/clients/sayhello.php"}, mode: "soap12", faultCode: "Sender"},
		{name: "Perl/Named", args: []string{"perl", "testdata/clients/sayhello.pl"}, mode: "named", faultCode: "Client"},
		{name: "Perl/Positional", args: []string{"perl", "testdata/clients/sayhello.pl"}, mode: "positional", faultCode: "Client"},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range clientsTestNames {
				t.Run("OK/"+n.label, func(t *testing.T) {
					res := runClientCommand(t, nil, slices.Concat(c.args, []string{endpoint, n.name, c.mode})...)
					require.Equal(t, 0, res.code, "%s", res)
					assert.Equal(t, "Hello, "+n.name+"!\n", res.stdout, "%s", res)
				})
			}
			t.Run("ErrEmptyName", func(t *testing.T) {
				res := runClientCommand(t, nil, slices.Concat(c.args, []string{endpoint, "", c.mode})...)
				assert.Equal(t, 1, res.code, "%s", res)
				assert.Regexp(t, `^FAULT ([A-Za-z_][\w.-]*:)?`+c.faultCode+`: \S.*\n$`, res.stdout, "%s", res)
			})
		})
	}

	t.Run("Node", func(t *testing.T) {
		nodeModules := installNodeSoap(t)
		env := []string{"NODE_PATH=" + nodeModules}
		script := filepath.Join("testdata", "clients", "node", "sayhello.js")
		for _, n := range clientsTestNames {
			t.Run("OK/"+n.label, func(t *testing.T) {
				res := runClientCommand(t, env, "node", script, endpoint, n.name)
				require.Equal(t, 0, res.code, "%s", res)
				assert.Equal(t, "Hello, "+n.name+"!\n", res.stdout, "%s", res)
			})
		}
		t.Run("ErrEmptyName", func(t *testing.T) {
			res := runClientCommand(t, env, "node", script, endpoint, "")
			assert.Equal(t, 1, res.code, "%s", res)
			assert.Regexp(t, `^FAULT ([A-Za-z_][\w.-]*:)?Client: \S.*\n$`, res.stdout, "%s", res)
		})
	})
}

// envelopeCase is one entry of testdata/envelopes/cases.json; see the README there.
type envelopeCase struct {
	Name            string `json:"name"`
	File            string `json:"file"`
	ContentType     string `json:"content_type"`
	SOAPAction      string `json:"soap_action"`
	NoSOAPAction    bool   `json:"no_soap_action"`
	ContentEncoding string `json:"content_encoding"`
	WantFirstName   string `json:"want_first_name"`
	WantFault       string `json:"want_fault"`
	FaultContains   string `json:"fault_contains"`
	FaultExcludes   string `json:"fault_excludes"`
}

// TestEnvelopeReplay posts every envelope of testdata/envelopes/cases.json to the
// running binary, with the headers its client sent, and checks the greeting or fault.
func TestEnvelopeReplay(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "envelopes", "cases.json"))
	require.NoError(t, err)
	var cases []envelopeCase
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)

	gw := startClientsGateway(t)
	endpoint := gw.URL + "/SayHello/"
	client := &http.Client{Timeout: 10 * time.Second}

	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "envelopes", c.File))
			require.NoError(t, err)
			req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", c.ContentType)
			if !c.NoSOAPAction {
				req.Header.Set("SOAPAction", c.SOAPAction)
			}
			if c.ContentEncoding != "" {
				req.Header.Set("Content-Encoding", c.ContentEncoding)
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			respBody, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			dump := fmt.Sprintf("response %d %s:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), respBody)

			soap12 := strings.HasPrefix(strings.ToLower(c.ContentType), "application/soap+xml")
			wantEnvNS, wantCT := nsSOAP11, "text/xml"
			if soap12 {
				wantEnvNS, wantCT = nsSOAP12, "application/soap+xml"
			}
			if c.WantFault == "VersionMismatch" {
				wantEnvNS = "" // either version may report it
			}
			res, err := clientsParseReply(respBody)
			require.NoError(t, err, "%s", dump)
			if wantEnvNS != "" {
				assert.Equal(t, wantEnvNS, res.envNS, "response envelope namespace; %s", dump)
				assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), wantCT), "Content-Type; %s", dump)
			}

			if c.WantFault == "" {
				require.Nil(t, res.fault, "%s", dump)
				assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", dump)
				assert.Equal(t, "Hello, "+c.WantFirstName+"!", res.greeting, "%s", dump)
				return
			}
			require.NotNil(t, res.fault, "want a %s fault; %s", c.WantFault, dump)
			assert.True(t, res.fault.code == c.WantFault || strings.HasPrefix(res.fault.code, c.WantFault+"."),
				"fault code %q, want %s; %s", res.fault.code, c.WantFault, dump)
			if soap12 && c.WantFault == "Sender" {
				// SOAP 1.2 part 2 section 7.5.2.2 says 400; the SPEC says 500.
				assert.Contains(t, []int{http.StatusBadRequest, http.StatusInternalServerError}, resp.StatusCode, "%s", dump)
			} else {
				assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "%s", dump)
			}
			assert.NotEmpty(t, strings.TrimSpace(res.fault.text), "the fault must say what is wrong; %s", dump)
			if c.FaultContains != "" {
				assert.Contains(t, res.fault.text, c.FaultContains, "%s", dump)
			}
			if c.FaultExcludes != "" {
				assert.NotContains(t, string(respBody), c.FaultExcludes, "%s", dump)
			}
		})
	}
}

// requireClientTool fails the test, naming the Debian package, when a client command fails.
func requireClientTool(t *testing.T, pkg string, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s is missing (%s: %v)\n%s\n%s", pkg, strings.Join(args, " "), err, out, clientsInstallHint)
	}
}

// installNodeSoap installs the locked node-soap into a temporary directory and returns
// its node_modules. Without node, npm or the packages the test fails and says why
// (`make test` installs node and npm; the packages come from the npm cache or registry).
func installNodeSoap(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (%v): `make test` installs it (apt-get install -y nodejs npm)", tool, err)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "clients", "node", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	var out []byte
	var err error
	for _, mode := range []string{"--offline", "--prefer-offline"} {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "npm", "ci", mode, "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = dir
		out, err = cmd.CombinedOutput()
		cancel()
		if err == nil {
			return filepath.Join(dir, "node_modules")
		}
	}
	t.Fatalf("`npm ci` of node-soap failed: %v\n%s", err, out)
	return ""
}

// clientResult is what a client command did.
type clientResult struct {
	cmd            string
	code           int
	stdout, stderr string
}

func (r clientResult) String() string {
	return fmt.Sprintf("$ %s\nexit %d\nstdout:\n%s\nstderr:\n%s", r.cmd, r.code, r.stdout, r.stderr)
}

// runClientCommand runs a client command with a timeout and returns its exit code and output.
func runClientCommand(t *testing.T, env []string, args ...string) clientResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "no_proxy=127.0.0.1,localhost", "NO_PROXY=127.0.0.1,localhost")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := clientResult{cmd: fmt.Sprintf("%q", args), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		res.code = exit.ExitCode()
	default:
		t.Fatalf("%s: %v\n%s", args[0], err, res)
	}
	return res
}

// clientsGateway is a hellogw process started from a fresh build.
type clientsGateway struct {
	URL string // http://host:port, or https:// when it serves TLS
	// AdminURL is the admin listener (-admin-addr 127.0.0.1:0 unless args
	// say otherwise): /metrics and /admin/* without a token.
	AdminURL string
	// Process is the running binary, for tests that signal it.
	Process *os.Process
	// Stop sends SIGTERM and checks that the process exits 0; the test's
	// cleanup calls it too, so calling it early (to restart) is optional.
	Stop func()

	mu     sync.Mutex
	output bytes.Buffer // stderr and stdout, line by line
}

func (g *clientsGateway) writeLine(line string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.output.WriteString(line + "\n")
}

func (g *clientsGateway) logs() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.output.String()
}

// startClientsGateway starts the binary (built once per run) on a free port with JSON logs and any
// further args, waits for GET /readyz, and stops it with SIGTERM when the test ends,
// checking it exits 0.
func startClientsGateway(t *testing.T, args ...string) *clientsGateway {
	t.Helper()
	return startGateway(t, &http.Client{Timeout: 2 * time.Second}, args...)
}

// startGateway is startClientsGateway asking /readyz with client, which
// must trust the gateway's certificate when args make it serve TLS.
func startGateway(t *testing.T, client *http.Client, args ...string) *clientsGateway {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(hellogwBinary(t), append([]string{"-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-log-format", "json"}, args...)...)
	cmd.Dir = dir // anything written relative to the working directory stays in dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELLOGW_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	gw := &clientsGateway{Process: cmd.Process}
	addrc := make(chan [2]string, 1) // the URL and the admin URL
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stderr, stdout} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				gw.writeLine(sc.Text())
				var rec struct {
					Msg       string `json:"msg"`
					Addr      string `json:"addr"`
					TLS       bool   `json:"tls"`
					AdminAddr string `json:"admin_addr"`
				}
				if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
					scheme := "http://"
					if rec.TLS {
						scheme = "https://"
					}
					select {
					case addrc <- [2]string{scheme + rec.Addr, "http://" + rec.AdminAddr}:
					default:
					}
				}
			}
		}()
	}
	exited := make(chan error, 1)
	go func() {
		readers.Wait() // Wait closes the pipes: read them to the end first
		exited <- cmd.Wait()
	}()

	var stopOnce sync.Once
	gw.Stop = func() {
		stopOnce.Do(func() {
			defer func() {
				if t.Failed() {
					t.Logf("hellogw output:\n%s", gw.logs())
				}
			}()
			select {
			case err := <-exited:
				t.Errorf("hellogw exited before the test ended: %v", err)
				return
			default:
			}
			if !assert.NoError(t, cmd.Process.Signal(syscall.SIGTERM)) {
				return
			}
			select {
			case err := <-exited:
				assert.NoError(t, err, "hellogw must exit 0 after SIGTERM")
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Errorf("hellogw did not exit within 20s of SIGTERM")
			}
		})
	}
	t.Cleanup(gw.Stop)

	select {
	case urls := <-addrc:
		gw.URL, gw.AdminURL = urls[0], urls[1]
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("hellogw exited before logging \"listening\": %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("hellogw did not log a JSON line with \"msg\":\"listening\" and \"addr\" within 30s")
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		var last string
		resp, err := client.Get(gw.URL + "/readyz")
		if err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return gw
			}
			last = resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz did not answer 200 within 30s (last: %s)", last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clientsReply is a parsed SOAP response: a greeting or a fault.
type clientsReply struct {
	envNS    string
	greeting string
	fault    *clientsFault
}

// clientsFault is a SOAP 1.1 or 1.2 fault; code is the local name of the fault code,
// after checking that its prefix is bound to the envelope namespace.
type clientsFault struct {
	code, text string
}

// clientsNode is a minimal DOM with the namespace bindings in scope at each element, so that
// QNames in text and attribute values (fault codes, xsi:type) resolve by namespace.
type clientsNode struct {
	name     xml.Name
	attr     []xml.Attr
	scope    map[string]string // prefix → namespace
	children []*clientsNode
	text     strings.Builder
}

func (n *clientsNode) child(space, local string) *clientsNode {
	for _, c := range n.children {
		if c.name.Space == space && c.name.Local == local {
			return c
		}
	}
	return nil
}

// resolve splits a QName value ("p:local") and returns its namespace and local name.
func (n *clientsNode) resolve(qname string) (space, local string) {
	qname = strings.TrimSpace(qname)
	prefix, local, ok := strings.Cut(qname, ":")
	if !ok {
		return n.scope[""], qname
	}
	return n.scope[prefix], local
}

// clientsParseTree parses b into a clientsNode tree, with namespace scopes.
func clientsParseTree(b []byte) (*clientsNode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var root *clientsNode
	var stack []*clientsNode
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &clientsNode{name: tok.Name, attr: tok.Attr, scope: map[string]string{}}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				for k, v := range parent.scope {
					n.scope[k] = v
				}
				parent.children = append(parent.children, n)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = n
			}
			for _, a := range tok.Attr {
				switch {
				case a.Name.Space == "xmlns":
					n.scope[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					n.scope[""] = a.Value
				}
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(tok)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// clientsParseReply checks that b is a SOAP envelope holding either a fault or a
// sayHelloResponse in urn:examples:helloservice with a greeting part typed xsd:string.
func clientsParseReply(b []byte) (clientsReply, error) {
	root, err := clientsParseTree(b)
	if err != nil {
		return clientsReply{}, fmt.Errorf("response is not XML: %w", err)
	}
	ns := root.name.Space
	if root.name.Local != "Envelope" || (ns != nsSOAP11 && ns != nsSOAP12) {
		return clientsReply{}, fmt.Errorf("response root is {%s}%s, not a SOAP Envelope", ns, root.name.Local)
	}
	res := clientsReply{envNS: ns}
	body := root.child(ns, "Body")
	if body == nil {
		return res, errors.New("response has no Body")
	}
	if len(body.children) != 1 {
		return res, fmt.Errorf("response Body has %d elements, want 1", len(body.children))
	}
	entry := body.children[0]
	if entry.name.Space == ns && entry.name.Local == "Fault" {
		return res, clientsParseFault(&res, entry)
	}
	if entry.name.Space != nsHello || entry.name.Local != "sayHelloResponse" {
		return res, fmt.Errorf("response Body holds {%s}%s, want {%s}sayHelloResponse", entry.name.Space, entry.name.Local, nsHello)
	}
	// SOAP 1.2 RPC (part 2 section 4.2.3) may name the return value in an rpc:result first.
	var parts []*clientsNode
	for _, c := range entry.children {
		if ns == nsSOAP12 && c.name.Space == nsSOAPRPC12 && c.name.Local == "result" {
			if _, local := c.resolve(c.text.String()); local != "greeting" {
				return res, fmt.Errorf("rpc:result names %q, want greeting", c.text.String())
			}
			continue
		}
		parts = append(parts, c)
	}
	if len(parts) != 1 || parts[0].name.Local != "greeting" {
		return res, errors.New("sayHelloResponse must hold exactly one part, greeting")
	}
	part := parts[0]
	var typ string
	for _, a := range part.attr {
		if a.Name.Space == nsXSI && a.Name.Local == "type" {
			typ = a.Value
		}
	}
	if space, local := part.resolve(typ); space != nsXSD || local != "string" {
		return res, fmt.Errorf("greeting has xsi:type %q, want xsd:string", typ)
	}
	res.greeting = part.text.String()
	return res, nil
}

func clientsParseFault(res *clientsReply, f *clientsNode) error {
	var codeNode, textNode *clientsNode
	if res.envNS == nsSOAP11 {
		codeNode, textNode = f.child("", "faultcode"), f.child("", "faultstring")
	} else if code := f.child(nsSOAP12, "Code"); code != nil {
		codeNode = code.child(nsSOAP12, "Value")
		if reason := f.child(nsSOAP12, "Reason"); reason != nil {
			textNode = reason.child(nsSOAP12, "Text")
		}
	}
	if codeNode == nil || textNode == nil {
		return errors.New("fault without a code and a reason")
	}
	space, local := codeNode.resolve(codeNode.text.String())
	if space != res.envNS {
		return fmt.Errorf("fault code %q is not in the envelope namespace", codeNode.text.String())
	}
	res.fault = &clientsFault{code: local, text: textNode.text.String()}
	return nil
}
