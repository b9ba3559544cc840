// SPDX-License-Identifier: GPL-2.0-or-later
#include "adapters/nlattr.h"

#include <libmnl/libmnl.h>

#include <cstdio>

#include "ftpalg/inet.h"

namespace ftpalg {
namespace {

const AttrSpec* Find(const AttrSchema& schema, uint16_t type) {
  for (size_t i = 0; i < schema.count; ++i) {
    if (schema.specs[i].type == type) return &schema.specs[i];
  }
  return nullptr;
}

void AppendHex(const uint8_t* p, size_t n, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    *out += kHex[p[i] >> 4];
    *out += kHex[p[i] & 0xf];
  }
}

void AppendValue(const AttrSpec& spec, const nlattr* a, std::string* out) {
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  const size_t n = mnl_attr_get_payload_len(a);
  char tmp[64];
  auto bad = [&] {
    *out += "<len ";
    *out += std::to_string(n);
    *out += ">";
  };
  switch (spec.kind) {
    case AttrKind::kNested:
    case AttrKind::kFlag:
      return;
    case AttrKind::kU8:
      if (n < 1) return bad();
      *out += std::to_string(p[0]);
      return;
    case AttrKind::kBe16:
      if (n != 2) return bad();
      *out += std::to_string((p[0] << 8) | p[1]);
      return;
    case AttrKind::kBe32:
      if (n != 4) return bad();
      *out += std::to_string((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                             (uint32_t{p[2]} << 8) | p[3]);
      return;
    case AttrKind::kBe64: {
      if (n != 8) return bad();
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
      *out += std::to_string(v);
      return;
    }
    case AttrKind::kIpv4:
    case AttrKind::kIpv6: {
      const Family f = spec.kind == AttrKind::kIpv4 ? Family::kV4 : Family::kV6;
      if (n != (f == Family::kV4 ? 4u : 16u)) return bad();
      const size_t len = FormatAddress(IpAddress::FromBytes(f, p), tmp,
                                       sizeof(tmp));
      out->append(tmp, len);
      return;
    }
    case AttrKind::kString: {
      size_t len = 0;
      while (len < n && p[len] != 0) ++len;
      *out += '"';
      out->append(reinterpret_cast<const char*>(p), len);
      *out += '"';
      if (len == n) *out += " <no NUL>";
      return;
    }
    case AttrKind::kBinary:
      AppendHex(p, n, out);
      return;
  }
}

}  // namespace

void DumpAttributes(const void* data, size_t len, const AttrSchema& schema,
                    int depth, std::string* out) {
  const auto* base = static_cast<const uint8_t*>(data);
  size_t next = 0;
  for (size_t off = 0; off + sizeof(nlattr) <= len; off = next) {
    const auto* a = reinterpret_cast<const nlattr*>(base + off);
    if (!mnl_attr_ok(a, static_cast<int>(len - off))) {
      *out += std::string(static_cast<size_t>(depth) * 2, ' ') + "<truncated>\n";
      break;
    }
    next = off + MNL_ALIGN(a->nla_len);
    out->append(static_cast<size_t>(depth) * 2, ' ');
    const uint16_t type = mnl_attr_get_type(a);
    const AttrSpec* spec = Find(schema, type);
    if (spec == nullptr) {
      *out += "attr#" + std::to_string(type) + " len=" +
              std::to_string(mnl_attr_get_payload_len(a)) + "\n";
      continue;
    }
    *out += spec->name;
    const bool nested_flag = (a->nla_type & NLA_F_NESTED) != 0;
    if (spec->kind == AttrKind::kNested) {
      if (!nested_flag) *out += " [not-nested-flag]";
      *out += "\n";
      if (spec->child != nullptr) {
        DumpAttributes(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
                       *spec->child, depth + 1, out);
      }
      continue;
    }
    if (nested_flag) *out += " [nested]";
    if (a->nla_type & NLA_F_NET_BYTEORDER) *out += " [net]";
    if (spec->kind != AttrKind::kFlag) *out += "=";
    AppendValue(*spec, a, out);
    *out += "\n";
  }
}

}  // namespace ftpalg
