// core/deploy/bucket_download.h — what s3:// and gs:// downloads share: a listed object, and mirroring a listing into
// a cache folder with a manifest of ETags so an unchanged object is not fetched twice.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "deploy/resumable_download.h"

namespace llmatc::deploy {

struct ListedObject {
    std::string key;       // full object key
    std::string relative;  // key without the prefix: the local file name
    int64_t size = -1;
    std::string etag;      // opaque version tag, recorded in the manifest
    ExpectedContent expected;
};

// Downloads the serving files among `objects` into `dir` (already-present files with the same ETag and size are
// kept), then writes the manifest. `request_for(object, offset)` builds each GET. Throws llmatc::Error.
void mirror_objects(const std::vector<ListedObject>& objects, const std::filesystem::path& dir, const std::string& url,
                    const std::function<http::HttpRequest(const ListedObject&, uint64_t)>& request_for);

}  // namespace llmatc::deploy
