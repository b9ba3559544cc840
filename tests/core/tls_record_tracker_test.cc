// SPDX-License-Identifier: GPL-2.0-or-later
// TlsRecordTracker: where a direction leaves TLS after CCC, record framing
// across chunk boundaries, and the fail-safe stops.
#include "ftpalg/tls_record_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

namespace ftpalg {
namespace {

using What = TlsScan::What;

std::string Record(uint8_t type, size_t len, char fill = '\x9c', uint8_t minor = 3) {
  std::string r;
  r += static_cast<char>(type);
  r += '\x03';
  r += static_cast<char>(minor);
  r += static_cast<char>(len >> 8);
  r += static_cast<char>(len & 0xff);
  return r + std::string(len, fill);
}

TlsScan Feed(TlsRecordState& t, Direction d, const std::string& bytes) {
  return TlsRecordTracker::Feed(t, d, reinterpret_cast<const uint8_t*>(bytes.data()),
                                bytes.size());
}

TlsRecordState Started() {
  TlsRecordState t;
  TlsRecordTracker::Start(t);
  return t;
}

TEST(TlsRecordTracker, StateFitsInThreeBytes) { EXPECT_EQ(sizeof(TlsRecordState), 3u); }

TEST(TlsRecordTracker, ReplyAfterCloseNotifyResumes) {
  TlsRecordState t = Started();
  const std::string tls = Record(22, 90) + Record(23, 40) + Record(21, 2);  // ... close_notify
  const std::string all = tls + "227 Entering Passive Mode (10,0,0,1,4,1)\r\n";
  const TlsScan r = Feed(t, Direction::kReply, all);
  EXPECT_EQ(r.what, What::kCleartext);
  EXPECT_EQ(r.at, tls.size());
  EXPECT_EQ(r.carried, 0);
  EXPECT_EQ(r.records, 3u);
  EXPECT_FALSE(TlsRecordTracker::Active(t));
}

TEST(TlsRecordTracker, CommandAfterRecordsResumes) {
  for (const std::string line : {"PASV\r\n", "pasv\r\n", "PWD\r\n", "CWD /x\r\n", "EPRT |1|10.0.0.1|5000|\r\n"}) {
    TlsRecordState t = Started();
    const std::string tls = Record(23, 33);
    const TlsScan r = Feed(t, Direction::kOriginal, tls + line);
    EXPECT_EQ(r.what, What::kCleartext) << line;
    EXPECT_EQ(r.at, tls.size()) << line;
  }
}

TEST(TlsRecordTracker, Fake227InsideARecordStaysTls) {
  TlsRecordState t = Started();
  std::string body = "\r\n227 Entering Passive Mode (10,7,0,2,195,81)\r\n";
  std::string rec = Record(23, 0);
  rec[3] = 0;
  rec[4] = static_cast<char>(body.size());
  rec += body;
  const TlsScan r = Feed(t, Direction::kReply, rec);
  EXPECT_EQ(r.what, What::kInTls);
  EXPECT_EQ(r.records, 1u);
  EXPECT_TRUE(TlsRecordTracker::Active(t));
  EXPECT_EQ(TlsRecordTracker::Phase(t), TlsPhase::kHeader);
}

TEST(TlsRecordTracker, HeaderSplitAtEveryByteAndBodySpanningChunks) {
  const std::string stream = Record(22, 300) + Record(23, 1000) + "200 CCC ok\r\n";
  for (size_t cut = 1; cut < stream.size() - 12; cut += 7) {
    TlsRecordState t = Started();
    size_t at = 0;
    TlsScan r = Feed(t, Direction::kReply, stream.substr(0, cut));
    ASSERT_EQ(r.what, What::kInTls) << cut;
    r = Feed(t, Direction::kReply, stream.substr(cut));
    ASSERT_EQ(r.what, What::kCleartext) << cut;
    at = r.at + cut;
    EXPECT_EQ(at, stream.size() - 12) << cut;
  }
  // One byte at a time.
  TlsRecordState t = Started();
  TlsScan r;
  size_t i = 0;
  for (; i < stream.size(); ++i) {
    r = Feed(t, Direction::kReply, stream.substr(i, 1));
    if (r.what != What::kInTls) break;
  }
  EXPECT_EQ(r.what, What::kCleartext);
  EXPECT_EQ(i, stream.size() - 12 + 3);  // decided at the byte after "200"
  EXPECT_EQ(r.carried, 3);
  EXPECT_EQ(std::string(r.carry, 3), "200");
  EXPECT_EQ(r.at, 0u);
}

TEST(TlsRecordTracker, UndecidedLineStartIsReportedAndCanBeRewound) {
  TlsRecordState t = Started();
  const std::string tls = Record(21, 2);
  TlsScan r = Feed(t, Direction::kReply, tls + "22");
  EXPECT_EQ(r.what, What::kInTls);
  EXPECT_EQ(r.probe_at, tls.size());
  ASSERT_TRUE(TlsRecordTracker::Probing(t));
  TlsRecordTracker::RewindProbe(t);  // the engine held "22" back
  r = Feed(t, Direction::kReply, "227 (10,0,0,1,4,1)\r\n");
  EXPECT_EQ(r.what, What::kCleartext);
  EXPECT_EQ(r.at, 0u);
  EXPECT_EQ(r.carried, 0);
  // A probe begun in an earlier chunk is not reported again.
  TlsRecordState u = Started();
  Feed(u, Direction::kReply, tls + "2");
  EXPECT_EQ(Feed(u, Direction::kReply, "2").probe_at, TlsScan::kNoProbe);
}

TEST(TlsRecordTracker, CommandVerbSplitIsCarried) {
  TlsRecordState t = Started();
  const std::string tls = Record(21, 2);
  EXPECT_EQ(Feed(t, Direction::kOriginal, tls + "ep").what, What::kInTls);
  const TlsScan r = Feed(t, Direction::kOriginal, "sv\r\n");
  EXPECT_EQ(r.what, What::kCleartext);
  EXPECT_EQ(r.carried, 2);
  EXPECT_EQ(std::string(r.carry, 2), "EP");
  EXPECT_EQ(r.at, 0u);
}

TEST(TlsRecordTracker, Tls13ForeverStaysInTls) {
  TlsRecordState t = Started();
  std::string stream = Record(22, 512) + Record(20, 1);
  for (int k = 0; k < 50; ++k) stream += Record(23, 17 + k * 300 % 16000, static_cast<char>('2' + k % 3));
  for (size_t off = 0; off < stream.size(); off += 1460) {
    const TlsScan r = Feed(t, Direction::kReply, stream.substr(off, 1460));
    ASSERT_EQ(r.what, What::kInTls) << off;
  }
  EXPECT_EQ(TlsRecordTracker::Phase(t), TlsPhase::kHeader);
}

TEST(TlsRecordTracker, AcceptedVersionsAndTypes) {
  for (uint8_t type = 20; type <= 24; ++type) {
    for (uint8_t minor = 0; minor <= 4; ++minor) {
      TlsRecordState t = Started();
      const TlsScan r = Feed(t, Direction::kReply, Record(type, 4, 'x', minor) + "221 bye\r\n");
      EXPECT_EQ(r.what, What::kCleartext) << int(type) << "." << int(minor);
    }
  }
  TlsRecordState t = Started();  // the largest record allowed
  EXPECT_EQ(Feed(t, Direction::kReply, Record(23, TlsRecordTracker::kMaxRecordLen)).what,
            What::kInTls);
}

TEST(TlsRecordTracker, BadHeadersStopForGood) {
  const std::string bad[] = {
      Record(25, 4),                                      // content type
      Record(19, 4),                                      // content type
      Record(23, 4, 'x', 5),                              // version minor
      std::string("\x17\x02\x03\x00\x04", 5),            // version major
      Record(23, TlsRecordTracker::kMaxRecordLen + 1),   // length
  };
  for (const std::string& b : bad) {
    TlsRecordState t = Started();
    const TlsScan r = Feed(t, Direction::kReply, Record(22, 10) + b);
    EXPECT_EQ(r.what, What::kUnrecognised);
    EXPECT_TRUE(TlsRecordTracker::Stopped(t));
    EXPECT_EQ(Feed(t, Direction::kReply, "227 (10,0,0,1,4,1)\r\n").what, What::kStopped);
  }
}

TEST(TlsRecordTracker, CleartextBeforeAnyRecordStops) {
  TlsRecordState t = Started();
  EXPECT_EQ(Feed(t, Direction::kOriginal, "PORT 10,0,0,1,4,1\r\n").what, What::kUnrecognised);
  EXPECT_TRUE(TlsRecordTracker::Stopped(t));
}

TEST(TlsRecordTracker, NeitherRecordNorLineStops) {
  const struct {
    Direction d;
    std::string after;
  } cases[] = {
      {Direction::kReply, std::string("\x00\xff\x00\xff", 4)},
      {Direction::kReply, "PASV\r\n"},        // a command in the server's stream
      {Direction::kReply, "2270 x\r\n"},
      {Direction::kReply, "627 x\r\n"},
      {Direction::kOriginal, "227 x\r\n"},    // a reply in the client's stream
      {Direction::kOriginal, "GET / HTTP/1.1\r\n"},
      {Direction::kOriginal, "XYZW 1\r\n"},
  };
  for (const auto& c : cases) {
    TlsRecordState t = Started();
    EXPECT_EQ(Feed(t, c.d, Record(21, 2) + c.after).what, What::kUnrecognised) << c.after;
    EXPECT_TRUE(TlsRecordTracker::Stopped(t));
  }
}

TEST(TlsRecordTracker, LostFramingStopsForGood) {
  TlsRecordState t = Started();
  EXPECT_EQ(Feed(t, Direction::kReply, Record(22, 100).substr(0, 50)).what, What::kInTls);
  TlsRecordTracker::LoseFraming(t);
  EXPECT_EQ(Feed(t, Direction::kReply, "227 (10,0,0,1,4,1)\r\n").what, What::kStopped);
}

TEST(TlsRecordTracker, EmptyRecordsCount) {
  TlsRecordState t = Started();
  const TlsScan r = Feed(t, Direction::kReply, Record(23, 0) + Record(23, 0) + "200 ok\r\n");
  EXPECT_EQ(r.what, What::kCleartext);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.at, 10u);
}

// However a stream is cut into chunks, the outcome is the same: the same
// decision at the same stream offset, with the line's first bytes carried.
TEST(TlsRecordTracker, OutcomeDoesNotDependOnChunking) {
  std::mt19937 rng(14);
  for (int round = 0; round < 300; ++round) {
    std::string stream;
    const int records = 1 + static_cast<int>(rng() % 5);
    for (int k = 0; k < records; ++k) {
      stream += Record(static_cast<uint8_t>(20 + rng() % 5), rng() % 700,
                       static_cast<char>(rng() % 256));
    }
    const Direction d = rng() % 2 ? Direction::kReply : Direction::kOriginal;
    switch (rng() % 3) {
      case 0: stream += d == Direction::kReply ? "227 Entering Passive Mode (10,0,0,1,4,1)\r\n"
                                               : "EPSV\r\n"; break;
      case 1: stream += std::string("\x05garbage", 8); break;
      default: break;  // still in TLS
    }
    TlsRecordState whole = Started();
    const TlsScan ref = Feed(whole, d, stream);
    TlsRecordState t = Started();
    size_t off = 0;
    TlsScan r;
    while (off < stream.size()) {
      const size_t len = 1 + rng() % 40;
      r = Feed(t, d, stream.substr(off, len));
      if (r.what != What::kInTls) break;
      off += std::min(len, stream.size() - off);
    }
    ASSERT_EQ(r.what, ref.what) << round;
    if (ref.what == What::kCleartext) {
      EXPECT_EQ(off + r.at - r.carried, ref.at) << round;
      EXPECT_EQ(std::string(r.carry, r.carried), stream.substr(ref.at, r.carried)) << round;
    }
    if (ref.what == What::kUnrecognised) {
      EXPECT_EQ(off + r.at, ref.at) << round;
    }
  }
}

}  // namespace
}  // namespace ftpalg
