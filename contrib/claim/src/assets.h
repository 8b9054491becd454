// The claim page's files, compiled into the server from contrib/claim/web/
// (the build generates their definition), so a deployment is one binary.
//
// Thread-safety: constant data.
#ifndef GIFTCODE_CLAIM_ASSETS_H
#define GIFTCODE_CLAIM_ASSETS_H

#include <string_view>
#include <vector>

namespace giftcode::claim {

struct Asset {
    std::string_view path;         //!< "/claim.js"; the page is "/index.html"
    std::string_view content_type;
    std::string_view body;
};

const std::vector<Asset>& Assets();

//! The asset served at `path` ("/" is "/index.html"), or nullptr.
const Asset* FindAsset(std::string_view path);

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_ASSETS_H
