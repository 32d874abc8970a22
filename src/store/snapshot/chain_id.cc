#include "oci/digest.h"
#include "store/snapshot/snapshotter.h"
#include "util/sha256.h"

namespace berth::store::snapshot {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kView:
      return "view";
    case Kind::kActive:
      return "active";
    case Kind::kCommitted:
      return "committed";
  }
  return "unknown";
}

Result<std::string> ChainId(std::string_view parent_chain, std::string_view diff_id) {
  oci::Digest diff = BERTH_TRY_CTX(oci::Digest::Parse(diff_id), "chain id");
  if (parent_chain.empty()) return diff.str();
  oci::Digest parent = BERTH_TRY_CTX(oci::Digest::Parse(parent_chain), "chain id");
  std::string hex = BERTH_TRY(Sha256Hex(parent.str() + " " + diff.str()));
  return "sha256:" + hex;
}

Result<std::string> ChainId(const std::vector<std::string>& diff_ids) {
  if (diff_ids.empty()) return Error::InvalidArgument("chain id of no layers");
  std::string chain;
  for (const auto& d : diff_ids) chain = BERTH_TRY(ChainId(chain, d));
  return chain;
}

}  // namespace berth::store::snapshot
