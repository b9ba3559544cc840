// SPDX-License-Identifier: GPL-2.0-or-later
#include "ftpalg/announcement_policy.h"

namespace ftpalg {
namespace {

ParseResult ParseByKind(AnnounceKind k, std::string_view line) {
  switch (k) {
    case AnnounceKind::kPort: return ParsePort(line);
    case AnnounceKind::kEprt: return ParseEprt(line);
    case AnnounceKind::kLprt: return ParseLprt(line);
    case AnnounceKind::k227: return Parse227(line);
    case AnnounceKind::k228: return Parse228(line);
    case AnnounceKind::k229: return Parse229(line);
  }
  return {};
}

AnnouncementCheck Refused(AnnouncementCheck::Refusal r) {
  AnnouncementCheck c;
  c.verdict = AnnouncementCheck::Verdict::kRefused;
  c.refusal = r;
  return c;
}

}  // namespace

AnnouncementCheck AnnouncementPolicy::Examine(Dialogue& dlg, Direction from,
                                              AnnounceKind kind, std::string_view line,
                                              const IpAddress& sender) const {
  using R = AnnouncementCheck::Refusal;
  if (dlg.not_ftp) return Refused(R::kNotFtp);
  const ParseResult pr = ParseByKind(kind, line);
  if (!pr.announcement) {
    AnnouncementCheck c = Refused(R::kParse);
    c.error = pr.error;
    return c;
  }
  AnnouncementCheck c;
  c.announcement = *pr.announcement;
  Announcement& a = c.announcement;
  if (!a.has_address) a.endpoint.addr = sender;
  if (a.endpoint.addr.family != sender.family) return Refused(R::kFamily);
  if (!(a.endpoint.addr == sender)) {
    c.verdict = AnnouncementCheck::Verdict::kRefused;
    c.refusal = R::kBounce;
    return c;
  }
  if (dlg.takeover_port != 0 && dlg.takeover_by_server == (from == Direction::kReply)) {
    // The first announcement from this side since the takeover: if it
    // repeats the port the previous daemon rewrote last, it is that
    // segment retransmitted (its ACK was lost with the old gateway). The
    // peer has the rewritten copy; this one goes out unchanged at the
    // restored offset, which makes it an exact duplicate.
    const bool repeat = a.endpoint.port == dlg.takeover_port;
    dlg.takeover_port = 0;
    if (repeat) {
      c.verdict = AnnouncementCheck::Verdict::kDuplicate;
      return c;
    }
  }
  if (a.endpoint.port < cfg_.min_data_port) {
    c.verdict = AnnouncementCheck::Verdict::kRefused;
    c.refusal = R::kLowPort;
    return c;
  }
  c.verdict = AnnouncementCheck::Verdict::kAccepted;
  return c;
}

AnnouncementPlacement AnnouncementPolicy::Place(const Announcement& a, Direction from,
                                                const NatBinding& b) const {
  const bool from_client = from == Direction::kOriginal;
  const IpAddress& outside = from_client ? b.client_outside : b.server_outside;
  AnnouncementPlacement p;
  p.inside = cfg_.IsInside(a.endpoint.addr);
  p.rewrite = p.inside && outside.family == a.endpoint.addr.family &&
              !(outside == a.endpoint.addr);
  p.target = Endpoint{p.rewrite ? outside : a.endpoint.addr, a.endpoint.port};
  p.peer = from_client ? b.server_inside : b.client_inside;
  return p;
}

std::string AnnouncementPolicy::Explain(const AnnouncementCheck& c,
                                        const IpAddress& sender) const {
  using R = AnnouncementCheck::Refusal;
  switch (c.refusal) {
    case R::kNotFtp: return "not an FTP dialogue";
    case R::kParse: return "unparseable (" + std::string(ErrorName(c.error)) + ")";
    case R::kFamily: return "address family differs from the connection's";
    case R::kBounce:
      return "address " + c.announcement.endpoint.addr.ToString() + " is not the sender's " +
             sender.ToString() + " (bounce)";
    case R::kLowPort:
      return "port " + std::to_string(c.announcement.endpoint.port) + " below " +
             std::to_string(cfg_.min_data_port);
  }
  return "refused";
}

}  // namespace ftpalg
