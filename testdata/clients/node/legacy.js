// Calls HelloService.sayHello with node-soap and a legacy credential:
// WSSecurity (a UsernameToken with PasswordDigest, marked mustUnderstand) or
// ClientSSLSecurity (a TLS client certificate).
//
// Usage: node legacy.js ENDPOINT NAME wsse ID SECRET
//        node legacy.js ENDPOINT NAME cert KEY_PEM CERT_PEM CA_PEM
//
// CLOCK_SKEW_MS in the environment moves node's clock, so that the token's
// Created can be made old. With LAST_REQUEST_FILE set, the envelope sent is
// written there (to replay it). Prints the greeting and exits 0, or prints
// "FAULT <faultcode>: <faultstring>" and exits 1. Any other error exits 2.
'use strict';
const fs = require('fs');
const https = require('https');
const soap = require('soap');

if (process.env.CLOCK_SKEW_MS) {
  const skew = Number(process.env.CLOCK_SKEW_MS);
  const RealDate = Date;
  global.Date = class extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + skew);
      else super(...args);
    }
    static now() { return RealDate.now() + skew; }
  };
}

async function main() {
  const [endpoint, name, mode, ...rest] = process.argv.slice(2);
  let options = { disableCache: true };
  let security;
  if (mode === 'wsse') {
    const [id, secret] = rest;
    security = new soap.WSSecurity(id, secret, { passwordType: 'PasswordDigest', mustUnderstand: true });
  } else if (mode === 'cert') {
    const [key, cert, ca] = rest;
    const tls = { key: fs.readFileSync(key), cert: fs.readFileSync(cert), ca: fs.readFileSync(ca) };
    options.wsdl_options = { httpsAgent: new https.Agent(tls) }; // the WSDL GET, by axios
    security = new soap.ClientSSLSecurity(tls.key, tls.cert, tls.ca);
  } else {
    console.error('usage: node legacy.js ENDPOINT NAME wsse|cert ...');
    process.exit(2);
  }
  const client = await soap.createClientAsync(endpoint + '?wsdl', options);
  client.setSecurity(security);
  try {
    const [result] = await client.sayHelloAsync({ firstName: name }, { timeout: 10000 });
    let greeting = result && result.greeting;
    if (greeting && typeof greeting === 'object' && '$value' in greeting) greeting = greeting.$value;
    process.stdout.write(greeting + '\n');
  } catch (err) {
    const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
    if (fault) {
      const text = (v) => (v && typeof v === 'object' && '$value' in v ? v.$value : v);
      process.stdout.write(`FAULT ${text(fault.faultcode)}: ${text(fault.faultstring)}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  } finally {
    if (process.env.LAST_REQUEST_FILE) fs.writeFileSync(process.env.LAST_REQUEST_FILE, client.lastRequest || '');
  }
}

main().catch((err) => {
  console.error('ERROR ' + (err && err.stack ? err.stack : err));
  process.exit(2);
});
