// A minimal streaming JSON writer: enough for pjit-inspect's --json views, deterministic
// (keys in the order written), strings escaped per RFC 8259.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace pjit {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { Value(); out_ += '{'; first_.push_back(true); return *this; }
  JsonWriter& EndObject() { out_ += '}'; first_.pop_back(); return *this; }
  JsonWriter& BeginArray() { Value(); out_ += '['; first_.push_back(true); return *this; }
  JsonWriter& EndArray() { out_ += ']'; first_.pop_back(); return *this; }
  JsonWriter& Key(std::string_view k) {
    Separator();
    AppendString(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view s) { Value(); AppendString(s); return *this; }
  JsonWriter& Int(int64_t v) { Value(); out_ += std::to_string(v); return *this; }
  JsonWriter& Uint(uint64_t v) { Value(); out_ += std::to_string(v); return *this; }
  JsonWriter& Bool(bool v) { Value(); out_ += v ? "true" : "false"; return *this; }
  JsonWriter& Double(double v) {
    Value();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    out_ += buf;
    return *this;
  }
  JsonWriter& Null() { Value(); out_ += "null"; return *this; }

  std::string Finish() { return out_ + "\n"; }

 private:
  void Separator() {
    if (!first_.empty() && !first_.back()) out_ += ',';
    if (!first_.empty()) first_.back() = false;
  }
  void Value() {
    if (after_key_) after_key_ = false;
    else Separator();
  }
  void AppendString(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\t': out_ += "\\t"; break;
        case '\r': out_ += "\\r"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            static const char* hex = "0123456789abcdef";
            out_ += "\\u00";
            out_ += hex[(c >> 4) & 0xf];
            out_ += hex[c & 0xf];
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace pjit
