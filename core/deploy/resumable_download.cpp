// core/deploy/resumable_download.cpp — ranged, retried, verified downloads.
#include "deploy/resumable_download.h"

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "cloud_auth/crypto.h"
#include "deploy/paths.h"
#include "deploy/progress_bar.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace fs = std::filesystem;

std::string file_digest_hex(const fs::path& path, const char* algorithm) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const EVP_MD* md = EVP_get_digestbyname(algorithm);
    if (!ctx || !md || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
        throw Error(LLMATC_ERR_INTERNAL, std::string("OpenSSL has no ") + algorithm + " digest");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(LLMATC_ERR_IO, "cannot read " + path.string());
    std::string buf(1 << 20, '\0');
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &len);
    return cloud_auth::to_hex(std::string(reinterpret_cast<char*>(digest), len));
}

namespace {

[[noreturn]] void throw_for_status(const http::HttpResponse& r, const std::string& label) {
    std::string detail = r.body.substr(0, 200);
    for (char& c : detail)
        if (c == '\n' || c == '\r') c = ' ';
    const std::string what = label + ": HTTP " + std::to_string(r.status) + (detail.empty() ? "" : " — " + detail);
    if (r.status == 401 || r.status == 403) throw Error(LLMATC_ERR_PERMISSION, what);
    if (r.status == 404) throw Error(LLMATC_ERR_NOT_FOUND, what);
    throw Error(LLMATC_ERR_IO, what);
}

void verify(const fs::path& partial, const ExpectedContent& expected, const std::string& label) {
    auto fail = [&](const std::string& why) {
        fs::remove(partial);
        throw Error(LLMATC_ERR_CORRUPT, label + ": downloaded file " + why + "; the partial file was deleted, run again");
    };
    const auto size = static_cast<int64_t>(fs::file_size(partial));
    if (expected.size >= 0 && size != expected.size)
        fail("has " + std::to_string(size) + " bytes, the source says " + std::to_string(expected.size));
    if (!expected.sha256_hex.empty() && file_digest_hex(partial, "sha256") != expected.sha256_hex)
        fail("does not match its SHA-256 " + expected.sha256_hex);
    if (!expected.md5_hex.empty() && file_digest_hex(partial, "md5") != expected.md5_hex)
        fail("does not match its MD5 " + expected.md5_hex);
}

}  // namespace

void download_resumable(const RequestFactory& make_request, const fs::path& dest, const ExpectedContent& expected,
                        const std::string& label) {
    make_private_dir(dest.parent_path());
    const fs::path partial = dest.string() + ".incomplete";
    uint64_t offset = fs::exists(partial) ? fs::file_size(partial) : 0;
    if (expected.size >= 0 && offset > static_cast<uint64_t>(expected.size)) {
        fs::remove(partial);
        offset = 0;
    }
    if (offset > 0) spdlog::info("resuming {} at byte {}", label, offset);
    ProgressBar bar(label, expected.size > 0 ? static_cast<uint64_t>(expected.size) : 0, offset);
    int failures_without_progress = 0;
    for (;;) {
        const bool complete_already = expected.size >= 0 && offset == static_cast<uint64_t>(expected.size) && offset > 0;
        if (complete_already) break;
        http::HttpRequest req = make_request(offset);
        if (offset > 0) req.headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
        std::unique_ptr<std::FILE, decltype(&std::fclose)> out(std::fopen(partial.c_str(), "ab"), std::fclose);
        if (!out) throw Error(LLMATC_ERR_IO, "cannot write " + partial.string());
        try {
            http::HttpResponse r = http::http_download(req, out.get(), [&](uint64_t n) { bar.add(n); });
            std::fflush(out.get());
            out.reset();
            offset = fs::file_size(partial);
            if (r.status == 416 && offset > 0) break;  // nothing past what we have: the partial file is whole
            if (r.status < 200 || r.status >= 300) throw_for_status(r, label);
            // A body shorter than the stated size without a transport error: the server closed early; resume.
            if (expected.size >= 0 && offset < static_cast<uint64_t>(expected.size)) {
                if (++failures_without_progress >= 5)
                    throw Error(LLMATC_ERR_IO, label + ": the server keeps ending the file early");
                continue;
            }
            break;
        } catch (const http::HttpTransportError& e) {
            out.reset();
            const uint64_t now = fs::exists(partial) ? fs::file_size(partial) : 0;
            failures_without_progress = now > offset ? 0 : failures_without_progress + 1;
            offset = now;
            if (failures_without_progress >= 5)
                throw Error(LLMATC_ERR_IO, label + ": " + e.what() + " (gave up after 5 attempts; run again to resume)");
            spdlog::warn("{}: {}; resuming at byte {}", label, e.what(), offset);
            std::this_thread::sleep_for(std::chrono::milliseconds(300 * (failures_without_progress + 1)));
        }
    }
    bar.finish();
    verify(partial, expected, label);
    fs::rename(partial, dest);
}

}  // namespace llmatc::deploy
