// Package migrate is the migration machinery behind the gateway: what
// answers sayHello when the local core does not. The JSON and SOAP
// backends call an upstream (with the identity it is configured to
// present), and a Shadow compares a second backend with the first in the
// background. Each is a gen.Hello_PortType, the one thing the gateway
// knows of its service; migrate imports gateway (its Error, the call's
// context, the SOAP codec's client side), never the other way round.
package migrate
