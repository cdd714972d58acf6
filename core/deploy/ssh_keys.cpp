// core/deploy/ssh_keys.cpp — ed25519 key generation with OpenSSL, written in OpenSSH's own key formats.
#include "deploy/ssh_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <memory>

#include "cloud_auth/crypto.h"
#include "deploy/paths.h"
#include "util/error.h"

namespace llmatc::deploy {

namespace {

void put_u32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_string(std::string& out, const std::string& s) {
    put_u32(out, static_cast<uint32_t>(s.size()));
    out += s;
}

}  // namespace

SshKeyText generate_ed25519_key_text(const std::string& comment) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"),
                                                            EVP_PKEY_free);
    if (!key) throw Error(LLMATC_ERR_INTERNAL, "OpenSSL could not generate an ed25519 key");
    unsigned char seed[32], pub[32];
    size_t seed_len = sizeof seed, pub_len = sizeof pub;
    if (EVP_PKEY_get_raw_private_key(key.get(), seed, &seed_len) != 1 ||
        EVP_PKEY_get_raw_public_key(key.get(), pub, &pub_len) != 1 || seed_len != 32 || pub_len != 32)
        throw Error(LLMATC_ERR_INTERNAL, "OpenSSL could not export the ed25519 key");
    const std::string pub_bytes(reinterpret_cast<char*>(pub), 32), seed_bytes(reinterpret_cast<char*>(seed), 32);

    std::string pub_blob;
    put_string(pub_blob, "ssh-ed25519");
    put_string(pub_blob, pub_bytes);

    uint32_t check = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check);
    std::string priv;
    put_u32(priv, check);
    put_u32(priv, check);
    put_string(priv, "ssh-ed25519");
    put_string(priv, pub_bytes);
    put_string(priv, seed_bytes + pub_bytes);  // OpenSSH stores the 64-byte "secret key" = seed || public
    put_string(priv, comment);
    for (char pad = 1; priv.size() % 8 != 0; ++pad) priv.push_back(pad);

    std::string blob("openssh-key-v1", 15);  // includes the terminating NUL
    put_string(blob, "none");
    put_string(blob, "none");
    put_string(blob, "");
    put_u32(blob, 1);
    put_string(blob, pub_blob);
    put_string(blob, priv);

    const std::string b64 = cloud_auth::base64(blob);
    std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
    for (size_t i = 0; i < b64.size(); i += 70) pem += b64.substr(i, 70) + "\n";
    pem += "-----END OPENSSH PRIVATE KEY-----\n";
    OPENSSL_cleanse(seed, sizeof seed);
    return {pem, "ssh-ed25519 " + cloud_auth::base64(pub_blob) + " " + comment + "\n"};
}

SshKeyPair ensure_ssh_key_pair(const std::filesystem::path& dir) {
    SshKeyPair pair{dir / "llm-atc-key", dir / "llm-atc-key.pub"};
    if (std::filesystem::exists(pair.private_key) && std::filesystem::exists(pair.public_key)) return pair;
    make_private_dir(dir);
    const SshKeyText text = generate_ed25519_key_text("llm-atc");
    write_file_atomically(pair.private_key, text.private_key_text, 0600);
    write_file_atomically(pair.public_key, text.public_key_text, 0600);
    return pair;
}

}  // namespace llmatc::deploy
