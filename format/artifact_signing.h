// Optional Ed25519 signatures over a whole artifact (pjit-compile --sign, pjit-run --verify).
// The content hashes of sections and blobs are XXH3, which anyone who can write an artifact can
// recompute, so they catch damage, not tampering; a signature made with a private key catches
// both, and is checked before any native code is mapped. Keys are PEM files as OpenSSL writes
// them:
//   openssl genpkey -algorithm ed25519 -out key.pem
//   openssl pkey -in key.pem -pubout -out key.pub.pem
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/artifact.h"
#include "format/status.h"

namespace pjit {

class ArtifactReader;

struct KeySignature {
  std::string algorithm;   // "ed25519"
  std::string public_key;  // the signer's raw public key (32 bytes)
  std::string value;       // the raw signature (64 bytes)
};

// A raw public key in hex, as pjit-inspect shows the signer and errors name keys.
std::string KeyHex(std::string_view public_key);

// What a signature covers: SHA-256 over the format version, the producer, every section's
// kind and bytes (in kind order) and the whole blob area, each length-prefixed.
struct SignedContent {
  uint32_t format_major = 0, format_minor = 0;
  const Producer* producer = nullptr;
  std::vector<std::pair<uint8_t, std::string_view>> sections;
  std::string_view blob_area;
};
std::string SigningDigest(const SignedContent& content);

// Signs `content` with the Ed25519 private key in PEM file `private_key_path`.
StatusOr<KeySignature> SignArtifact(const SignedContent& content, const std::string& private_key_path);

// Checks that `reader`'s artifact carries a signature by the key in PEM file `public_key_path`
// (a public key, or a private key whose public half is meant) over exactly its content.
Status VerifyArtifact(const ArtifactReader& reader, const std::string& public_key_path);

}  // namespace pjit
