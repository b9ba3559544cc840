// SPDX-License-Identifier: GPL-2.0-or-later
// The engine after AUTH (engine_tls.cc): TLS records followed per direction,
// cleartext after CCC parsed and rewritten, records never parsed, a hole in
// TLS losing that direction for good.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/engine_fixture.h"

namespace ftpalg::testing {
namespace {

std::string Record(uint8_t type, const std::string& body) {
  std::string r;
  r += static_cast<char>(type);
  r += '\x03';
  r += '\x03';
  r += static_cast<char>(body.size() >> 8);
  r += static_cast<char>(body.size() & 0xff);
  return r + body;
}

class EngineTlsTest : public EngineTest {
 protected:
  void SetUp() override {
    server = Ep("192.168.20.2", 21);  // an inside server: its 227 is rewritten too
    Handshake();
    Greet();
    ClientSends("AUTH TLS\r\n");
    ServerSends("234 AUTH TLS successful\r\n");
    ClientSends(Record(22, std::string(200, '\x41')));
    ServerSends(Record(22, std::string(90, '\x42')) + Record(20, "\x01"));
  }
  Result ServerSendsAt(uint32_t seq, const std::string& payload) {
    return Run(TcpSpec{server, client, seq, c_out_next_, kTcpAck | kTcpPsh, payload, {}, false});
  }
};

TEST_F(EngineTlsTest, LinesInsideRecordsAreNeverParsed) {
  const std::string c = Record(23, "PORT 10,7,0,2,4,1\r\n");
  const std::string s = Record(23, "\r\n227 Entering Passive Mode (192,168,20,2,4,2)\r\n");
  EXPECT_FALSE(ClientSends(c).decision.modified);
  EXPECT_FALSE(ServerSends(s).decision.modified);
  EXPECT_EQ(stats.rewrites, 0u);
  EXPECT_TRUE(sink.installed.empty());
  EXPECT_EQ(stats.tls_cleartext_resumed, 0u);
}

TEST_F(EngineTlsTest, CleartextAfterCccIsRewrittenBothWays) {
  ClientSends(Record(23, std::string(20, '\x10')));  // CCC
  ServerSends(Record(23, std::string(40, '\x11')));  // 200
  ServerSends(Record(21, std::string(26, '\x12')));  // close_notify
  // The client's close_notify and its first cleartext command in one segment.
  const std::string notify = Record(21, std::string(26, '\x13'));
  Result port = ClientSends(notify + "PORT 10,7,0,2,4,1\r\n");
  EXPECT_TRUE(port.decision.modified);
  EXPECT_EQ(port.payload(), notify + "PORT 203,0,113,1,4,1\r\n") << "the record is kept as it was";
  ServerSends("200 PORT command successful\r\n");
  ClientSends("PASV\r\n");
  EXPECT_EQ(ServerSends("227 Entering Passive Mode (192,168,20,2,4,2)\r\n").payload(),
            "227 Entering Passive Mode (203,0,113,1,4,2)\r\n")
      << "pairing started afresh: the PASV after CCC answers it";
  EXPECT_EQ(stats.tls_cleartext_resumed, 2u);
  EXPECT_EQ(stats.rewrites, 2u);
  EXPECT_EQ(sink.installed.size(), 2u);
  EXPECT_TRUE(log.Contains("c->s stream back to cleartext"));
  EXPECT_TRUE(log.Contains("s->c stream back to cleartext"));
}

// A record header split across a hole that is given up: the framing of that
// direction is lost and never guessed; the other direction resumes.
TEST_F(EngineTlsTest, HoleInsideTlsStopsThatDirectionForGood) {
  const std::string rec = Record(23, std::string(60, '\x20'));
  ServerSends(rec.substr(0, 3));  // the header's first 3 bytes
  const uint32_t lost = s_next_;  // its last 2 and 10 body bytes never come
  const uint32_t beyond = lost + 12;
  EXPECT_EQ(ServerSendsAt(beyond, rec.substr(15)).payload(), "") << "kept beyond the hole";
  now_ms += cfg.gap_timeout_ms + 1;
  const std::string after = Record(21, std::string(26, '\x21')) +
                            "227 Entering Passive Mode (192,168,20,2,4,3)\r\n";
  Result r = ServerSendsAt(beyond + static_cast<uint32_t>(rec.size() - 15), after);
  EXPECT_EQ(r.payload(), rec.substr(15) + after) << "passed unparsed, unchanged";
  EXPECT_EQ(stats.refused_gap, 1u);
  EXPECT_EQ(stats.tls_framing_lost, 1u);
  EXPECT_TRUE(log.Contains("s->c stream: TLS record framing lost"));
  // The client's direction still follows its records and resumes.
  Result port = ClientSends(Record(21, std::string(26, '\x22')) + "PORT 10,7,0,2,4,1\r\n");
  EXPECT_TRUE(port.decision.modified);
  EXPECT_EQ(stats.tls_cleartext_resumed, 1u);
  EXPECT_EQ(stats.rewrites, 1u);
}

// Bytes after a complete record that are neither a record nor an FTP line:
// stopped for good, logged once, even if FTP lines follow later.
TEST_F(EngineTlsTest, UnrecognisedBytesStopForGood) {
  EXPECT_FALSE(ClientSends(Record(23, "x") + "\x01\x02junk\r\n").decision.modified);
  EXPECT_FALSE(ClientSends("PORT 10,7,0,2,4,1\r\n").decision.modified);
  EXPECT_EQ(stats.tls_unrecognised, 1u);
  EXPECT_EQ(log.Count("neither a TLS record nor an FTP command"), 1u);
  EXPECT_EQ(stats.rewrites, 0u);
}

// The first cleartext line split right after its first bytes: they are held
// back and the line is rewritten whole (in the daemon, live).
TEST_F(EngineTlsTest, FirstCleartextLineSplitIsHeldAndRewritten) {
  ClientSends(Record(21, std::string(26, '\x13')) + "PASV\r\n");
  Result first = ServerSends(Record(21, std::string(26, '\x12')) + "22");
  EXPECT_EQ(first.payload(), Record(21, std::string(26, '\x12'))) << "\"22\" held back";
  Result rest = ServerSends("7 Entering Passive Mode (192,168,20,2,4,2)\r\n");
  EXPECT_EQ(rest.payload(), "227 Entering Passive Mode (203,0,113,1,4,2)\r\n");
  EXPECT_EQ(stats.rewrites, 1u);
  EXPECT_EQ(stats.refused_split, 0u);
  EXPECT_EQ(stats.tls_cleartext_resumed, 2u);
}

// A held line start after a record that never completes: released unchanged
// at the hold timeout, and that direction is not parsed again.
TEST_F(EngineTlsTest, HeldLineStartNeverCompletedLosesTheFraming) {
  ClientSends(Record(21, std::string(26, '\x13')) + "PASV\r\n");
  const std::string notify = Record(21, std::string(26, '\x12'));
  EXPECT_EQ(ServerSends(notify + "22").payload(), notify);
  now_ms += cfg.hold_timeout_ms + 1;
  s_next_ -= 2;  // the same bytes again: a retransmission
  Result again = ServerSends("22");
  EXPECT_EQ(again.payload(), "22") << "released unchanged";
  EXPECT_EQ(stats.tls_framing_lost, 1u);
  EXPECT_FALSE(ServerSends("7 Entering Passive Mode (192,168,20,2,4,2)\r\n").decision.modified);
  EXPECT_EQ(stats.rewrites, 0u);
}

}  // namespace
}  // namespace ftpalg::testing
