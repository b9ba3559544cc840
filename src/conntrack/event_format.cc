// SPDX-License-Identifier: GPL-2.0-or-later
#include "conntrack/event_format.h"

#include <time.h>

#include <charconv>
#include <cstring>

namespace ftpalg {

void FormatUtcMs(uint64_t wall_ms, char out[kUtcTextSize]) {
  const time_t secs = static_cast<time_t>(wall_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, kUtcTextSize, "%Y-%m-%dT%H:%M:%S", &tm);
  const unsigned ms = static_cast<unsigned>(wall_ms % 1000);
  const char tail[6] = {'.', static_cast<char>('0' + ms / 100),
                        static_cast<char>('0' + ms / 10 % 10), static_cast<char>('0' + ms % 10),
                        'Z', '\0'};
  if (n + sizeof tail > kUtcTextSize) n = 0;  // a year beyond 9999: never
  std::memcpy(out + n, tail, sizeof tail);
}

JsonLine& JsonLine::Begin(uint64_t wall_ms, std::string_view event) {
  len_ = 0;
  ok_ = true;
  // The date and time of day change once a second: only the milliseconds
  // are written anew for each record.
  char* ts = ts_;
  if (wall_ms / 1000 != ts_second_ || ts_[0] == '\0') {
    FormatUtcMs(wall_ms, ts_);
    ts_second_ = wall_ms / 1000;
  } else {
    const unsigned ms = static_cast<unsigned>(wall_ms % 1000);
    char* dot = ts + std::strlen(ts) - 4;
    dot[0] = static_cast<char>('0' + ms / 100);
    dot[1] = static_cast<char>('0' + ms / 10 % 10);
    dot[2] = static_cast<char>('0' + ms % 10);
  }
  Raw("{\"v\":");
  Raw(kEventSchemaVersion == 1 ? "1" : "?");
  Str("ts", ts);
  Str("event", event);
  return *this;
}

void JsonLine::Raw(std::string_view s) {
  // Room is kept for the closing "}\n".
  if (len_ + s.size() + 2 > kMaxLen) {
    ok_ = false;
    return;
  }
  std::memcpy(buf_ + len_, s.data(), s.size());
  len_ += s.size();
}

void JsonLine::Quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  Raw("\"");
  size_t run = 0;  // start of the characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
    Raw(s.substr(run, i - run));
    run = i + 1;
    if (c == '"') {
      Raw("\\\"");
    } else if (c == '\\') {
      Raw("\\\\");
    } else if (c == '\n') {
      Raw("\\n");
    } else {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      Raw(std::string_view(esc, 6));
    }
  }
  Raw(s.substr(run));
  Raw("\"");
}

void JsonLine::Key(std::string_view key) {
  Raw(",");
  Quoted(key);
  Raw(":");
}

JsonLine& JsonLine::Str(std::string_view key, std::string_view value) {
  Key(key);
  Quoted(value);
  return *this;
}

JsonLine& JsonLine::Num(std::string_view key, uint64_t value) {
  char n[24];
  const char* end = std::to_chars(n, n + sizeof n, value).ptr;
  Key(key);
  Raw(std::string_view(n, static_cast<size_t>(end - n)));
  return *this;
}

JsonLine& JsonLine::Bool(std::string_view key, bool value) {
  Key(key);
  Raw(value ? "true" : "false");
  return *this;
}

JsonLine& JsonLine::Null(std::string_view key) {
  Key(key);
  Raw("null");
  return *this;
}

JsonLine& JsonLine::Addr(std::string_view key, const IpAddress& a) {
  char text[kMaxAddressTextLen];
  const size_t n = FormatAddress(a, text, sizeof text);
  return Str(key, std::string_view(text, n));
}

namespace {

// "a.b.c.d:p" or "[v6]:p", as Endpoint::ToString, without allocating.
std::string_view EndpointText(const Endpoint& e, char* out, size_t cap) {
  const bool v6 = e.addr.family == Family::kV6;
  size_t n = 0;
  if (v6) out[n++] = '[';
  n += FormatAddress(e.addr, out + n, cap - n);
  if (v6) out[n++] = ']';
  out[n++] = ':';
  n = static_cast<size_t>(std::to_chars(out + n, out + cap, e.port).ptr - out);
  return std::string_view(out, n);
}

}  // namespace

JsonLine& JsonLine::Ep(std::string_view key, const Endpoint& e) {
  char text[kMaxAddressTextLen + 9];
  return Str(key, EndpointText(e, text, sizeof text));
}

