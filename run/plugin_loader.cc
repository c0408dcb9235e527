#include "run/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

namespace pjit {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPrefix = "libpjit_plugin_";
constexpr const char* kSuffix = ".so";

Status FromCode(PJIT_ErrorCode code, std::string message) {
  switch (code) {
    case PJIT_OK: return OkStatus();
    case PJIT_INVALID_ARGUMENT: return Status(StatusCode::kInvalidArgument, std::move(message));
    case PJIT_NOT_FOUND: return Status(StatusCode::kNotFound, std::move(message));
    case PJIT_UNIMPLEMENTED: return Status(StatusCode::kUnimplemented, std::move(message));
    case PJIT_IO: return Status(StatusCode::kIo, std::move(message));
    case PJIT_UNAVAILABLE: return Status(StatusCode::kUnavailable, std::move(message));
    default: return Status(StatusCode::kInternal, std::move(message));
  }
}

}  // namespace

std::vector<std::string> PluginSearchPath() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("PJIT_PLUGIN_PATH")) {
    std::string s = env;
    for (size_t start = 0; start <= s.size();) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "lib" / "pjit" / "plugins").string());
  dirs.push_back(PJIT_INSTALL_PLUGIN_DIR);
  return dirs;
}

std::vector<std::string> AvailablePlatforms() {
  std::set<std::string> names;
  for (const std::string& dir : PluginSearchPath()) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string f = it->path().filename().string();
      if (f.starts_with(kPrefix) && f.ends_with(kSuffix) && f.size() > std::strlen(kPrefix) + std::strlen(kSuffix))
        names.insert(f.substr(std::strlen(kPrefix), f.size() - std::strlen(kPrefix) - std::strlen(kSuffix)));
    }
  }
  return {names.begin(), names.end()};
}

StatusOr<std::shared_ptr<Plugin>> Plugin::Load(const std::string& name_or_path) {
  std::string path;
  if (name_or_path.find('/') != std::string::npos) {
    path = name_or_path;
  } else {
    if (name_or_path.empty() || name_or_path.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      return InvalidArgument("--platform '", name_or_path, "': not a platform name");
    std::string file = kPrefix + name_or_path + kSuffix;
    for (const std::string& dir : PluginSearchPath()) {
      std::error_code ec;
      if (fs::is_regular_file(fs::path(dir) / file, ec)) {
        path = (fs::path(dir) / file).string();
        break;
      }
    }
    if (path.empty()) {
      std::string have;
      for (const std::string& p : AvailablePlatforms()) have += (have.empty() ? "" : ", ") + p;
      std::string searched;
      for (const std::string& dir : PluginSearchPath()) searched += (searched.empty() ? "" : ", ") + dir;
      return NotFound("--platform ", name_or_path, ": no plugin ", file, " in ", searched,
                      " (PJIT_PLUGIN_PATH first, then beside the tool, then the install prefix); platforms found: ",
                      have.empty() ? "none" : have);
    }
  }
  std::shared_ptr<Plugin> plugin(new Plugin());
  plugin->path_ = path;
  plugin->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!plugin->handle_) return InvalidArgument(path, ": cannot load plugin: ", dlerror());
  auto get = reinterpret_cast<PJIT_GetApiFn>(dlsym(plugin->handle_, PJIT_GET_API_SYMBOL));
  if (!get) return InvalidArgument(path, ": not a pjit plugin (no ", PJIT_GET_API_SYMBOL, ")");
  const PJIT_Api* api = get();
  if (!api) return InvalidArgument(path, ": ", PJIT_GET_API_SYMBOL, " returned no table");
  if (api->struct_size < offsetof(PJIT_Api, abi_minor) + sizeof(uint32_t))
    return InvalidArgument(path, ": plugin table of ", api->struct_size, " bytes is too short to hold its ABI version");
  if (api->abi_major != PJIT_ABI_MAJOR)
    return InvalidArgument(path, ": plugin ABI ", api->abi_major, ".", api->abi_minor, ", this pjit speaks ", PJIT_ABI_MAJOR, ".x");
  if (api->struct_size < PJIT_API_STRUCT_SIZE_CORE)
    return InvalidArgument(path, ": plugin table of ", api->struct_size, " bytes is shorter than the ABI's core (",
                           PJIT_API_STRUCT_SIZE_CORE, ")");
  std::memcpy(&plugin->api_, api, std::min(api->struct_size, sizeof(PJIT_Api)));
  plugin->api_.struct_size = std::min(api->struct_size, sizeof(PJIT_Api));
  const PJIT_Api& a = plugin->api_;
  bool complete = a.error_destroy && a.error_code && a.error_message && a.client_create && a.client_destroy &&
                  a.client_devices && a.device_describe && a.buffer_from_host && a.buffer_describe && a.buffer_to_host &&
                  a.buffer_destroy && a.executable_load && a.executable_execute && a.executable_destroy && a.event_await &&
                  a.event_destroy;
  if (!complete) return InvalidArgument(path, ": plugin table lacks a core function");
  return plugin;
}

Plugin::~Plugin() {
  if (handle_) dlclose(handle_);
}

Status Plugin::Check(PJIT_Error* error) const {
  if (!error) return OkStatus();
  Status s = FromCode(api_.error_code(error), api_.error_message(error));
  api_.error_destroy(error);
  return s;
}

}  // namespace pjit
