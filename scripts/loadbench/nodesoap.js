// node-soap (npm `soap`) serving HelloService from the same WSDL, for the
// load test's comparison: node nodesoap.js WSDL_FILE PORT
'use strict';
const fs = require('fs');
const http = require('http');
const soap = require('soap');

const [wsdlFile, port] = process.argv.slice(2);
const service = {
  Hello_Service: {
    Hello_Port: {
      sayHello(args) {
        return { greeting: 'Hello, ' + args.firstName + '!' };
      },
    },
  },
};
const server = http.createServer((req, res) => { res.statusCode = 404; res.end(); });
server.listen(Number(port), '127.0.0.1', () => {
  soap.listen(server, '/SayHello/', service, fs.readFileSync(wsdlFile, 'utf8'));
  console.log('listening');
});
