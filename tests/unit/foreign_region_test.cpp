// Regions someone else put in /dev/shm first: another user's object, ours left open to others.
// An opener maps only an object owned by its effective uid with no group/other access, and
// says who owns what it refused. Every test removes what it planted.
//
// Run as root, the tests plant objects of uid 65534 (nobody) by fchown: root bypasses permission
// checks, so the refusal must come from the owner check itself.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/shm/region.hpp"
#include "transports/shm/shm.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

std::string unique_name() { return testing::unique_name("ipcmark-test-", "foreign-"); }

using testing::error_from;

// Unlinks the name on the way out, whoever made it.
struct Planted {
  std::string name;
  ~Planted() { ::shm_unlink(("/" + name).c_str()); }
};

// Makes /dev/shm/<name> as another process would, with this owner and mode.
void plant(const std::string& name, uid_t uid, mode_t mode, off_t size) {
  const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(::ftruncate(fd, size), 0);
  EXPECT_EQ(::fchown(fd, uid, static_cast<gid_t>(-1)), 0) << std::strerror(errno);
  EXPECT_EQ(::fchmod(fd, mode), 0);
  ::close(fd);
}

// Gives an existing object another owner and mode.
void hand_over(const std::string& name, uid_t uid, mode_t mode) {
  const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CLOEXEC, 0);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(::fchown(fd, uid, static_cast<gid_t>(-1)), 0) << std::strerror(errno);
  EXPECT_EQ(::fchmod(fd, mode), 0);
  ::close(fd);
}

std::string refusal(const std::string& name, uid_t owner, const char* mode) {
  return "shared memory channel '" + name + "' (/dev/shm/" + name + ") is owned by uid " + std::to_string(owner) +
         " with mode " + mode + ", not by us (uid " + std::to_string(::geteuid()) +
         ") with mode 0600: refusing to map it; remove it with `ipcmark clean --channel " + name + "`";
}

ChannelConfig config(const std::string& name) { return ChannelConfig{name, 1000, WaitKind::Block}; }

TEST(ForeignRegion, ObjectOfAnotherUserIsRefusedNamingItsOwnerAndMode) {
  if (::geteuid() == kNobody) GTEST_SKIP() << "runs as uid 65534 itself";
  const Planted planted{unique_name()};
  plant(planted.name, kNobody, 0644, 4096);
  const Error e = error_from([&] { SharedRegion::open(planted.name, SharedRegion::largest_possible()); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()), refusal(planted.name, kNobody, "0644"));
}

TEST(ForeignRegion, ObjectOfAnotherUserIsRefusedEvenWithModeSixHundred) {
  if (::geteuid() == kNobody) GTEST_SKIP() << "runs as uid 65534 itself";
  const Planted planted{unique_name()};
  plant(planted.name, kNobody, 0600, 4096);
  const Error e = error_from([&] { SharedRegion::open(planted.name, SharedRegion::largest_possible()); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()), refusal(planted.name, kNobody, "0600"));
}

TEST(ForeignRegion, OurObjectThatOthersMayOpenIsRefused) {
  for (const mode_t mode : {0640, 0606, 0660, 0666}) {
    const Planted planted{unique_name()};
    plant(planted.name, ::geteuid(), mode, 4096);
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    const Error e = error_from([&] { SharedRegion::open(planted.name, SharedRegion::largest_possible()); });
    EXPECT_EQ(e.code(), Errc::Corrupt) << text;
    EXPECT_EQ(std::string(e.what()), refusal(planted.name, ::geteuid(), text));
  }
}

TEST(ForeignRegion, OurOwnObjectWithoutGroupOrOtherAccessOpens) {
  for (const mode_t mode : {0600, 0400, 0700}) {
    const Planted planted{unique_name()};
    plant(planted.name, ::geteuid(), mode, 4096);
    EXPECT_EQ(SharedRegion::open(planted.name, SharedRegion::largest_possible()).size(), 4096u) << mode;
  }
}

// The real transport: a channel served by us, then handed to another user before the client comes.
TEST(ForeignRegion, ClientRefusesAChannelNowOwnedByAnotherUser) {
  if (::geteuid() == kNobody) GTEST_SKIP() << "runs as uid 65534 itself";
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name));
  hand_over(name, kNobody, 0644);
  const Error e = error_from([&] { shm_transport().channel.connect(config(name)); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()), refusal(name, kNobody, "0644"));
}

TEST(ForeignRegion, SeedReaderRefusesAnotherUsersText) {
  if (::geteuid() == kNobody) GTEST_SKIP() << "runs as uid 65534 itself";
  const std::string name = unique_name();
  const std::string text = "The world is going down.";
  auto publication = shm_transport().seed.publish(name, 100, std::as_bytes(std::span(text)), false);
  hand_over(name, kNobody, 0644);
  const Error e = error_from([&] { shm_transport().seed.fetch(name, Clock::now() + 1s); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()), refusal(name, kNobody, "0644"));
}

