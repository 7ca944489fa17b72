#!/usr/bin/perl
# Calls HelloService.sayHello with Perl's SOAP::Lite, authenticating with HTTP
# Basic the way LWP does: only after a 401 whose WWW-Authenticate offers Basic,
# through get_basic_credentials.
#
# Usage: perl basic.pl ENDPOINT NAME ID SECRET
#
# Prints the greeting and exits 0, or prints "FAULT <faultcode>: <faultstring>"
# (or "HTTP <status>" for an answer that is no SOAP fault) and exits 1. Any
# other error exits 2.
use strict;
use warnings;
use Encode qw(decode);
use SOAP::Lite;

binmode STDOUT, ':encoding(UTF-8)';

my ($endpoint, $name, $id, $secret) = @ARGV;
if (!defined $secret) {
    print STDERR "usage: perl basic.pl ENDPOINT NAME ID SECRET\n";
    exit 2;
}
$name = decode('UTF-8', $name, Encode::FB_CROAK);

# LWP asks for credentials when a 401 challenges it with a scheme it knows.
no warnings qw(redefine once);
*SOAP::Transport::HTTP::Client::get_basic_credentials = sub { return ($id, $secret) };

my $soap = SOAP::Lite->uri('urn:examples:helloservice')->proxy($endpoint, timeout => 10);
$soap->on_fault(sub { return $_[1] });
my $som = eval { $soap->sayHello(SOAP::Data->name(firstName => $name)) };
if (!$som) {
    print STDERR "ERROR $@";
    exit 2;
}
if (!ref $som) {
    print "HTTP ", $soap->transport->status, "\n";
    exit 1;
}
if ($som->fault) {
    printf "FAULT %s: %s\n", $som->faultcode, $som->faultstring;
    exit 1;
}
print $som->result, "\n";