JsonLine& JsonLine::Tuple(std::string_view key, const Endpoint& src, const Endpoint& dst) {
  char text[kMaxAddressTextLen + 9];
  Key(key);
  Raw("{\"src\":");
  Quoted(EndpointText(src, text, sizeof text));
  Raw(",\"dst\":");
  Quoted(EndpointText(dst, text, sizeof text));
  Raw("}");
  return *this;
}

std::string_view JsonLine::Finish() {
  // Raw() always left room for these two bytes.
  buf_[len_++] = '}';
  buf_[len_++] = '\n';
  return std::string_view(buf_, len_);
}

namespace {

const char* AnnouncerName(Direction d) {
  return d == Direction::kOriginal ? "client" : "server";
}

const char* MechanismName(PlaneOptions::Mechanism m) {
  return m == PlaneOptions::Mechanism::kExpect ? "expectation" : "precreate";
}

// The fields every data_* record has.
JsonLine& DataFields(JsonLine& j, const Expectation& e) {
  return j.Num("session", e.session_id)
      .Str("kind", KindName(e.kind))
      .Str("announcer", AnnouncerName(e.announcer))
      .Ep("inside", e.nat_to)
      .Ep("public", e.target)
      .Addr("peer", e.peer)
      .Tuple("master", e.master.client, e.master.server);
}

JsonLine& PendingFields(JsonLine& j, const PendingConnection& p) {
  return DataFields(j, p.e).Str("mechanism", MechanismName(p.mech)).Ep("local", p.kernel_target);
}

}  // namespace

std::string_view FormatStreamOpen(JsonLine& j, uint64_t wall_ms, uint32_t pid,
                                  std::string_view version, uint64_t dropped) {
  return j.Begin(wall_ms, "stream_open")
      .Num("pid", pid)
      .Str("version", version)
      .Num("dropped", dropped)
      .Finish();
}

std::string_view FormatSessionStart(JsonLine& j, uint64_t wall_ms, const SessionStartFacts& f) {
  j.Begin(wall_ms, "session_start")
      .Num("session", f.session)
      .Bool("picked_up", f.picked_up)
      .Ep("client", f.orig.client)
      .Ep("server", f.orig.server);
  if (f.reply_src && f.reply_dst) {
    j.Ep("client_public", *f.reply_dst).Ep("server_inside", *f.reply_src);
  } else {
    j.Null("client_public").Null("server_inside");
  }
  j.Tuple("orig", f.orig.client, f.orig.server);
  if (f.reply_src && f.reply_dst) {
    j.Tuple("reply", *f.reply_src, *f.reply_dst);
  } else {
    j.Null("reply");
  }
  return j.Finish();
}

std::string_view FormatSessionEnd(JsonLine& j, uint64_t wall_ms, uint64_t session,
                                  const FlowKey& orig, std::string_view reason,
                                  uint32_t rewrites, uint32_t refusals) {
  return j.Begin(wall_ms, "session_end")
      .Num("session", session)
      .Ep("client", orig.client)
      .Ep("server", orig.server)
      .Str("reason", reason)
      .Num("rewrites", rewrites)
      .Num("refusals", refusals)
      .Finish();
}

std::string_view FormatDataAnnounced(JsonLine& j, uint64_t wall_ms, const Expectation& e) {
  return DataFields(j.Begin(wall_ms, "data_announced"), e).Finish();
}

std::string_view FormatDataInstalled(JsonLine& j, uint64_t wall_ms,
                                     const PendingConnection& p, bool restored) {
  return PendingFields(j.Begin(wall_ms, "data_installed"), p)
      .Num("timeout_s", p.e.timeout_s)
      .Bool("restored", restored)
      .Finish();
}

std::string_view FormatDataRefused(JsonLine& j, uint64_t wall_ms, const Expectation& e,
                                   std::string_view reason) {
  return DataFields(j.Begin(wall_ms, "data_refused"), e).Str("reason", reason).Finish();
}

std::string_view FormatDataUsed(JsonLine& j, uint64_t wall_ms, const PendingConnection& p,
                                const Endpoint& from) {
  return PendingFields(j.Begin(wall_ms, "data_used"), p).Ep("from", from).Finish();
}

std::string_view FormatDataEnded(JsonLine& j, uint64_t wall_ms, const PendingConnection& p,
                                 std::string_view reason) {
  const bool expired = reason == "expired";
  j.Begin(wall_ms, expired ? "data_expired" : "data_withdrawn");
  PendingFields(j, p);
  if (!expired) j.Str("reason", reason);
  return j.Finish();
}

}  // namespace ftpalg
