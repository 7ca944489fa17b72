<?php
// A legacy HelloService: PHP's own SoapServer (ext/soap) in WSDL mode, serving
// the project's wsdl/HelloService.wsdl. Nothing of hellogw is used here; it is
// the upstream that the `backend.kind: soap` tests bridge to.
//
// Run with PHP's built-in web server, which routes every request to this script:
//   HELLO_WSDL=/abs/path/wsdl/HelloService.wsdl php -S 127.0.0.1:PORT helloserver.php
//
// Environment:
//   HELLO_WSDL   the WSDL file (required)
//   HELLO_FAULT  when set, every call answers a SOAP Fault (Server) with this text,
//                as a legacy service does when its own backend is down

ini_set('soap.wsdl_cache_enabled', '0');

function sayHello($firstName)
{
    $fault = getenv('HELLO_FAULT');
    if ($fault !== false && $fault !== '') {
        throw new SoapFault('Server', $fault);
    }
    return 'Hello, ' . $firstName . '!';
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    http_response_code(405);
    exit;
}
$server = new SoapServer(getenv('HELLO_WSDL'), ['cache_wsdl' => WSDL_CACHE_NONE, 'encoding' => 'UTF-8']);
$server->addFunction('sayHello');
$server->handle();
