package gateway

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// handlePort serves POST on the port address (SOAP 1.1 HTTP binding §6,
// SOAP 1.2 part 2 §7). The content type picks the codec: SOAP 1.1
// (text/xml), SOAP 1.2 (application/soap+xml, with the action as a
// parameter) or, for JSON clients that post to the base URL, JSON.
func (g *Gateway) handlePort(c *gin.Context) {
	ct := headerValue(c.Request.Header, fieldContentType)
	media := strings.ToLower(mediaType(ct))
	params := cachedMediaParams(ct)
	v, action := soap11, headerValue(c.Request.Header, fieldSOAPAction)
	switch {
	case media == "application/soap+xml":
		v, action = soap12, params["action"]
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		g.handleJSON(c)
		return
	case media == "", media == "text/xml", media == "application/xml":
	default:
		g.writeFault(c, v, Errorf(KindUnsupportedType,
			"this Content-Type is not supported; send text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)"))
		return
	}

	caller := g.authenticateHeaders(c, true)
	if caller.err != nil {
		g.writeFault(c, v, caller.err)
		return
	}
	buf := getBuf()
	defer putBuf(buf)
	body, err := readBody(c.Writer, c.Request, g.maxBody, buf)
	if err != nil {
		g.writeFault(c, v, AsError(err))
		return
	}
	fv, call, fast := g.fast.read(body, params["charset"], action)
	if fast {
		v = fv
	} else {
		release, ferr := g.parseSlot(c.Request.Context())
		if ferr != nil {
			g.writeFault(c, v, ferr)
			return
		}
		v, call, ferr = decodeEnvelope(body, params["charset"], v, action, g.binding.Operations)
		release()
		if ferr != nil {
			g.writeFault(c, v, ferr)
			return
		}
	}
	if caller = g.authenticateEnvelope(c, caller, call.security); caller.err != nil {
		g.writeFault(c, v, caller.err)
		return
	}
	greeting, ferr := g.sayHello(c, caller, v.name, call.arg)
	if ferr != nil {
		g.writeFault(c, v, ferr)
		return
	}
	noteWire(c, v.name)
	buf.Reset() // the body is read: everything kept from it is a copy
	f := g.frames[v]
	f.append(buf, greeting)
	writeData(c, http.StatusOK, f.contentType, buf.Bytes())
}

// headerValue returns the first value of the field whose name, in its
// canonical form, is key: Header.Get would check and canonicalise the name
// again on every request (~400 instructions for "Content-Type"), or, for
// "SOAPAction", make a new string of it.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// The request fields read on every call, in canonical form.
const (
	fieldContentType     = "Content-Type"
	fieldContentEncoding = "Content-Encoding"
	fieldSOAPAction      = "Soapaction" // SOAP 1.1 §6.1.1
)

// mediaType is the media type of a Content-Type value as gin's
// Context.ContentType returns it, the text before any parameter, without
// reading the header again.
func mediaType(ct string) string {
	for i := 0; i < len(ct); i++ { // strings.IndexAny builds a byte set per call
		if ct[i] == ' ' || ct[i] == ';' {
			return ct[:i]
		}
	}
	return ct
}

// mediaParams returns the parameters of a Content-Type (RFC 9110 §8.3.1),
// names in lower case. Some clients send a SOAP 1.2 action URI unquoted
// (action=urn:x#op), which is not a token, so mime.ParseMediaType refuses
// the header; those are read leniently, one name=value per ';'.
func mediaParams(ct string) map[string]string {
	_, params, err := mime.ParseMediaType(ct)
	if err == nil || ct == "" {
		return params
	}
	params = make(map[string]string)
	_, rest, _ := strings.Cut(ct, ";")
	for p := range strings.SplitSeq(rest, ";") {
		if k, v, ok := strings.Cut(p, "="); ok {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return params
}

// parseSlot waits, at most as long as the request lives, for one of the
// slots that bound how many envelopes are parsed at once (one per core,
// set in New): parsing is CPU work, so more at once would only add up
// their memory. The caller calls release when its parse is done.
func (g *Gateway) parseSlot(ctx context.Context) (release func(), err *Error) {
	select {
	case g.parses <- struct{}{}:
		return func() { <-g.parses }, nil
	case <-ctx.Done():
		return nil, Errorf(KindUnavailable, "the gateway is busy; try again")
	}
}

// writeFault answers with err as a fault envelope of version v.
func (g *Gateway) writeFault(c *gin.Context, v *soapVersion, err *Error) {
	noteWire(c, v.name)
	noteError(c, err)
	b := getBuf()
	defer putBuf(b)
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
	WriteProblem(c, Errorf(KindInvalid, "this is a SOAP endpoint: POST an envelope, or GET %s?wsdl for its WSDL", c.FullPath()))
}
