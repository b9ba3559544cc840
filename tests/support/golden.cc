// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/support/golden.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "replay/replay.h"
#include "replay/replay_options.h"

namespace ftpalg::testing {
namespace {

namespace fs = std::filesystem;

// "x.pcap", "x.pcapng", "x.pcap.gz" -> "x"; anything else -> "".
std::string CaptureStem(const std::string& filename) {
  for (std::string_view ext : {".pcap.gz", ".pcapng.gz", ".pcapng", ".pcap"}) {
    if (filename.size() > ext.size() &&
        filename.compare(filename.size() - ext.size(), ext.size(), ext) == 0) {
      return filename.substr(0, filename.size() - ext.size());
    }
  }
  return "";
}

std::string TestName(const std::string& relative) {
  std::string out;
  for (char c : relative) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      out.push_back(text);
      break;
    }
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

bool GoldenUpdateMode() {
  const char* v = std::getenv("FTPALG_UPDATE_GOLDEN");
  return v != nullptr && std::string_view(v) == "1";
}

std::vector<GoldenCase> FindGoldenCases(const std::string& root,
                                        bool include_without_golden) {
  std::vector<GoldenCase> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string stem = CaptureStem(it->path().filename().string());
    if (stem.empty()) continue;
    const fs::path dir = it->path().parent_path();
    GoldenCase c;
    c.capture = it->path().string();
    c.golden = (dir / (stem + ".golden")).string();
    c.args = (dir / (stem + ".args")).string();
    c.events = (dir / (stem + ".events")).string();
    const bool has_golden = fs::exists(c.golden, ec);
    const bool has_args = fs::exists(c.args, ec);
    if (!has_golden && !(include_without_golden && has_args)) continue;
    c.name = TestName(fs::relative(dir / stem, root, ec).string());
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const GoldenCase& a, const GoldenCase& b) { return a.capture < b.capture; });
  return out;
}

std::vector<std::string> SplitArgs(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  bool comment = false;
  for (char c : text) {
    if (c == '\n') comment = false;
    if (comment) continue;
    if (c == '#') {
      comment = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
      continue;
    } else {
      word += c;
      continue;
    }
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool WriteFile(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

namespace {
// The replay options of c (its .args, the capture, no output file); false
// with *error when the args cannot be read or parsed.
bool CaseOptions(const GoldenCase& c, ReplayOptions* options, std::string* error) {
  std::string args_text;
  if (std::error_code ec; fs::exists(c.args, ec) && !ReadFile(c.args, &args_text)) {
    *error = c.args + ": cannot read";
    return false;
  }
  std::vector<std::string> words = SplitArgs(args_text);
  words.push_back(c.capture);
  words.push_back("/dev/null");  // OUT is required by the CLI; not written
  std::vector<std::string_view> views(words.begin(), words.end());
  if (std::string err = ParseReplayArgs(views, options); !err.empty()) {
    *error = c.args + ": " + err;
    return false;
  }
  options->output.clear();
  return true;
}

// Replays c with the given outputs; "" on success, else the error.
std::string Replay(const ReplayOptions& options, const ReplayOutputs& outputs) {
  ReplaySummary summary;
  return RunReplay(options, outputs, &summary);
}
}  // namespace

std::string RenderTrace(const GoldenCase& c, std::string* error, bool scan_in_place) {
  ReplayOptions options;
  if (!CaseOptions(c, &options, error)) return "";
  options.engine.scan_in_place = scan_in_place;
  std::ostringstream trace;
  ReplayOutputs outputs;
  outputs.trace = &trace;
  if (std::string err = Replay(options, outputs); !err.empty()) {
    *error = err;
    return "";
  }
  return trace.str();
}

std::string RenderEvents(const GoldenCase& c, std::string* error) {
  ReplayOptions options;
  if (!CaseOptions(c, &options, error)) return "";
  std::ostringstream events;
  ReplayOutputs outputs;
  outputs.events = &events;
  if (std::string err = Replay(options, outputs); !err.empty()) {
    *error = err;
    return "";
  }
  return events.str();
}

std::string GoldenHeader(const GoldenCase& c) {
  std::string args_text;
  ReadFile(c.args, &args_text);
  std::string flags;
  for (const std::string& w : SplitArgs(args_text)) flags += " " + w;
  return "# ftpalg-replay golden trace of " + c.capture + "\n# flags:" + flags +
         "\n# regenerate with `make golden-update` and review the diff like code\n";
}

std::string StripComments(std::string_view text) {
  std::string out;
  for (std::string_view line : Lines(text)) {
    if (!line.empty() && line[0] == '#') continue;
    out += line;
    out += '\n';
  }
  return out;
}

std::string LineDiff(std::string_view expected, std::string_view actual,
                     size_t max_lines) {
  const std::vector<std::string_view> a = Lines(expected), b = Lines(actual);
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) {
    ++suf;
  }
  if (pre == a.size() && pre == b.size()) return "";
  const size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  // Edit script over the differing middle: LCS when small, else all -/+.
  std::vector<std::string> script;  // each entry: "-x", "+x" or " x"
  if (n * m <= 4'000'000) {
    std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        lcs[i][j] = a[pre + i] == b[pre + j]
                        ? lcs[i + 1][j + 1] + 1
                        : std::max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        script.push_back(" " + std::string(a[pre + i]));
        ++i, ++j;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        script.push_back("-" + std::string(a[pre + i++]));
      } else {
        script.push_back("+" + std::string(b[pre + j++]));
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) script.push_back("-" + std::string(a[pre + i]));
    for (size_t j = 0; j < m; ++j) script.push_back("+" + std::string(b[pre + j]));
  }
  std::string out = "--- expected (baseline)\n+++ actual (replay)\n@@ trace line " +
                    std::to_string(pre + 1) + " @@\n";
  const size_t ctx = std::min<size_t>(pre, 3);
  for (size_t k = pre - ctx; k < pre; ++k) out += " " + std::string(a[k]) + "\n";
  size_t shown = 0;
  for (const std::string& s : script) {
    if (shown++ == max_lines) {
      out += "... (" + std::to_string(script.size() - max_lines) + " more lines)\n";
      break;
    }
    out += s + "\n";
  }
  return out;
}

}  // namespace ftpalg::testing
