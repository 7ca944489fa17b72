package gateway

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// handlePort serves POST on the port address (SOAP 1.1 HTTP binding §6,
// SOAP 1.2 part 2 §7). The content type picks the codec: SOAP 1.1
// (text/xml), SOAP 1.2 (application/soap+xml, with the action as a
// parameter) or, for JSON clients that post to the base URL, JSON.
func (g *Gateway) handlePort(c *gin.Context) {
	media := strings.ToLower(c.ContentType())
	v, action := soap11, c.GetHeader("SOAPAction")
	switch {
	case media == "application/soap+xml":
		_, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
		v, action = soap12, params["action"]
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		g.handleJSON(c)
		return
	case media == "", media == "text/xml", media == "application/xml":
	default:
		g.writeFault(c, v, errorf(KindUnsupportedType,
			"Content-Type %q is not supported; send text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)", media))
		return
	}

	caller := g.authenticateHeaders(c, true)
	if caller.err != nil {
		g.writeFault(c, v, caller.err)
		return
	}
	body, err := readBody(c.Writer, c.Request, g.maxBody)
	if err != nil {
		g.writeFault(c, v, asError(err))
		return
	}
	v, call, ferr := decodeEnvelope(body, v, action, g.binding.Operations)
	if ferr != nil {
		g.writeFault(c, v, ferr)
		return
	}
	if caller = g.authenticateEnvelope(c, caller, call.security); caller.err != nil {
		g.writeFault(c, v, caller.err)
		return
	}
	greeting, ferr := g.sayHello(c, caller, call.arg)
	if ferr != nil {
		g.writeFault(c, v, ferr)
		return
	}
	noteWire(c, v.name)
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	g.frames[v].append(b, greeting)
	c.Data(http.StatusOK, v.contentType, b.Bytes())
}

// writeFault answers with err as a fault envelope of version v.
func (g *Gateway) writeFault(c *gin.Context, v *soapVersion, err *Error) {
	noteWire(c, v.name)
	noteError(c, err)
	b := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(b)
	b.Reset()
	v.appendFault(b, err)
	c.Data(faultStatus(err.Kind), v.contentType, b.Bytes())
}

// handleWSDL serves the WSDL at GET {port}?wsdl, with soap:address set to
// this gateway's public URL.
func (g *Gateway) handleWSDL(c *gin.Context) {
	for k := range c.Request.URL.Query() {
		if strings.EqualFold(k, "wsdl") {
			noteWire(c, "wsdl")
			c.Data(http.StatusOK, "text/xml; charset=utf-8", g.wsdlDoc)
			return
		}
	}
	writeProblem(c, errorf(KindInvalid, "this is a SOAP endpoint: POST an envelope, or GET %s?wsdl for its WSDL", c.Request.URL.Path))
}
