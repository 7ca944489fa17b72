<?php
// Calls HelloService.sayHello with PHP's SoapClient (ext/soap) and a WS-Security
// UsernameToken in a mustUnderstand wsse:Security header, as PHP applications add
// one by hand (ext/soap has no WS-Security of its own): a SoapHeader whose content
// is the whole wsse:Security block as XSD_ANYXML (which ext/soap writes in place of
// the SoapHeader's own element, so the block carries its mustUnderstand itself).
//
// Usage: php wsse.php ENDPOINT NAME USER SECRET [text|digest]
//   digest (default): PasswordDigest = Base64(SHA-1(nonce + created + secret)),
//   UsernameToken Profile 1.1 §3.1, with a fresh Nonce and Created;
//   text: PasswordText, the secret itself.
//
// Prints the greeting and exits 0, or prints "FAULT <faultcode>: <faultstring>"
// and exits 1. Any other error exits 2.

if ($argc < 5) {
    fwrite(STDERR, "usage: php wsse.php ENDPOINT NAME USER SECRET [text|digest]\n");
    exit(2);
}
[$endpoint, $name, $user, $secret] = array_slice($argv, 1, 4);
$type = $argv[5] ?? 'digest';

$wsse = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
$wsu = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
$profile = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
$nonce = random_bytes(16);
$created = gmdate('Y-m-d\TH:i:s\Z');
$password = $type === 'text' ? $secret : base64_encode(sha1($nonce . $created . $secret, true));
$kind = $type === 'text' ? 'PasswordText' : 'PasswordDigest';
$esc = fn($s) => htmlspecialchars($s, ENT_XML1 | ENT_QUOTES, 'UTF-8');
$token = '<wsse:Security xmlns:wsse="' . $wsse . '" xmlns:wsu="' . $wsu . '"'
    . ' xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" SOAP-ENV:mustUnderstand="1">'
    . '<wsse:UsernameToken>'
    . '<wsse:Username>' . $esc($user) . '</wsse:Username>'
    . '<wsse:Password Type="' . $profile . '#' . $kind . '">' . $esc($password) . '</wsse:Password>'
    . '<wsse:Nonce>' . base64_encode($nonce) . '</wsse:Nonce>'
    . '<wsu:Created>' . $created . '</wsu:Created>'
    . '</wsse:UsernameToken></wsse:Security>';

ini_set('soap.wsdl_cache_enabled', '0');
ini_set('default_socket_timeout', '10');
try {
    $client = new SoapClient($endpoint . '?wsdl', ['trace' => true, 'exceptions' => true, 'cache_wsdl' => WSDL_CACHE_NONE, 'connection_timeout' => 10]);
    $client->__setSoapHeaders([new SoapHeader($wsse, 'Security', new SoapVar($token, XSD_ANYXML), true)]);
    $greeting = $client->sayHello($name);
} catch (SoapFault $f) {
    echo "FAULT {$f->faultcode}: {$f->faultstring}\n";
    if (isset($client)) {
        fwrite(STDERR, "request:\n" . $client->__getLastRequest() . "\nresponse:\n" . $client->__getLastResponseHeaders() . $client->__getLastResponse() . "\n");
    }
    exit(1);
} catch (Throwable $e) {
    fwrite(STDERR, "ERROR " . get_class($e) . ": " . $e->getMessage() . "\n");
    exit(2);
}
echo $greeting, "\n";
