#!/usr/bin/env perl
# Self cost (Ir) of one callgrind dump, per request, grouped by component and
# by function (names shortened: template and call arguments dropped).
#
#   callgrind_breakdown.pl REQUESTS FILE [TOP]
#
# Prints lines "group<TAB>name<TAB>Ir per request": group is "category" or
# "function". Reads the uncompressed format (--compress-strings=no); a cost
# line right after calls= is the callee's inclusive cost and is skipped.
use strict;
use warnings;

if (@ARGV && $ARGV[0] eq "--annotate") {  # filters callgrind_annotate output: Ir per request, short names
    my (undef, $n, $top_lines) = @ARGV;
    $top_lines //= 60;
    my $shown = 0;
    while (my $line = <STDIN>) {
        next unless $line =~ /^\s*([\d,]+)\s+(?:\(\s*([\d.]+)%\)\s+)?(\S.*)$/;
        my ($ir, $pct, $name) = ($1, $2 // "", $3);
        next if $name =~ /PROGRAM TOTALS/;
        # Asio's frames nest every coroutine resumption: leave them out of the listing.
        next if $name =~ /(?:^|\s|:)(?:boost::asio::|_Z|\(below main\)|0x[0-9a-f]+|main\s|__libc_start)/;
        $ir =~ tr/,//d;
        my $obj = $name =~ s/\s+\[([^\]]*)\]$// ? $1 : "";
        $obj =~ s{.*/}{};
        $name =~ s/^(?:\?\?\?|\S*?\.(?:c|cc|cpp|h|hpp|S|ipp|tcc)):(?!:)//;
        printf "%9.0f %6s  %s  [%s]\n", $ir / $n, $pct eq "" ? "" : "$pct%", short_name($name), $obj;
        last if ++$shown >= $top_lines;
    }
    exit 0;
}
my ($requests, $file, $top) = @ARGV;
die "usage: $0 REQUESTS FILE [TOP]\n" unless $requests && $file;
$top //= 25;

my (%self, %object_of);
my ($ob, $fn, $cfn, $after_calls, $allocs) = ('', '', '', 0, 0);
open(my $in, '<', $file) or die "cannot read $file: $!\n";
while (my $line = <$in>) {
    chomp $line;
    if ($line =~ /^ob=(.*)/) { $ob = $1; next; }
    if ($line =~ /^fn=(.*)/) { $fn = $1; $object_of{$fn} //= $ob; next; }
    if ($line =~ /^cfn=(.*)/) { $cfn = $1; next; }
    if ($line =~ /^calls=(\d+)/) {
        my $count = $1;
        # Heap allocations: calls into malloc and its siblings from outside them.
        $allocs += $count if $cfn =~ /^(?:malloc|calloc|realloc|memalign|aligned_alloc|posix_memalign)$/
            && $fn !~ /^(?:malloc|calloc|realloc|memalign|aligned_alloc|posix_memalign|_mid_memalign)/;
        $after_calls = 1;
        next;
    }
    if ($line =~ /^(?:\+|-)?\d+\s+(\d+)/ || $line =~ /^\*\s+(\d+)/) {
        if ($after_calls) { $after_calls = 0; next; }
        $self{$fn} += $1;
        next;
    }
}
close $in;

sub short_name {
    my ($n) = @_;
    $n =~ s/'\d+$//;                      # recursion levels
    $n =~ s/ \[clone [^\]]*\]//g;
    1 while $n =~ s/<[^<>]*>//g;          # template arguments
    1 while $n =~ s/\((?:[^()])*\)//g;    # parameter lists, decltype(...)
    $n =~ s/^decltype\s*//;
    $n =~ s/^(?:void|auto) //;
    $n =~ s/std::__cxx11::/std::/g;
    $n =~ s/\s+const$//;
    return $n;
}

# First match wins.
my @categories = (
    ['malloc/free', qr/^(?:malloc|free|_int_malloc|_int_free|malloc_consolidate|cfree|realloc|_int_realloc|unlink_chunk|tcache|operator new|operator delete)/],
    ['OpenSSL', sub { $_[1] =~ /libssl|libcrypto/ }],
    ['libcurl', sub { $_[1] =~ /libcurl/ }],
    ['nghttp2 (HTTP/2 framing, HPACK)', sub { $_[0] =~ /^nghttp2_/ || $_[1] =~ /libnghttp2/ }],
    ['Boost.JSON', sub { $_[0] =~ /boost::json/ || $_[1] =~ /libboost_json/ }],
    ['URL parsing (Boost.URL, parse_url)', sub { $_[0] =~ /boost::urls|parse_url|origin/ || $_[1] =~ /libboost_url/ }],
    ['Beast parser', qr/beast::http::(?:basic_parser|detail::basic_parser_base|parser)/],
    ['Beast fields (header maps)', qr/basic_fields|bstree|boost::intrusive|beast::http::detail::(?:field_table|string_to_field)|to_string\(boost::beast::http::field|iequals|beast::http::string_to_field/],
    ['Beast serializer/buffer sequences', qr/beast::(?:buffers|http::serializer|http::detail::write|detail::variant|http::chunk|detail::buffers)|buffers_cat|buffers_prefix|buffers_suffix|mp_with_index|mp11|serializer/],
    ['Beast streams (tcp_stream, ssl_stream, ops)', qr/boost::beast::/],
    ['chatwire', qr/chatwire::/],
    ['Asio (scheduler, ops, coroutine frames, handlers)', qr/boost::asio|any_completion_handler/],
    ['libc strings/stdio', qr/^(?:__)?(?:mem|str|wmem|vfprintf|_IO_|__printf|snprintf|vsnprintf|sprintf|__vfprintf|_itoa|__strchr|strchr|__strlen|__mem)/],
    ['std::string and std lib', qr/^std::/],
    ['syscall wrappers, locks, clock', qr/epoll|sendmsg|recvmsg|^send|^recv|^read|^write|^__libc_|pthread|^ioctl|clock_gettime|__errno|syscall|^poll/],
);

my (%by_cat, $total);
for my $f (keys %self) {
    my $ob = $object_of{$f} // '';
    my $s = short_name($f);
    my $cat = 'other';
    for my $c (@categories) {
        my ($name, $m) = @$c;
        my $hit = ref($m) eq 'CODE' ? $m->($s, $ob) : ($s =~ $m);
        if ($hit) { $cat = $name; last; }
    }
    $by_cat{$cat} += $self{$f};
    $total += $self{$f};
}
printf "total\tall\t%.0f\n", $total / $requests;
printf "total\theap allocations\t%.1f\n", $allocs / $requests;
for my $c (sort { $by_cat{$b} <=> $by_cat{$a} } keys %by_cat) {
    printf "category\t%s\t%.0f\n", $c, $by_cat{$c} / $requests;
}
my %by_fn;
$by_fn{short_name($_)} += $self{$_} for keys %self;
my $n = 0;
for my $f (sort { $by_fn{$b} <=> $by_fn{$a} } keys %by_fn) {
    last if ++$n > $top;
    printf "function\t%s\t%.0f\n", $f, $by_fn{$f} / $requests;
}
