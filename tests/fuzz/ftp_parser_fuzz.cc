// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: every FTP line parser on one arbitrary line, plus the
// FormatReplacement round trip (the replacement text of a parsed span parses
// back to the same endpoint at the same place). Aborts on any violation.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ftpalg/ftp_parser.h"
#include "ftpalg/inet.h"

namespace ftpalg {
namespace {

[[noreturn]] void Fail(const char* what, std::string_view line) {
  std::fprintf(stderr, "ftp_parser_fuzz: %s on line \"%.*s\"\n", what,
               static_cast<int>(line.size()), line.data());
  std::abort();
}

using Parser = ParseResult (*)(std::string_view);

Parser ParserFor(AnnounceKind k) {
  switch (k) {
    case AnnounceKind::kPort: return ParsePort;
    case AnnounceKind::kEprt: return ParseEprt;
    case AnnounceKind::kLprt: return ParseLprt;
    case AnnounceKind::k227: return Parse227;
    case AnnounceKind::k228: return Parse228;
    case AnnounceKind::k229: return Parse229;
  }
  return ParsePort;
}

// Formats into a heap buffer of exactly `cap` bytes, so ASan sees any write
// past the capacity FormatReplacement was given.
size_t FormatExact(const Announcement& a, const Endpoint& ep, size_t cap,
                   std::string* text) {
  std::unique_ptr<char[]> buf(new char[cap == 0 ? 1 : cap]);
  const size_t n = FormatReplacement(a, ep, cap == 0 ? nullptr : buf.get(), cap);
  if (n > cap) Fail("FormatReplacement wrote more than cap", "");
  if (text) text->assign(buf.get(), n);
  return n;
}

void CheckOne(AnnounceKind kind, std::string_view line) {
  const ParseResult r = ParserFor(kind)(line);
  if (!r.announcement) {
    if (r.error == ParseError::kNone) Fail("refusal without an error", line);
    (void)ErrorName(r.error);
    return;
  }
  const Announcement& a = *r.announcement;
  if (a.kind != kind) Fail("kind differs from parser", line);
  if (size_t{a.span_offset} + a.span_len > line.size() || a.span_len == 0) {
    Fail("span outside the line", line);
  }
  if (a.endpoint.port == 0) Fail("port 0 accepted", line);
  if ((kind == AnnounceKind::kPort || kind == AnnounceKind::k227) &&
      a.endpoint.addr.family != Family::kV4) {
    Fail("PORT/227 with a non-IPv4 address", line);
  }
  if ((kind == AnnounceKind::k229) == a.has_address) {
    Fail("has_address wrong for the kind", line);
  }
  (void)KindName(kind);
  (void)a.endpoint.ToString();

  // Round trip with the parsed endpoint itself (229: its port only).
  Endpoint ep = a.endpoint;
  if (!a.has_address) {
    ep.addr = *IpAddress::Parse(line.size() % 2 ? "192.0.2.1" : "2001:db8::1");
  }
  std::string text;
  const size_t n = FormatExact(a, ep, kMaxReplacementLen, &text);
  if (n == 0) Fail("cannot format the parsed endpoint", line);
  // Too little room: 0, and nothing written past the room given.
  if (FormatExact(a, ep, n - 1, nullptr) != 0) Fail("formatted into too small a buffer", line);
  if (FormatExact(a, ep, 0, nullptr) != 0) Fail("formatted into cap 0", line);

  std::string rebuilt(line.substr(0, a.span_offset));
  rebuilt += text;
  rebuilt += line.substr(a.span_offset + a.span_len);
  const ParseResult again = ParserFor(kind)(rebuilt);
  if (!again.announcement) Fail("replacement does not parse back", rebuilt);
  const Announcement& b = *again.announcement;
  if (b.span_offset != a.span_offset || b.span_len != n) {
    Fail("replacement span moved", rebuilt);
  }
  if (b.endpoint.port != a.endpoint.port) Fail("port changed in round trip", rebuilt);
  if (a.has_address && !(b.endpoint.addr == a.endpoint.addr)) {
    Fail("address changed in round trip", rebuilt);
  }
  if (b.delimiter != a.delimiter && kind != AnnounceKind::kPort &&
      kind != AnnounceKind::k227 && kind != AnnounceKind::kLprt &&
      kind != AnnounceKind::k228) {
    Fail("delimiter changed in round trip", rebuilt);
  }
  // PORT/227 cannot carry IPv6: refused, never truncated.
  if (kind == AnnounceKind::kPort || kind == AnnounceKind::k227) {
    const Endpoint v6{*IpAddress::Parse("2001:db8::2"), ep.port};
    if (FormatExact(a, v6, kMaxReplacementLen, nullptr) != 0) {
      Fail("IPv6 formatted into PORT/227", line);
    }
  }
}

}  // namespace
}  // namespace ftpalg

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftpalg;
  if (size > 70000) return 0;
  // An exact-size heap copy: any read past the line is an ASan report.
  std::unique_ptr<char[]> copy(new char[size == 0 ? 1 : size]);
  if (size) std::memcpy(copy.get(), data, size);
  const std::string_view line(copy.get(), size);

  (void)ClassifyCommand(line);
  if (const auto rc = ParseReplyCode(line)) {
    if (rc->code < 100 || rc->code > 599) std::abort();
  }
  (void)IpAddress::Parse(line);
  (void)Cidr::Parse(line);
  for (AnnounceKind k : {AnnounceKind::kPort, AnnounceKind::kEprt,
                         AnnounceKind::kLprt, AnnounceKind::k227,
                         AnnounceKind::k228, AnnounceKind::k229}) {
    CheckOne(k, line);
  }
  return 0;
}
