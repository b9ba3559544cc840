// Engine counters: one plain struct, listed once through an X-macro so that
// printing never forgets a counter.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>

namespace ftpalg {

#define FTPALG_STATS(X)                                                       \
  X(packets)                /* packets seen by Process */                     \
  X(control_packets)        /* packets of a control connection */             \
  X(malformed_packets)      /* unparseable IP/TCP, passed unchanged */        \
  X(modified_packets)       /* packets whose bytes changed */                 \
  X(dropped_packets)        /* packets the engine asked to drop */            \
  X(sessions_created)                                                        \
  X(sessions_picked_up)     /* first seen mid-stream (no SYN) */              \
  X(sessions_restored)      /* picked up with offsets kept by a previous run */ \
  X(sessions_ended)         /* FIN/RST both ways, after linger */             \
  X(sessions_expired)       /* idle timeout */                                \
  X(sessions_evicted)       /* table full: least recently used dropped */     \
  X(rewrites)               /* announcements rewritten */                     \
  X(rewrites_reapplied)     /* retransmissions re-rewritten identically */    \
  X(expectations)           /* expectations installed */                      \
  X(expectations_failed)                                                      \
  X(expectations_evicted)   /* per-session or global cap hit */               \
  X(expectations_expired)                                                     \
  X(port_remaps)            /* public port taken: another port chosen */      \
  X(refused)                /* announcements refused (any reason) */          \
  X(refused_bounce)         /* address is not the sender's */                 \
  X(refused_low_port)                                                         \
  X(refused_unsolicited)    /* 227/228/229 with no PASV/EPSV/LPSV pending */  \
  X(refused_not_ftp)        /* dialogue did not start as FTP */               \
  X(refused_parse)          /* parser refused the line */                     \
  X(refused_family)         /* EPRT family != connection family */            \
  X(refused_no_public)      /* inside address, no public address known */     \
  X(refused_split)          /* announcement split and not completed in time */ \
  X(refused_gap)            /* holes given up: later bytes passed unparsed */ \
  X(gap_resumed)            /* parsing resumed after a given-up hole */       \
  X(gap_filled)             /* holes filled: kept segments forwarded in order */ \
  X(refused_limit)          /* expectation limits */                          \
  X(overlong_lines)         /* lines over the cap: passed, no state */        \
  X(tls_sessions)           /* AUTH accepted: TLS records followed */         \
  X(tls_cleartext_resumed)  /* a direction back to cleartext (CCC): parsed */ \
  X(tls_framing_lost)       /* hole while in TLS: that direction never parsed */ \
  X(tls_unrecognised)       /* neither TLS record nor FTP line: stopped */    \
  X(holds)                  /* incomplete announcements held back */          \
  X(hold_merges)            /* held bytes merged with their continuation */   \
  X(hold_timeouts)          /* held bytes released unchanged */               \
  X(hold_pool_exhausted)                                                      \
  X(out_of_order)           /* segments kept beyond a hole */                 \
  X(out_of_window)          /* segments too far ahead: payload not kept */    \
  X(isn_rebased)            /* SYN-ACK with a new ISN before any data */      \
  X(syn_stray)              /* SYN with another ISN after data: ignored */    \
  X(stale_before_synack)    /* server segments before the SYN-ACK: passed */  \
  X(rst_ignored)            /* RST outside the window: session kept */        \
  X(ledger_trims)           /* segment cut before a rewrite with no room */   \
  X(ledger_blocks)          /* ledger blocks borrowed for rewrite bursts */   \
  X(partial_span_trims)     /* retransmission cut inside a rewrite span */    \
  X(ledger_overflow)        /* change points forced out of a full ledger */   \
  X(oversize_after_rewrite) /* packet grew beyond max_packet_len */

struct Stats {
#define FTPALG_STATS_FIELD(name) uint64_t name = 0;
  FTPALG_STATS(FTPALG_STATS_FIELD)
#undef FTPALG_STATS_FIELD
  // "name=value name=value ..." with every counter, in declaration order.
  std::string ToString(bool nonzero_only = false) const;
};

}  // namespace ftpalg
