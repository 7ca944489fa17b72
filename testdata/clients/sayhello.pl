#!/usr/bin/perl
# Calls HelloService.sayHello with Perl's SOAP::Lite.
#
# Usage: perl sayhello.pl ENDPOINT NAME [MODE]
#   ENDPOINT  the SOAP endpoint, e.g. http://127.0.0.1:8080/SayHello/
#   NAME      the firstName to send (UTF-8)
#   MODE      named (default): SOAP::Data->name(firstName => NAME)
#             positional: ->sayHello(NAME), so the part is named c-gensymN
#
# SOAP::Lite's defaults are kept on purpose: SOAPAction "urn:examples:helloservice#sayHello",
# and non-ASCII strings sent as xsd:base64Binary.
# Prints the greeting and exits 0, or prints "FAULT <faultcode>: <faultstring>"
# and exits 1. Any other error exits 2.
use strict;
use warnings;
use Encode qw(decode);
use SOAP::Lite;

binmode STDOUT, ':encoding(UTF-8)';
binmode STDERR, ':encoding(UTF-8)';

if (@ARGV < 2) {
    print STDERR "usage: perl sayhello.pl ENDPOINT NAME [named|positional]\n";
    exit 2;
}
my ($endpoint, $name, $mode) = @ARGV;
$name = decode('UTF-8', $name, Encode::FB_CROAK);
$mode ||= 'named';

my $som = eval {
    my $soap = SOAP::Lite->uri('urn:examples:helloservice')->proxy($endpoint, timeout => 10);
    if ($mode eq 'named') {
        $soap->sayHello(SOAP::Data->name(firstName => $name));
    } elsif ($mode eq 'positional') {
        $soap->sayHello($name);
    } else {
        die "unknown mode $mode\n";
    }
};
if (!$som) {
    print STDERR "ERROR $@";
    exit 2;
}
if ($som->fault) {
    printf "FAULT %s: %s\n", $som->faultcode, $som->faultstring;
    exit 1;
}
my $greeting = $som->result;
if (!defined $greeting || ref $greeting) {
    print STDERR "ERROR no string greeting in the response\n";
    exit 2;
}
print $greeting, "\n";
