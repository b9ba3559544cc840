// Netlink attribute helpers shared by the message builders: bounds-checked
// iteration (libmnl's macros do not compile as C++) and a readable,
// schema-driven dump for tests and debug logs.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <libmnl/libmnl.h>

namespace ftpalg {

// Calls f(const nlattr*) for every well-formed attribute in data[0..len).
template <typename F>
void ForEachAttribute(const void* data, size_t len, F&& f) {
  const auto* base = static_cast<const uint8_t*>(data);
  size_t off = 0;
  while (off + sizeof(nlattr) <= len) {
    const auto* a = reinterpret_cast<const nlattr*>(base + off);
    if (!mnl_attr_ok(a, static_cast<int>(len - off))) return;
    f(a);
    off += MNL_ALIGN(a->nla_len);
  }
}
// ... inside a nested attribute.
template <typename F>
void ForEachNested(const nlattr* nest, F&& f) {
  ForEachAttribute(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest),
                   f);
}
// ... of a message, after a family header of extra_len bytes.
template <typename F>
void ForEachMessageAttribute(const nlmsghdr* nlh, size_t extra_len, F&& f) {
  const size_t off = MNL_ALIGN(mnl_nlmsg_size(extra_len));
  if (nlh->nlmsg_len < off) return;
  ForEachAttribute(reinterpret_cast<const uint8_t*>(nlh) + off,
                   nlh->nlmsg_len - off, f);
}

enum class AttrKind : uint8_t {
  kNested,
  kU8,
  kBe16,
  kBe32,
  kBe64,
  kIpv4,
  kIpv6,
  kString,
  kBinary,  // hex bytes
  kFlag,    // no payload expected
};

struct AttrSchema;

struct AttrSpec {
  uint16_t type;
  const char* name;
  AttrKind kind;
  const AttrSchema* child = nullptr;  // for kNested
};

struct AttrSchema {
  const AttrSpec* specs;
  size_t count;
};

// Appends the attributes in data[0..len) to *out, one per line, indented by
// 2*depth spaces. Unknown types print as "attr#N len=L"; flags bits
// (NLA_F_NESTED, NLA_F_NET_BYTEORDER) are shown as "[nested]"/"[net]" only
// when they are surprising (nested flag missing on a nested attribute, or
// net-order flag present), so a dump stays short and still catches mistakes.
void DumpAttributes(const void* data, size_t len, const AttrSchema& schema,
                    int depth, std::string* out);

}  // namespace ftpalg
