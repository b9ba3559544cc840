// SPDX-License-Identifier: GPL-2.0-or-later
// bench/pcap_loop: the baseline of the replay benchmark. Reads a capture with
// libpcap and writes every record unchanged to another file, the same way
// ftpalg-replay reads (nanosecond precision) and writes (pcap_dump, then
// fsync like ftpalg-replay's atomic writer), with no engine in between.
//
//   pcap_loop IN.pcap OUT.pcap
#include <pcap/pcap.h>

#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pcap_loop IN.pcap OUT.pcap\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* in = pcap_open_offline_with_tstamp_precision(
      argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
  if (in == nullptr) {
    std::fprintf(stderr, "pcap_loop: %s\n", err);
    return 1;
  }
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(
      pcap_datalink(in), pcap_snapshot(in), PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* out = pcap_dump_open(dead, argv[2]);
  if (out == nullptr) {
    std::fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(dead));
    return 1;
  }
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  unsigned long long n = 0;
  int rc;
  while ((rc = pcap_next_ex(in, &hdr, &data)) == 1) {
    pcap_dump(reinterpret_cast<u_char*>(out), hdr, data);
    ++n;
  }
  if (rc != PCAP_ERROR_BREAK) {
    std::fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(in));
    return 1;
  }
  if (pcap_dump_flush(out) != 0 || fsync(fileno(pcap_dump_file(out))) != 0) {
    std::fprintf(stderr, "pcap_loop: flush failed\n");
    return 1;
  }
  pcap_dump_close(out);
  pcap_close(dead);
  pcap_close(in);
  std::fprintf(stderr, "pcap_loop: %llu records\n", n);
  return 0;
}
