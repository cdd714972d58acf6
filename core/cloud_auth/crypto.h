// core/cloud_auth/crypto.h — the hashing, MAC, encoding and signature primitives cloud request signing needs (OpenSSL).
#pragma once

#include <string>
#include <string_view>

namespace llmatc::cloud_auth {

// SHA-256 of `data` as 32 raw bytes / as 64 lowercase hex digits.
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// HMAC-SHA256(key, data) as 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lowercase hex of raw bytes.
std::string to_hex(std::string_view bytes);

// Base64 (RFC 4648, with padding) and base64url (no padding, as JWTs use).
std::string base64(std::string_view bytes);
std::string base64url(std::string_view bytes);

// RSASSA-PKCS1-v1_5 with SHA-256 over `data` using a PEM private key (PKCS#8 or PKCS#1).
// Throws std::runtime_error naming the problem when the key cannot be read; never includes the key in the message.
std::string rs256_sign(std::string_view pem_private_key, std::string_view data);

}  // namespace llmatc::cloud_auth