TEST(ForeignRegion, FanoutReaderRefusesARegionNowOwnedByAnotherUser) {
  if (::geteuid() == kNobody) GTEST_SKIP() << "runs as uid 65534 itself";
  const std::string channel = unique_name();
  auto writer = shm_transport().fanout->serve(FanoutConfig{config(channel), 1, false});
  const std::string region = channel + ".fan";
  hand_over(region, kNobody, 0600);
  const Error e = error_from([&] { shm_transport().fanout->connect(config(channel), 0); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()), refusal(region, kNobody, "0600"));
}

// Not root: the kernel refuses another user's 0600 object at shm_open (EACCES) before we can
// fstat it; the refusal still names its owner and mode, and is Corrupt like the others.
TEST(ForeignRegion, AnUnprivilegedOpenerRefusedByTheKernelGetsTheSameOneLine) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to plant an object of another user and to drop to uid 65534";
  const Planted planted{unique_name()};
  plant(planted.name, 0, 0600, 4096);
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    std::string outcome = "no error";
    if (::seteuid(kNobody) != 0) ::_exit(3);
    try {
      SharedRegion::open(planted.name, SharedRegion::largest_possible());
    } catch (const Error& e) {
      outcome = std::string(e.code() == Errc::Corrupt ? "Corrupt: " : "other: ") + e.what();
    }
    const bool written = ::write(report[1], outcome.data(), outcome.size()) == static_cast<ssize_t>(outcome.size());
    ::_exit(written ? 0 : 4);
  }
  ::close(report[1]);
  std::string outcome;
  char buffer[512];
  for (ssize_t n; (n = ::read(report[0], buffer, sizeof buffer)) > 0;)
    outcome.append(buffer, static_cast<std::size_t>(n));
  ::close(report[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_EQ(outcome, "Corrupt: shared memory channel '" + planted.name + "' (/dev/shm/" + planted.name +
                         ") is owned by uid 0 with mode 0600, not by us (uid 65534) with mode 0600: refusing to "
                         "map it; its owner or root must remove it: `ipcmark clean --channel " + planted.name + "`");
}

// ---- a size nobody could have made honestly --------------------------------------------------
// 1 TB, sparse on tmpfs: no page is allocated unless something touches (or populates) it. Before
// the bound, the opener's MAP_POPULATE faulted it in until /dev/shm or memory ran out.

constexpr off_t kTerabyte = off_t{1} << 40;

blkcnt_t blocks_of(const std::string& name) {
  struct stat st {};
  if (::stat(("/dev/shm/" + name).c_str(), &st) != 0) return -1;
  return st.st_blocks;
}

std::string too_big(const std::string& name) {
  return "shared memory channel '" + name + "' (/dev/shm/" + name + ") is " + std::to_string(kTerabyte) +
         " bytes, more than the ";
}

TEST(ForeignRegion, OpenRefusesAnObjectLargerThanTheCallersLimitAndMapsOneThatFits) {
  const Planted planted{unique_name()};
  plant(planted.name, ::geteuid(), 0600, 8192);
  const Error e = error_from([&] { SharedRegion::open(planted.name, 8191); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()), "shared memory channel '" + planted.name + "' (/dev/shm/" + planted.name +
                                       ") is 8192 bytes, more than the 8191 bytes a channel can be: refusing to map "
                                       "it; remove it with `ipcmark clean --channel " + planted.name + "`");
  EXPECT_EQ(SharedRegion::open(planted.name, 8192).size(), 8192u);
}

TEST(ForeignRegion, ClientRefusesAHugeChannelWithoutPopulatingIt) {
  const Planted planted{unique_name()};
  plant(planted.name, ::geteuid(), 0600, kTerabyte);
  const Error e = error_from([&] { shm_transport().channel.connect(config(planted.name)); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()).rfind(too_big(planted.name), 0), 0u) << e.what();
  EXPECT_NE(std::string(e.what()).find("refusing to map it"), std::string::npos) << e.what();
  EXPECT_EQ(blocks_of(planted.name), 0) << "not one page of it may be populated";
}

TEST(ForeignRegion, FanoutReaderRefusesAHugeRegionWithoutPopulatingIt) {
  const std::string channel = unique_name();
  const Planted planted{channel + ".fan"};
  plant(planted.name, ::geteuid(), 0600, kTerabyte);
  const Error e = error_from([&] { shm_transport().fanout->connect(config(channel), 0); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()).rfind(too_big(planted.name), 0), 0u) << e.what();
  EXPECT_EQ(blocks_of(planted.name), 0) << "not one page of it may be populated";
}

TEST(ForeignRegion, SeedReaderRefusesARegionLargerThanDevShmWithoutPopulatingIt) {
  const Planted planted{unique_name()};
  plant(planted.name, ::geteuid(), 0600, kTerabyte);
  const Error e = error_from([&] { shm_transport().seed.fetch(planted.name, Clock::now() + 1s); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_EQ(std::string(e.what()).rfind(too_big(planted.name), 0), 0u) << e.what();
  EXPECT_EQ(blocks_of(planted.name), 0) << "not one page of it may be populated";
}

}  // namespace
}  // namespace ipcmark::shm
