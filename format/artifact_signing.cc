#include "format/artifact_signing.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <memory>

#include "format/artifact_reader.h"
#include "format/file_util.h"

namespace pjit {
namespace {

constexpr std::string_view kDomain = "pjit artifact signature 1";

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// OpenSSL's last error, for a message.
std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// The Ed25519 key in PEM file `path`: a private key, or with `public_only` also a public one.
StatusOr<Key> ReadKey(const std::string& path, bool public_only) {
  PJIT_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path));
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return Internal("cannot read '", path, "': ", OpenSslError());
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key && public_only) {
    ERR_clear_error();
    BIO_reset(bio.get());
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!key)
    return InvalidArgument(path, ": not a PEM ", public_only ? "public or private" : "private",
                           " key (make one with: openssl genpkey -algorithm ed25519 -out key.pem)");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) return InvalidArgument(path, ": not an Ed25519 key");
  return key;
}

StatusOr<std::string> RawPublicKey(const EVP_PKEY* key) {
  std::string raw(32, '\0');
  size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 || size != raw.size())
    return Internal("cannot read an Ed25519 public key: ", OpenSslError());
  return raw;
}

void AppendU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void AppendBytes(std::string& out, std::string_view bytes) {
  AppendU64(out, bytes.size());
  out.append(bytes);
}

}  // namespace

std::string KeyHex(std::string_view public_key) {
  std::string out;
  char b[3];
  for (char c : public_key) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(c));
    out += b;
  }
  return out;
}

std::string SigningDigest(const SignedContent& c) {
  // Small fields go into a header hashed first; section data and blobs stream after it.
  std::string header(kDomain);
  AppendU64(header, c.format_major);
  AppendU64(header, c.format_minor);
  const Producer& p = *c.producer;
  AppendBytes(header, p.tool);
  AppendBytes(header, p.version);
  AppendU64(header, p.flags.size());
  for (const std::string& f : p.flags) AppendBytes(header, f);
  AppendBytes(header, p.source_name);
  AppendU64(header, p.source_hash);
  AppendU64(header, c.sections.size());
  MdContext md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(md.get(), header.data(), header.size());
  for (const auto& [kind, data] : c.sections) {
    std::string prefix(1, static_cast<char>(kind));
    AppendU64(prefix, data.size());
    EVP_DigestUpdate(md.get(), prefix.data(), prefix.size());
    EVP_DigestUpdate(md.get(), data.data(), data.size());
  }
  std::string area;
  AppendU64(area, c.blob_area.size());
  EVP_DigestUpdate(md.get(), area.data(), area.size());
  EVP_DigestUpdate(md.get(), c.blob_area.data(), c.blob_area.size());
  std::string digest(32, '\0');
  unsigned int size = 0;
  EVP_DigestFinal_ex(md.get(), reinterpret_cast<unsigned char*>(digest.data()), &size);
  return digest;
}

StatusOr<KeySignature> SignArtifact(const SignedContent& content, const std::string& private_key_path) {
  PJIT_ASSIGN_OR_RETURN(Key key, ReadKey(private_key_path, /*public_only=*/false));
  std::string digest = SigningDigest(content);
  MdContext md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string value(64, '\0');
  size_t size = value.size();
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(value.data()), &size,
                     reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) != 1)
    return Internal("cannot sign with '", private_key_path, "': ", OpenSslError());
  value.resize(size);
  PJIT_ASSIGN_OR_RETURN(std::string public_key, RawPublicKey(key.get()));
  return KeySignature{"ed25519", std::move(public_key), std::move(value)};
}

Status VerifyArtifact(const ArtifactReader& reader, const std::string& public_key_path) {
  PJIT_ASSIGN_OR_RETURN(Key key, ReadKey(public_key_path, /*public_only=*/true));
  PJIT_ASSIGN_OR_RETURN(std::string trusted, RawPublicKey(key.get()));
  const std::optional<KeySignature>& s = reader.key_signature();
  if (!s) return InvalidArgument(reader.name(), ": not signed (compile it with pjit-compile --sign)");
  if (s->algorithm != "ed25519") return InvalidArgument(reader.name(), ": signed with '", s->algorithm, "', not ed25519");
  if (s->public_key != trusted)
    return InvalidArgument(reader.name(), ": signed by key ", KeyHex(s->public_key), ", not by ", public_key_path, " (",
                           KeyHex(trusted), ")");
  std::string digest = SigningDigest(reader.signed_content());
  MdContext md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return Internal("cannot verify with '", public_key_path, "': ", OpenSslError());
  int ok = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(s->value.data()), s->value.size(),
                            reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  ERR_clear_error();
  if (ok != 1) return InvalidArgument(reader.name(), ": the signature does not match the content (the artifact was changed after signing)");
  return OkStatus();
}

}  // namespace pjit
