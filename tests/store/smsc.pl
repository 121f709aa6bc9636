#!/usr/bin/perl
# A minimal SMSC for the SMPP adapter's interop test, on Debian's Net::SMPP (libnet-smpp-perl):
# an SMPP 3.4 implementation independent of the Python client under test.
# usage: smsc.pl LOGFILE   -- listens on 127.0.0.1 at a free port, prints "READY <port>".
# Binds (transmitter/transceiver) are accepted for system_id "ccboard" / password "secret" only.
# submit_sm: logged as "dest<TAB>data_coding<TAB>esm_class<TAB>hex(short_message)<TAB>message_id";
# a destination starting with 000 is refused with ESME_RINVDSTADR (0x0B).
use strict;
use warnings;
use Net::SMPP;
use IO::Handle;

my $log = shift or die "usage: smsc.pl LOGFILE\n";
my $srv = Net::SMPP->new_listen('127.0.0.1', port => 0, smpp_version => 0x34)
    or die "listen: $!\n";
open(my $out, '>>', $log) or die "open $log: $!\n";
$out->autoflush(1);
STDOUT->autoflush(1);
print "READY ", $srv->sockport, "\n";

my $n = 0;
while (my $c = $srv->accept) {
    while (my $pdu = $c->read_pdu) {
        my $cmd = $pdu->{cmd};
        if ($cmd == Net::SMPP::CMD_bind_transmitter || $cmd == Net::SMPP::CMD_bind_transceiver) {
            my $ok = ($pdu->{system_id} // '') eq 'ccboard' && ($pdu->{password} // '') eq 'secret';
            my %r = (seq => $pdu->{seq}, system_id => 'perlsmsc', status => $ok ? 0 : 0x0E);
            $cmd == Net::SMPP::CMD_bind_transmitter ? $c->bind_transmitter_resp(%r) : $c->bind_transceiver_resp(%r);
        } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
            my $dest = $pdu->{destination_addr};
            if ($dest =~ /^000/) {
                $c->submit_sm_resp(seq => $pdu->{seq}, message_id => '', status => 0x0B);
                next;
            }
            my $id = sprintf("M%06d", ++$n);
            print $out join("\t", $dest, $pdu->{data_coding}, $pdu->{esm_class},
                            unpack('H*', $pdu->{short_message}), $id), "\n";
            $c->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
        } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
            $c->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == Net::SMPP::CMD_unbind) {
            $c->unbind_resp(seq => $pdu->{seq});
            last;
        } else {
            $c->generic_nack(seq => $pdu->{seq}, status => 0x03);
        }
    }
    close $c;
}
