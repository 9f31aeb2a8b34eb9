// transports/common/owned_file.hpp — a name on disk (socket file, port file) this process created.
#pragma once

#include <sys/types.h>

#include <string>

namespace ipcmark {

// Removed on destruction only if it is still the same file (same device and inode): a server
// started with --replace may have taken the name over, and its file must survive our exit.
class OwnedFile {
 public:
  OwnedFile() = default;
  // Records the file at `path` as it is now; Error{System} if it cannot be inspected.
  explicit OwnedFile(std::string path);
  OwnedFile(OwnedFile&& other) noexcept;
  OwnedFile& operator=(OwnedFile&& other) noexcept;
  OwnedFile(const OwnedFile&) = delete;
  ~OwnedFile() { release(); }
  void release() noexcept;

 private:
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace ipcmark
