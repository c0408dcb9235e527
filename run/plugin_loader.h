// Finds and loads platform plugins (shared libraries speaking run/include/pjit/plugin.h) and
// wraps their C handles in owning C++ objects that turn PJIT_Errors into Status.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "format/literal.h"
#include "format/status.h"
#include "pjit/plugin.h"

namespace pjit {

class Plugin {
 public:
  // `name_or_path`: a platform name ("cpu" loads libpjit_plugin_cpu.so from the directories of
  // PluginSearchPath()) or a path to a plugin file (it contains a '/').
  static StatusOr<std::shared_ptr<Plugin>> Load(const std::string& name_or_path);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  // The plugin's table, zero-padded past its struct_size: an optional function a plugin
  // built against an older minor does not have reads as null.
  const PJIT_Api& api() const { return api_; }
  const std::string& path() const { return path_; }
  uint32_t abi_minor() const { return api_.abi_minor; }

  // Status of a call's result; destroys the error.
  Status Check(PJIT_Error* error) const;

 private:
  Plugin() = default;
  void* handle_ = nullptr;
  PJIT_Api api_{};
  std::string path_;
};

// Where plugins are looked for, in order: the directories of $PJIT_PLUGIN_PATH (':'-separated),
// then lib/pjit/plugins beside the running program's bin/ (the install and build trees), then
// the install prefix's.
std::vector<std::string> PluginSearchPath();

// The platform names found on the search path ("cpu", "interp", ...), sorted.
std::vector<std::string> AvailablePlatforms();

}  // namespace pjit
