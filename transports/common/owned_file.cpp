// transports/common/owned_file.cpp — see owned_file.hpp.
#include "transports/common/owned_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "transports/transport.hpp"

namespace ipcmark {

OwnedFile::OwnedFile(std::string path) : path_(std::move(path)) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) != 0) throw_system_error("cannot inspect " + path_);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

OwnedFile::OwnedFile(OwnedFile&& other) noexcept
    : path_(std::exchange(other.path_, {})), dev_(other.dev_), ino_(other.ino_) {}

OwnedFile& OwnedFile::operator=(OwnedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::exchange(other.path_, {});
    dev_ = other.dev_;
    ino_ = other.ino_;
  }
  return *this;
}

void OwnedFile::release() noexcept {
  if (path_.empty()) return;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace ipcmark
