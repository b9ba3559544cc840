// SPDX-License-Identifier: GPL-2.0-or-later
// FtpDialogue: what each line means, given the lines before it. Each row is
// a dialogue ('>' client, '<' server) and the meaning of its last line.
#include "ftpalg/ftp_dialogue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ftpalg {
namespace {

using What = LineMeaning::What;

struct DialogueCase {
  const char* name;
  std::vector<std::string> lines;  // "> cmd" or "< reply", without CRLF
  What last;
  AnnounceKind kind = AnnounceKind::kPort;
};

const std::vector<DialogueCase>& Cases() {
  static const std::vector<DialogueCase> cases = {
      {"PORT after the greeting", {"< 220 hi", "> USER a", "< 230 ok", "> PORT 10,7,0,2,4,1"},
       What::kAnnouncement, AnnounceKind::kPort},
      {"EPRT", {"< 220 hi", "> EPRT |1|10.7.0.2|5000|"}, What::kAnnouncement, AnnounceKind::kEprt},
      {"LPRT", {"< 220 hi", "> LPRT 4,4,10,7,0,2,2,4,1"}, What::kAnnouncement, AnnounceKind::kLprt},
      {"227 answers PASV", {"< 220 hi", "> PASV", "< 227 (10,0,0,1,4,1)"}, What::kAnnouncement,
       AnnounceKind::k227},
      {"229 answers EPSV", {"< 220 hi", "> EPSV", "< 229 (|||5000|)"}, What::kAnnouncement,
       AnnounceKind::k229},
      {"228 answers LPSV", {"< 220 hi", "> LPSV", "< 228 (4,4,10,0,0,1,2,4,1)"},
       What::kAnnouncement, AnnounceKind::k228},
      {"EPSV answered by 227", {"< 220 hi", "> EPSV", "< 227 (10,0,0,1,4,1)"},
       What::kAnnouncement, AnnounceKind::k227},
      {"227 without PASV", {"< 220 hi", "> NOOP", "< 227 (10,0,0,1,4,1)"}, What::kUnsolicited},
      {"227 with nothing outstanding", {"< 220 hi", "< 227 (10,0,0,1,4,1)"}, What::kUnsolicited},
      {"pipelined: 200 then 227 in command order",
       {"< 220 hi", "> TYPE I", "> PASV", "< 200 ok", "< 227 (10,0,0,1,4,1)"},
       What::kAnnouncement, AnnounceKind::k227},
      {"pipelined: 227 answering TYPE is unsolicited",
       {"< 220 hi", "> TYPE I", "> PASV", "< 227 (10,0,0,1,4,1)"}, What::kUnsolicited},
      {"preliminary 1xx does not answer",
       {"< 220 hi", "> PASV", "< 150 wait", "< 227 (10,0,0,1,4,1)"}, What::kAnnouncement,
       AnnounceKind::k227},
      {"multi-line 227: only the closing line",
       {"< 220 hi", "> PASV", "< 227-first", "< 227 (10,0,0,1,4,1)"}, What::kAnnouncement,
       AnnounceKind::k227},
      {"inside a multi-line reply a 227 line is text",
       {"< 220 hi", "> PASV", "< 211-Features", "< 227 (10,0,0,1,4,1)"}, What::kNothing},
      {"multi-line greeting", {"< 220-welcome", "< 220 ready", "> PORT 10,7,0,2,4,1"},
       What::kAnnouncement, AnnounceKind::kPort},
      {"234 stops the dialogue", {"< 220 hi", "> AUTH TLS", "< 234 go"}, What::kTlsStarted},
      {"after 234 nothing is read", {"< 220 hi", "> AUTH TLS", "< 234 go", "> PORT 10,7,0,2,4,1"},
       What::kNothing},
      {"first command not FTP", {"< 220 hi", "> GET / HTTP/1.1"}, What::kNotFtp},
      {"server's first line not a reply", {"< SSH-2.0-OpenSSH"}, What::kNotFtp},
      {"no 220 greeting", {"< 500 go away"}, What::kNotFtp},
      {"1xx before the greeting is fine", {"< 120 soon", "< 220 hi", "> PORT 10,7,0,2,4,1"},
       What::kAnnouncement, AnnounceKind::kPort},
      {"not FTP is said once", {"< 500 go away", "< 500 again"}, What::kNothing},
  };
  return cases;
}

LineMeaning Feed(Dialogue& dlg, const std::string& l) {
  const std::string_view text = std::string_view(l).substr(2);
  return l[0] == '>' ? FtpDialogue::OnCommand(dlg, text) : FtpDialogue::OnReply(dlg, text);
}

class DialogueTest : public ::testing::TestWithParam<size_t> {};

TEST_P(DialogueTest, MeaningOfTheLastLine) {
  const DialogueCase& c = Cases()[GetParam()];
  Dialogue dlg;
  LineMeaning m;
  for (const std::string& l : c.lines) m = Feed(dlg, l);
  EXPECT_EQ(m.what, c.last) << c.name;
  if (c.last == What::kAnnouncement) {
    EXPECT_EQ(m.kind, c.kind) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, DialogueTest, ::testing::Range<size_t>(0, Cases().size()));

TEST(FtpDialogue, NoGreetingCarriesTheCode) {
  Dialogue dlg;
  const LineMeaning m = FtpDialogue::OnReply(dlg, "421 too many");
  EXPECT_EQ(m.why, LineMeaning::NotFtp::kNoGreeting);
  EXPECT_EQ(m.code, 421);
  EXPECT_TRUE(dlg.not_ftp);
}

TEST(FtpDialogue, MoreThanSixteenOutstandingMakesPairingUnknown) {
  Dialogue dlg;
  Feed(dlg, "< 220 hi");
  for (int i = 0; i < 17; ++i) Feed(dlg, "> NOOP");
  Feed(dlg, "> PASV");
  for (int i = 0; i < 16; ++i) Feed(dlg, "< 200 ok");
  // The 17th NOOP and the PASV were not recorded: the reply that follows is
  // never taken as the PASV's answer.
  EXPECT_NE(Feed(dlg, "< 227 (10,0,0,1,4,1)").what, What::kAnnouncement);
}

TEST(FtpDialogue, ForgottenPairingRefusesUntilTheNewCommandsAreAnswered) {
  Dialogue dlg;
  Feed(dlg, "< 220 hi");
  Feed(dlg, "> PASV");
  FtpDialogue::ForgetPairing(dlg, Direction::kReply);  // the 227 was in a hole
  Feed(dlg, "> PASV");
  EXPECT_EQ(Feed(dlg, "< 227 (10,0,0,1,4,1)").what, What::kPairingUnknown);
  Feed(dlg, "> PASV");
  EXPECT_EQ(Feed(dlg, "< 227 (10,0,0,1,4,2)").what, What::kAnnouncement);
}

// Found by engine_resegment_fuzz: replies lost while an AUTH waits for its
// answer may hide the 234; everything after could be ciphertext.
TEST(FtpDialogue, LostRepliesWithAnAuthOutstandingStopParsingForGood) {
  Dialogue dlg;
  Feed(dlg, "< 220 hi");
  Feed(dlg, "> LPSV");
  Feed(dlg, "> AUTH TLS");
  EXPECT_TRUE(FtpDialogue::AuthOutstanding(dlg));
  FtpDialogue::ForgetPairing(dlg, Direction::kReply);
  EXPECT_TRUE(dlg.tls);
  EXPECT_EQ(Feed(dlg, "> EPRT |1|10.7.0.2|5000|").what, What::kNothing);
}

TEST(FtpDialogue, LostRepliesWithNoAuthOutstandingKeepParsing) {
  Dialogue dlg;
  Feed(dlg, "< 220 hi");
  Feed(dlg, "> AUTH TLS");
  Feed(dlg, "< 504 no");  // answered: nothing outstanding
  EXPECT_FALSE(FtpDialogue::AuthOutstanding(dlg));
  FtpDialogue::ForgetPairing(dlg, Direction::kReply);
  EXPECT_FALSE(dlg.tls);
}

TEST(FtpDialogue, ForgettingTheServerSideEndsAMultiLineReply) {
  Dialogue dlg;
  Feed(dlg, "< 220 hi");
  Feed(dlg, "> FEAT");
  Feed(dlg, "< 211-Features");
  FtpDialogue::ForgetPairing(dlg, Direction::kReply);
  EXPECT_EQ(dlg.multiline_code, 0);
}

TEST(FtpDialogue, ResumeAfterTlsStartsPairingAfresh) {
  Dialogue dlg;
  Feed(dlg, "< 220 hi");
  Feed(dlg, "> AUTH TLS");
  EXPECT_EQ(Feed(dlg, "< 234 go").what, What::kTlsStarted);
  EXPECT_EQ(Feed(dlg, "> PASV").what, What::kNothing);  // ignored while in TLS
  FtpDialogue::ResumeAfterTls(dlg);
  EXPECT_FALSE(dlg.tls);
  EXPECT_EQ(dlg.pending_count, 0);
  Feed(dlg, "> PASV");
  const LineMeaning m = Feed(dlg, "< 227 (10,0,0,1,4,1)");
  EXPECT_EQ(m.what, What::kAnnouncement);
  EXPECT_EQ(Feed(dlg, "< 227 (10,0,0,1,4,2)").what, What::kUnsolicited);
}

}  // namespace
}  // namespace ftpalg
