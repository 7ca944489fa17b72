<?php
// Calls HelloService.sayHello with PHP's SoapClient (ext/soap), with a legacy
// credential: HTTP Basic (SoapClient's login and password) or a TLS client
// certificate (an ssl stream context with local_cert).
//
// Usage: php legacy.php ENDPOINT NAME basic ID SECRET
//        php legacy.php ENDPOINT NAME cert CERT_AND_KEY_PEM CA_PEM
//
// The WSDL is loaded from ENDPOINT?wsdl with the same credential (PHP sends
// both on the WSDL GET too). Prints the greeting and exits 0, or prints
// "FAULT <faultcode>: <faultstring>" and exits 1. Any other error exits 2.

if ($argc < 6) {
    fwrite(STDERR, "usage: php legacy.php ENDPOINT NAME basic|cert ARG ARG\n");
    exit(2);
}
[, $endpoint, $name, $mode, $a, $b] = $argv;

ini_set('soap.wsdl_cache_enabled', '0');
ini_set('default_socket_timeout', '10');
$options = ['trace' => true, 'exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE, 'connection_timeout' => 10];
switch ($mode) {
    case 'basic':
        $options += ['login' => $a, 'password' => $b, 'authentication' => SOAP_AUTHENTICATION_BASIC];
        break;
    case 'cert':
        $options['stream_context'] = stream_context_create(['ssl' => [
            'local_cert' => $a, 'cafile' => $b, 'verify_peer' => true, 'verify_peer_name' => true, 'peer_name' => 'localhost',
        ]]);
        break;
    default:
        fwrite(STDERR, "unknown mode $mode\n");
        exit(2);
}

try {
    $client = new SoapClient($endpoint . '?wsdl', $options);
    $greeting = $client->sayHello($name);
} catch (SoapFault $f) {
    echo "FAULT {$f->faultcode}: {$f->faultstring}\n";
    if (isset($client)) {
        fwrite(STDERR, "response:\n" . $client->__getLastResponseHeaders() . $client->__getLastResponse() . "\n");
    }
    exit(1);
} catch (Throwable $e) {
    fwrite(STDERR, "ERROR " . get_class($e) . ": " . $e->getMessage() . "\n");
    exit(2);
}
echo $greeting, "\n";
