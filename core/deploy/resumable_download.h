// core/deploy/resumable_download.h — one remote file to one local path: resumed with HTTP ranges after a cut,
// retried, and verified (size, MD5 or SHA-256 when the source states them) before it takes its final name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "http/http_client.h"

namespace llmatc::deploy {

struct ExpectedContent {
    int64_t size = -1;       // -1 = unknown
    std::string md5_hex;     // "" = not stated (S3 single-part ETags, GCS md5Hash)
    std::string sha256_hex;  // "" = not stated (Hugging Face LFS ETags)
};

// Builds the request for the bytes from `offset` on (the downloader adds the Range header itself). Called again
// for every attempt, so signatures and tokens are fresh.
using RequestFactory = std::function<http::HttpRequest(uint64_t offset)>;

// Downloads into `dest` through `dest` + ".incomplete" (kept between runs, so a later run resumes it). Up to 5
// consecutive attempts without progress; an attempt that made progress resets the count. Throws llmatc::Error:
// PERMISSION for 401/403, NOT_FOUND for 404, IO for other statuses and transport failures, CORRUPT when the
// result does not match `expected` (the partial file is then deleted). `label` names the file in messages.
void download_resumable(const RequestFactory& make_request, const std::filesystem::path& dest,
                        const ExpectedContent& expected, const std::string& label);

// Hex digest ("md5" or "sha256") of a file, streamed.
std::string file_digest_hex(const std::filesystem::path& path, const char* algorithm);

}  // namespace llmatc::deploy
