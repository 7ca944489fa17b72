<?php
// Calls HelloService.sayHello with PHP's SoapClient (ext/soap).
//
// Usage: php sayhello.php ENDPOINT NAME [MODE]
//   ENDPOINT  the SOAP endpoint, e.g. http://127.0.0.1:8080/SayHello/
//   NAME      the firstName to send (UTF-8)
//   MODE      wsdl (default): load ENDPOINT?wsdl and post to its soap:address
//             nowsdl: non-WSDL mode, uri urn:examples:helloservice, SoapParam firstName
//             soap12: WSDL mode with soap_version SOAP_1_2
//
// Prints the greeting and exits 0, or prints "FAULT <faultcode>: <faultstring>"
// and exits 1. Any other error exits 2.

if ($argc < 3) {
    fwrite(STDERR, "usage: php sayhello.php ENDPOINT NAME [wsdl|nowsdl|soap12]\n");
    exit(2);
}
[$endpoint, $name] = [$argv[1], $argv[2]];
$mode = $argv[3] ?? 'wsdl';

ini_set('soap.wsdl_cache_enabled', '0');
ini_set('default_socket_timeout', '10');
$common = ['trace' => true, 'exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE, 'connection_timeout' => 10];
$wsdl = str_contains($endpoint, '?') ? $endpoint : $endpoint . '?wsdl';

try {
    switch ($mode) {
        case 'wsdl':
            $client = new SoapClient($wsdl, $common);
            $greeting = $client->sayHello($name);
            break;
        case 'soap12':
            $client = new SoapClient($wsdl, $common + ['soap_version' => SOAP_1_2]);
            $greeting = $client->sayHello($name);
            break;
        case 'nowsdl':
            $client = new SoapClient(null, $common + ['uri' => 'urn:examples:helloservice', 'location' => $endpoint]);
            $greeting = $client->sayHello(new SoapParam($name, 'firstName'));
            break;
        default:
            fwrite(STDERR, "unknown mode $mode\n");
            exit(2);
    }
} catch (SoapFault $f) {
    echo "FAULT {$f->faultcode}: {$f->faultstring}\n";
    if (isset($client)) {
        fwrite(STDERR, "request:\n" . $client->__getLastRequestHeaders() . $client->__getLastRequest() . "\n");
        fwrite(STDERR, "response:\n" . $client->__getLastResponseHeaders() . $client->__getLastResponse() . "\n");
    }
    exit(1);
} catch (Throwable $e) {
    fwrite(STDERR, "ERROR " . get_class($e) . ": " . $e->getMessage() . "\n");
    exit(2);
}
if (!is_string($greeting)) {
    fwrite(STDERR, "ERROR greeting is not a string: " . var_export($greeting, true) . "\n");
    exit(2);
}
echo $greeting, "\n";
