// The SIGBUS guard on bare regions (region_guard.hpp): a truncated region reads zeros and says
// so; a SIGBUS that is not about one of our regions still ends the process as it always did.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "tests/support/channels.hpp"
#include "transports/shm/region.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {
namespace {

std::string unique_name() { return testing::unique_name("ipcmark-test-", "guard-"); }

std::size_t page() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// What a hostile peer does, with a descriptor of its own.
void truncate_object(const std::string& name, off_t size) {
  const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, size), 0);
  ::close(fd);
}

// A read the compiler must perform.
std::byte read_at(const SharedRegion& region, std::size_t offset) {
  return *static_cast<const volatile std::byte*>(region.bytes().data() + offset);
}

TEST(RegionGuard, TouchingATruncatedRegionReadsZerosAndFlagsItInsteadOfRaisingSigbus) {
  const std::string name = unique_name();
  SharedRegion region = SharedRegion::create(name, 4 * page());
  SharedRegion bystander = SharedRegion::create(unique_name(), page());
  std::memset(region.bytes().data(), 0xab, region.size());
  truncate_object(name, static_cast<off_t>(page()));
  EXPECT_FALSE(region.truncated()) << "nothing has touched the lost pages yet";
  EXPECT_EQ(read_at(region, 0), std::byte{0xab}) << "the first page is still there";

  EXPECT_EQ(read_at(region, 3 * page()), std::byte{0}) << "a lost page reads zeros";
  EXPECT_TRUE(region.truncated());
  EXPECT_EQ(read_at(region, 0), std::byte{0}) << "the whole mapping is replaced, not just the lost pages";
  region.bytes()[3 * page()] = std::byte{1};  // writable, and goes nowhere
  EXPECT_EQ(read_at(region, 3 * page()), std::byte{1});
  EXPECT_TRUE(region_truncated(region.bytes().data() + 5));
  EXPECT_TRUE(region_truncated(region.bytes().data() + region.size() - 1));

  EXPECT_FALSE(bystander.truncated());
  EXPECT_FALSE(region_truncated(bystander.bytes().data()));
  const int local = 0;
  EXPECT_FALSE(region_truncated(&local)) << "no region there";
}

TEST(RegionGuard, TheFlagFollowsAMovedRegionAndTheOpenersMappingIsGuardedToo) {
  const std::string name = unique_name();
  const SharedRegion created = SharedRegion::create(name, 2 * page());
  SharedRegion opened = SharedRegion::open(name, 2 * page());
  const SharedRegion moved = std::move(opened);
  truncate_object(name, 0);
  EXPECT_EQ(read_at(moved, page()), std::byte{0});
  EXPECT_TRUE(moved.truncated());
  EXPECT_FALSE(opened.truncated()) << "moved-from: guards nothing";  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(created.truncated()) << "each mapping learns of it when it touches a lost page";
  EXPECT_EQ(read_at(created, 0), std::byte{0});
  EXPECT_TRUE(created.truncated());
}

TEST(RegionGuard, SlotsAreGivenBackAndANewRegionStartsUntruncated) {
  const std::string name = unique_name();
  {
    const SharedRegion region = SharedRegion::create(name, page());
    truncate_object(name, 0);
    EXPECT_EQ(read_at(region, 0), std::byte{0});
    ASSERT_TRUE(region.truncated());
  }
  for (int i = 0; i < 2 * kGuardedMappings; ++i) {
    const SharedRegion region = SharedRegion::create(unique_name(), page());
    ASSERT_FALSE(region.truncated()) << i;
  }
}

TEST(RegionGuard, MoreRegionsAtOnceThanSlotsIsASystemErrorNotAnUnguardedMapping) {
  std::vector<SharedRegion> regions;
  std::string error;
  Errc code = Errc::InvalidArgument;
  try {
    for (int i = 0; i <= kGuardedMappings; ++i) regions.push_back(SharedRegion::create(unique_name(), page()));
  } catch (const Error& e) {
    error = e.what();
    code = e.code();
  }
  EXPECT_EQ(code, Errc::System) << error;
  EXPECT_EQ(error, "cannot guard another shared memory mapping: all " + std::to_string(kGuardedMappings) +
                       " slots are in use");
  EXPECT_LE(regions.size(), static_cast<std::size_t>(kGuardedMappings));
}

// A SIGBUS the guard must leave alone ends the process as before: killed by it, or under ASan
// (whose handler was there before ours, unless handle_sigbus=0) reported by ASan, which exits 1,
// or under TSan reported by TSan, which exits 66.
// (The children's own setup failures exit 3 or 4.) Either way stderr is empty or names the BUS.
constexpr const char* kSigbusReport = "BUS|^$";
bool ended_by_sigbus(int status) {
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGBUS;
#if defined(__SANITIZE_ADDRESS__)
  return WIFEXITED(status) && WEXITSTATUS(status) == 1;
#elif defined(__SANITIZE_THREAD__)
  return WIFEXITED(status) && WEXITSTATUS(status) == 66;  // TSan reports "BUS on unknown address"
#else
  return false;
#endif
}

TEST(RegionGuardDeathTest, AFaultInAMappingThatIsNotARegionStillKills) {
  EXPECT_EXIT(
      {
        const std::string name = unique_name();
        const SharedRegion region = SharedRegion::create(name, page());  // the guard is installed
        SharedRegion::remove(name);  // this child dies without destructors: leave no name behind
        const int fd = ::memfd_create("not-a-region", MFD_CLOEXEC);
        if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(2 * page())) != 0) ::_exit(3);
        void* p = ::mmap(nullptr, 2 * page(), PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED || ::ftruncate(fd, 0) != 0) ::_exit(4);
        [[maybe_unused]] const char c = *static_cast<volatile const char*>(p);
        ::_exit(0);
      },
      ended_by_sigbus, kSigbusReport);
}

TEST(RegionGuardDeathTest, ASigbusSentByKillIsNotTakenForATruncation) {
  EXPECT_EXIT(
      {
        const std::string name = unique_name();
        const SharedRegion region = SharedRegion::create(name, page());
        SharedRegion::remove(name);
        ::kill(::getpid(), SIGBUS);
        ::_exit(0);
      },
      ended_by_sigbus, kSigbusReport);
}

}  // namespace
}  // namespace ipcmark::shm
