#include "format/file_util.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pjit {
namespace {

// Closes a file descriptor when it goes.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Opens `path` for reading: a regular file or a pipe, nothing else.
StatusOr<int> OpenForReading(const std::string& path, struct stat& st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '", path, "': ", std::strerror(errno));
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
    bool dir = S_ISDIR(st.st_mode);
    ::close(fd);
    if (dir) return IoError("'", path, "' is a directory, not a file");
    return IoError("'", path, "' is not a regular file");
  }
  return fd;
}

// Reads until end of file or `limit` bytes; a pipe that holds more than kMaxPipeBytes is an error.
StatusOr<std::string> ReadUpTo(const std::string& path, size_t limit) {
  struct stat st;
  PJIT_ASSIGN_OR_RETURN(int raw, OpenForReading(path, st));
  Fd fd{raw};
  const bool pipe = S_ISFIFO(st.st_mode);
  std::string out;
  if (!pipe) out.reserve(std::min(limit, static_cast<size_t>(st.st_size)));
  char buf[1 << 16];
  while (out.size() < limit) {
    ssize_t n = ::read(fd.fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read '", path, "': ", std::strerror(errno));
    if (n == 0) break;
    if (pipe && out.size() + static_cast<size_t>(n) > kMaxPipeBytes)
      return IoError("'", path, "' holds more than ", kMaxPipeBytes >> 20, " MiB; read it from a regular file");
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Temporary files being written, for the signal handler to remove. A slot is free (0), being
// filled (1) or names a live file (2); the handler reads only live slots.
struct TemporarySlot {
  std::atomic<int> state{0};
  char path[4096];
};
std::array<TemporarySlot, 64> temporaries;
constexpr std::array<int, 3> kCleanupSignals = {SIGINT, SIGTERM, SIGHUP};

void RemoveTemporariesAndDie(int sig) {
  for (TemporarySlot& s : temporaries)
    if (s.state.load() == 2) ::unlink(s.path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Installs the handler for each signal still at its default action (a program that embeds
// pjit keeps its own).
void InstallCleanupHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : kCleanupSignals) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
      struct sigaction act {};
      act.sa_handler = RemoveTemporariesAndDie;
      sigemptyset(&act.sa_mask);
      ::sigaction(sig, &act, nullptr);
    }
  });
}

// Holds a slot naming `path` while it lives; without a free slot the file is simply not
// cleaned up on a signal.
class TemporaryRegistration {
 public:
  explicit TemporaryRegistration(const std::string& path) {
    if (path.size() >= sizeof(TemporarySlot::path)) return;
    for (TemporarySlot& s : temporaries) {
      int free = 0;
      if (!s.state.compare_exchange_strong(free, 1)) continue;
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      s.state.store(2);
      slot_ = &s;
      return;
    }
  }
  ~TemporaryRegistration() {
    if (slot_) slot_->state.store(0);
  }
  TemporaryRegistration(const TemporaryRegistration&) = delete;
  TemporaryRegistration& operator=(const TemporaryRegistration&) = delete;

 private:
  TemporarySlot* slot_ = nullptr;
};

// Creates "<path>.tmp.<pid>.<n>" with mode 0666 less the umask (mkstemp would give 0600).
StatusOr<int> CreateTemporary(const std::string& path, std::string& tmp) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) break;
  }
  return IoError("cannot create '", path, "': ", std::strerror(errno));
}

}  // namespace

StatusOr<TemporaryDirectory> TemporaryDirectory::Create(const std::string& what) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("pjit-" + what + "-XXXXXX")).string();
  if (!mkdtemp(pattern.data())) return IoError("cannot create a temporary directory for ", what, ": ", std::strerror(errno));
  return TemporaryDirectory(pattern);
}

TemporaryDirectory::~TemporaryDirectory() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

StatusOr<std::string> ReadFileToString(const std::string& path) { return ReadUpTo(path, SIZE_MAX); }

StatusOr<std::string> ReadFilePrefix(const std::string& path, size_t n) { return ReadUpTo(path, n); }

Status WriteFileAtomically(const std::string& path, std::initializer_list<std::string_view> pieces) {
  InstallCleanupHandlers();
  // The cleanup signals wait while the file is created and registered, so that none finds it
  // created but not yet registered.
  sigset_t cleanup, before;
  sigemptyset(&cleanup);
  for (int sig : kCleanupSignals) sigaddset(&cleanup, sig);
  pthread_sigmask(SIG_BLOCK, &cleanup, &before);
  std::string tmp;
  StatusOr<int> raw = CreateTemporary(path, tmp);
  std::optional<TemporaryRegistration> registered;
  if (raw.ok()) registered.emplace(tmp);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (!raw.ok()) return raw.status();
  Fd fd{*raw};
  auto fail = [&](int err) {
    ::unlink(tmp.c_str());
    return IoError("cannot write '", path, "': ", std::strerror(err));
  };
  for (std::string_view piece : pieces) {
    const char* p = piece.data();
    size_t left = piece.size();
    while (left > 0) {
      ssize_t n = ::write(fd.fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno);
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  // A file replaced keeps its permissions.
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) ::fchmod(fd.fd, existing.st_mode & 07777);
  int closed = ::close(fd.fd);
  fd.fd = -1;
  if (closed != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) return fail(errno);
  return OkStatus();
}

bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace pjit
