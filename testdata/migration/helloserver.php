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
//   HELLO_WSSE_USER, HELLO_WSSE_PASSWORD, HELLO_WSSE_TYPE (text or digest)
//                when set, every call must carry a wsse:Security header with a
//                UsernameToken of this user and password, created within 5 minutes,
//                or it answers a wsse:FailedAuthentication fault. SoapServer itself
//                hands the header block to Security() (so its mustUnderstand="1" is
//                honoured), decoded as objects; the digest is checked with PHP's own
//                sha1, as the UsernameToken Profile 1.1 §3.1 says:
//                Base64(SHA-1(nonce + created + password)).

ini_set('soap.wsdl_cache_enabled', '0');

$authenticated = false;

function Security($header)
{
    global $authenticated;
    $t = $header->UsernameToken ?? null;
    $password = getenv('HELLO_WSSE_PASSWORD');
    $ok = $t !== null && ($t->Username ?? null) === getenv('HELLO_WSSE_USER')
        && isset($t->Password, $t->Created) && abs(time() - strtotime($t->Created)) <= 300;
    if ($ok && getenv('HELLO_WSSE_TYPE') === 'digest') {
        $nonce = base64_decode((string)($t->Nonce ?? ''), true);
        $ok = $nonce !== false && hash_equals(base64_encode(sha1($nonce . $t->Created . $password, true)), (string)$t->Password);
    } elseif ($ok) {
        $ok = hash_equals($password, (string)$t->Password);
    }
    if (!$ok) {
        throw new SoapFault('wsse:FailedAuthentication', 'The security token could not be authenticated or authorized');
    }
    $authenticated = true;
}

function sayHello($firstName)
{
    global $authenticated;
    $user = getenv('HELLO_WSSE_USER');
    if ($user !== false && $user !== '' && !$authenticated) {
        throw new SoapFault('wsse:FailedAuthentication', 'A UsernameToken is required');
    }
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
if (getenv('HELLO_WSSE_USER') !== false && getenv('HELLO_WSSE_USER') !== '') {
    $server->addFunction('Security');
}
$server->handle();
