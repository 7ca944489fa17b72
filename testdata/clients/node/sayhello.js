// Calls HelloService.sayHello with node-soap, from the WSDL the gateway serves.
//
// Usage: node sayhello.js ENDPOINT NAME
//   ENDPOINT  the SOAP endpoint, e.g. http://127.0.0.1:8080/SayHello/ (ENDPOINT?wsdl is loaded)
//
// Prints the greeting and exits 0, or prints "FAULT <faultcode>: <faultstring>"
// and exits 1. Any other error exits 2.
'use strict';
const soap = require('soap');

async function main() {
  const [endpoint, name] = process.argv.slice(2);
  if (endpoint === undefined || name === undefined) {
    console.error('usage: node sayhello.js ENDPOINT NAME');
    process.exit(2);
  }
  const wsdl = endpoint.includes('?') ? endpoint : endpoint + '?wsdl';
  const client = await soap.createClientAsync(wsdl, { disableCache: true });
  try {
    const [result] = await client.sayHelloAsync({ firstName: name }, { timeout: 10000 });
    let greeting = result && result.greeting;
    if (greeting && typeof greeting === 'object' && '$value' in greeting) {
      greeting = greeting.$value; // node-soap keeps xsi:type attributes this way
    }
    if (typeof greeting !== 'string') {
      console.error('ERROR no string greeting in the response: ' + JSON.stringify(result));
      process.exit(2);
    }
    process.stdout.write(greeting + '\n');
  } catch (err) {
    const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
    if (fault) {
      const text = (v) => (v && typeof v === 'object' && '$value' in v ? v.$value : v);
      process.stdout.write(`FAULT ${text(fault.faultcode)}: ${text(fault.faultstring)}\n`);
      process.exit(1);
    }
    throw err;
  }
}

main().catch((err) => {
  console.error('ERROR ' + (err && err.stack ? err.stack : err));
  process.exit(2);
});
